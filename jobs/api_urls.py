"""Jobs API routes, mounted under /api/v1/ in the "api" namespace (see gigmarket/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

# The trade catalogue (a public picker list), beside the accounts' catalogues under /api/v1/.
router = SimpleRouter()
router.register("trades", api.TradeViewSet, basename="trade")

urlpatterns = [
    # The public board and what a worker does with a post.
    path("posts/", api.board_endpoint(api.BoardView.as_view()), name="post-list"),
    path("posts/<int:pk>/", api.PostDetailView.as_view(), name="post-detail"),
    path("posts/<int:pk>/claims/", api.PostClaimView.as_view(), name="post-claims"),
    path("me/claims/", api.MyClaimListView.as_view(), name="me-claims"),
    path("me/orders/", api.MyWorkerOrderListView.as_view(), name="me-orders"),
    path("claims/<int:pk>/withdraw/", api.ClaimWithdrawView.as_view(), name="claim-withdraw"),
    # The employer's posts, applicants and orders.
    path("my/posts/", api.MyPostListView.as_view(), name="my-post-list"),
    path("my/posts/<int:pk>/", api.MyPostDetailView.as_view(), name="my-post-detail"),
    path("my/posts/<int:pk>/publish/", api.MyPostPublishView.as_view(), name="my-post-publish"),
    path("my/posts/<int:pk>/close/", api.MyPostCloseView.as_view(), name="my-post-close"),
    path("my/posts/<int:pk>/cancel/", api.MyPostCancelView.as_view(), name="my-post-cancel"),
    path("my/posts/<int:pk>/claims/", api.ApplicantListView.as_view(), name="my-post-claims"),
    path("my/orders/", api.MyEmployerOrderListView.as_view(), name="my-orders"),
    path("claims/<int:pk>/accept/", api.ClaimAcceptView.as_view(), name="claim-accept"),
    path("claims/<int:pk>/reject/", api.ClaimRejectView.as_view(), name="claim-reject"),
    path("employers/<int:pk>/blocks/", api.EmployerBlockListView.as_view(), name="employer-blocks"),
    path("blocks/<int:pk>/", api.BlockDetailView.as_view(), name="block-detail"),
    # Orders, for both parties.
    path("orders/<int:pk>/", api.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<int:pk>/check-in/", api.OrderCheckInView.as_view(), name="order-check-in"),
    path("orders/<int:pk>/check-out/", api.OrderCheckOutView.as_view(), name="order-check-out"),
    path(
        "orders/<int:pk>/confirm-completion/",
        api.OrderConfirmView.as_view(),
        name="order-confirm-completion",
    ),
    path("orders/<int:pk>/cancel/", api.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<int:pk>/ratings/", api.OrderRatingView.as_view(), name="order-ratings"),
    path("orders/<int:pk>/contract/", api.ContractView.as_view(), name="order-contract"),
    path("orders/<int:pk>/contract/code/", api.ContractCodeView.as_view(), name="order-contract-code"),
    path("orders/<int:pk>/contract/sign/", api.ContractSignView.as_view(), name="order-contract-sign"),
    path("orders/<int:pk>/contract.pdf", api.ContractPdfView.as_view(), name="order-contract-pdf"),
    # Hall staff.
    path("staff/posts/", api.StaffPostCreateView.as_view(), name="staff-posts"),
]
urlpatterns += router.urls
