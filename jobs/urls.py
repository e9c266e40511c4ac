"""Jobs pages, mounted at /jobs/: the board and post pages, a worker's orders, an employer's posts and
orders, and the staff page for posting on behalf of a walk-in employer."""

from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    # the board and a post, for everyone
    path("", views.board, name="board"),
    path("<int:pk>/", views.post_detail, name="post_detail"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    # a worker's claims and orders
    path("me/", views.my_orders, name="my_orders"),
    path("me/claims/<int:pk>/", views.claim_status, name="claim_status"),
    path("me/claims/<int:pk>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    # one order, for its worker and its employer's members
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/check-in/", views.order_check_in, name="order_check_in"),
    path("orders/<int:pk>/check-out/", views.order_check_out, name="order_check_out"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("orders/<int:pk>/rate/", views.order_rate, name="order_rate"),
    path("orders/<int:pk>/block/", views.order_block, name="order_block"),
    path("orders/<int:pk>/contract/", views.contract_detail, name="contract"),
    path("orders/<int:pk>/contract/code/", views.contract_code, name="contract_code"),
    path("orders/<int:pk>/contract/sign/", views.contract_sign, name="contract_sign"),
    path("orders/<int:pk>/contract.pdf", views.contract_pdf, name="contract_pdf"),
    # an employer's posts, applicants and orders
    path("employer/posts/", views.my_posts, name="my_posts"),
    path("employer/posts/new/", views.post_create, name="post_create"),
    path("employer/posts/<int:pk>/", views.post_manage, name="post_manage"),
    path("employer/posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("employer/posts/<int:pk>/publish/", views.post_publish, name="post_publish"),
    path("employer/posts/<int:pk>/close/", views.post_close, name="post_close"),
    path("employer/posts/<int:pk>/cancel/", views.post_cancel, name="post_cancel"),
    path("employer/posts/<int:pk>/claims/<int:claim_pk>/accept/", views.claim_accept, name="claim_accept"),
    path("employer/posts/<int:pk>/claims/<int:claim_pk>/reject/", views.claim_reject, name="claim_reject"),
    path("employer/orders/", views.employer_orders, name="employer_orders"),
    # hall staff
    path("staff/post/", views.post_on_behalf, name="post_on_behalf"),
]
