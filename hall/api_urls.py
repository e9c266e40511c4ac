"""Hall API routes under /api/v1/: the token-protected open-data export."""

from django.urls import path

from . import api

urlpatterns = [
    path("open-data/<str:dataset>/", api.open_data, name="open-data"),
]
