"""Notifications API routes, mounted under /api/v1/ in the "api" namespace."""

from django.urls import path

from . import api

urlpatterns = [
    path("notifications/", api.MessageListView.as_view(), name="notification-list"),
    path("notifications/unread-count/", api.UnreadCountView.as_view(), name="notification-unread-count"),
    path("notifications/read-all/", api.MarkAllReadView.as_view(), name="notification-read-all"),
    path("notifications/<int:pk>/read/", api.MarkReadView.as_view(), name="notification-read"),
    path("notifications/preferences/", api.PreferenceView.as_view(), name="notification-preferences"),
    path("notifications/push/", api.PushStatusView.as_view(), name="notification-push"),
    path(
        "notifications/push/subscriptions/",
        api.PushSubscribeView.as_view(),
        name="notification-push-subscribe",
    ),
    path(
        "notifications/push/subscriptions/<int:pk>/",
        api.PushSubscriptionDetailView.as_view(),
        name="notification-push-subscription",
    ),
]
