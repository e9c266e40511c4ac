from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("settings/", views.preferences, name="preferences"),
    path("push/<int:pk>/off/", views.push_off, name="push_off"),
    path("sms/inbound/<str:token>/", views.sms_inbound, name="sms_inbound"),
]
