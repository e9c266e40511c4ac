"""Outreach pages, mounted at /outreach/."""

from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    # Trainings (workers; the list and details are public).
    path("trainings/", views.course_list, name="course_list"),
    path("trainings/<int:pk>/", views.course_detail, name="course_detail"),
    path("trainings/<int:pk>/signup/", views.course_signup, name="course_signup"),
    path("trainings/mine/", views.my_trainings, name="my_trainings"),
    path("trainings/needs/", views.training_needs, name="training_needs"),
    path("enrollments/<int:pk>/cancel/", views.enrollment_cancel, name="enrollment_cancel"),
    path("enrollments/<int:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("certificates/verify/", views.certificate_verify, name="certificate_verify"),
    # Policy and rights (public).
    path("policies/", views.article_list, name="article_list"),
    path("policies/<int:pk>/", views.article_detail, name="article_detail"),
    # Staff.
    path("staff/followups/", views.staff_followups, name="staff_followups"),
    path("staff/followups/<int:pk>/", views.staff_followup_detail, name="staff_followup_detail"),
    path("staff/trainings/", views.staff_courses, name="staff_courses"),
    path("staff/trainings/<int:pk>/", views.staff_course_detail, name="staff_course_detail"),
    path("staff/enrollments/<int:pk>/attendance/", views.staff_attendance, name="staff_attendance"),
    path("staff/enrollments/<int:pk>/certificate/", views.staff_certificate, name="staff_certificate"),
    path("staff/import/", views.import_upload, name="import_upload"),
    path("staff/import/<int:pk>/", views.import_preview, name="import_preview"),
    path("staff/import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("staff/import/template/<str:kind>.<str:fmt>", views.import_template, name="import_template"),
]
