"""Live events' polling fallback, mounted at /live/ (the streams themselves are at /events/, gigmarket/asgi.py)."""

from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("poll/me", views.poll_me, name="poll_me"),
    path("poll/slots", views.poll_slots, name="poll_slots"),
]
