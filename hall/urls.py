"""Hall pages, mounted at /hall/: big screens, kiosks, the staff dashboard."""

from django.urls import path

from . import views

app_name = "hall"

urlpatterns = [
    path("screen/<int:pk>/", views.screen, name="screen"),
    path("screen/<int:pk>/data.json", views.screen_data, name="screen_data"),
    path("kiosk/<int:pk>/", views.kiosk, name="kiosk"),
    path("kiosk/<int:pk>/code/", views.kiosk_code, name="kiosk_code"),
    path("kiosk/<int:pk>/posts/", views.kiosk_posts, name="kiosk_posts"),
    path("kiosk/<int:pk>/posts/<int:post_pk>/", views.kiosk_confirm, name="kiosk_confirm"),
    path("kiosk/<int:pk>/claims/<int:claim_pk>/", views.kiosk_done, name="kiosk_done"),
    path("kiosk/<int:pk>/trainings/<int:course_pk>/", views.kiosk_training, name="kiosk_training"),
    path("kiosk/<int:pk>/end/", views.kiosk_end, name="kiosk_end"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.<str:fmt>", views.dashboard_export, name="dashboard_export"),
]
