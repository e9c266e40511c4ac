"""Matching pages, mounted at /matching/."""

from django.urls import path

from . import views

app_name = "matching"

urlpatterns = [
    path("", views.for_you, name="for_you"),
    path("open/<int:post_id>/", views.open_post, name="open_post"),
    path("r/<str:token>/", views.open_link, name="open_link"),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("posts/<int:pk>/workers/", views.post_workers, name="post_workers"),
    path("posts/<int:pk>/workers/<int:worker_id>/invite/", views.invite, name="invite"),
]
