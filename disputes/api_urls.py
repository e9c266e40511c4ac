"""Disputes API routes, mounted under /api/v1/ (see gigmarket/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("disputes/cases/", api.CaseListView.as_view(), name="dispute-cases"),
    path("disputes/cases/<int:pk>/", api.CaseDetailView.as_view(), name="dispute-case-detail"),
    path("disputes/cases/<int:pk>/evidence/", api.EvidenceView.as_view(), name="dispute-case-evidence"),
    path(
        "disputes/cases/<int:pk>/agreements/<int:agreement_pk>/code/",
        api.AgreementCodeView.as_view(),
        name="dispute-agreement-code",
    ),
    path(
        "disputes/cases/<int:pk>/agreements/<int:agreement_pk>/sign/",
        api.AgreementSignView.as_view(),
        name="dispute-agreement-sign",
    ),
    path(
        "disputes/cases/<int:pk>/agreements/<int:agreement_pk>/reject/",
        api.AgreementRejectView.as_view(),
        name="dispute-agreement-reject",
    ),
]
