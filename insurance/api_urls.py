"""Insurance API routes, mounted under /api/v1/ in the "api" namespace (see gigmarket/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("orders/<int:pk>/policy/", api.PolicyDocumentView.as_view(), name="order-policy"),
    path("orders/<int:pk>/policy/claims/", api.ClaimReportView.as_view(), name="order-policy-claims"),
    path("me/insurance-claims/", api.MyClaimListView.as_view(), name="me-insurance-claims"),
    path("insurance-claims/<int:pk>/", api.ClaimDetailView.as_view(), name="insurance-claim-detail"),
    path(
        "staff/insurance-claims/<int:pk>/review/",
        api.StaffClaimReviewView.as_view(),
        name="staff-insurance-claim-review",
    ),
    path(
        "staff/insurance-claims/<int:pk>/approve/",
        api.StaffClaimApproveView.as_view(),
        name="staff-insurance-claim-approve",
    ),
    path(
        "staff/insurance-claims/<int:pk>/reject/",
        api.StaffClaimRejectView.as_view(),
        name="staff-insurance-claim-reject",
    ),
    path("staff/insurance/summary/", api.StaffInsuranceSummaryView.as_view(), name="staff-insurance-summary"),
]
