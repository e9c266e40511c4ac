"""Matching API routes, mounted under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path("recommendations/", api.RecommendationListView.as_view(), name="recommendations"),
    path(
        "posts/<int:pk>/recommended-workers/",
        api.RecommendedWorkersView.as_view(),
        name="post-recommended-workers",
    ),
    path("posts/<int:pk>/invitations/", api.InvitationView.as_view(), name="post-invitations"),
]
