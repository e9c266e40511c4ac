"""Outreach API routes, mounted under /api/v1/ in the "api" namespace (see gigmarket/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("courses/", api.CourseListView.as_view(), name="outreach-course-list"),
    path("courses/<int:pk>/", api.CourseDetailView.as_view(), name="outreach-course-detail"),
    path("courses/<int:pk>/enrollments/", api.CourseSignupView.as_view(), name="outreach-course-signup"),
    path("me/trainings/", api.MyTrainingListView.as_view(), name="outreach-my-trainings"),
    path("me/training-needs/", api.MyTrainingNeedsView.as_view(), name="outreach-my-training-needs"),
    path(
        "enrollments/<int:pk>/cancel/", api.EnrollmentCancelView.as_view(), name="outreach-enrollment-cancel"
    ),
    path("articles/", api.ArticleListView.as_view(), name="outreach-article-list"),
    path("articles/<int:pk>/", api.ArticleDetailView.as_view(), name="outreach-article-detail"),
    path("staff/followups/", api.StaffFollowUpListView.as_view(), name="outreach-staff-followups"),
    path("staff/followups/<int:pk>/", api.StaffFollowUpDetailView.as_view(), name="outreach-staff-followup"),
    path(
        "staff/followups/<int:pk>/calls/",
        api.StaffFollowUpCallView.as_view(),
        name="outreach-staff-followup-call",
    ),
]
