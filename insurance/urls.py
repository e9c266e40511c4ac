"""Insurance pages, mounted at /insurance/: an order's policy, 报案, claims and their documents."""

from django.urls import path

from . import views

app_name = "insurance"
urlpatterns = [
    path("orders/<int:order_pk>/policy/", views.policy_detail, name="policy"),
    path("orders/<int:order_pk>/claims/new/", views.claim_create, name="claim_create"),
    path("claims/", views.my_claims, name="my_claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/documents/<int:doc_pk>/", views.claim_document, name="claim_document"),
    path("insurer/callbacks/", views.insurer_callback, name="insurer_callback"),
]
