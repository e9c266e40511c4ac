"""Dispute pages under /disputes/."""

from django.urls import path

from . import views

app_name = "disputes"

urlpatterns = [
    # Parties.
    path("", views.my_cases, name="my_cases"),
    path("orders/<int:order_pk>/new/", views.file_from_order, name="file"),
    path("posts/<int:post_pk>/report/", views.report_post, name="report_post"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("<int:pk>/agreements/<int:agreement_pk>/code/", views.agreement_code, name="agreement_code"),
    path("<int:pk>/agreements/<int:agreement_pk>/sign/", views.agreement_sign, name="agreement_sign"),
    path("<int:pk>/agreements/<int:agreement_pk>/reject/", views.agreement_reject, name="agreement_reject"),
    path("<int:pk>/agreements/<int:agreement_pk>/pdf/", views.agreement_pdf, name="agreement_pdf"),
    path("<int:pk>/extensions/<int:extension_pk>/code/", views.extension_code, name="extension_code"),
    path("<int:pk>/extensions/<int:extension_pk>/agree/", views.extension_agree, name="extension_agree"),
    path("<int:pk>/extensions/<int:extension_pk>/reject/", views.extension_reject, name="extension_reject"),
    path("<int:pk>/recoveries/<int:recovery_pk>/receipt/", views.recovery_receipt, name="recovery_receipt"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    # The mediator's workspace and the staff's queue share the case page.
    path("mediator/", views.mediator_cases, name="mediator_cases"),
    path("staff/", views.staff_cases, name="staff_cases"),
    path("staff/oral/", views.staff_oral, name="staff_oral"),
    path("desk/<int:pk>/", views.desk_case, name="desk_case"),
    path("desk/<int:pk>/accept/", views.desk_accept, name="desk_accept"),
    path("desk/<int:pk>/assign/", views.desk_assign, name="desk_assign"),
    path("desk/<int:pk>/decline/", views.desk_decline, name="desk_decline"),
    path("desk/<int:pk>/review/", views.desk_review, name="desk_review"),
    path("desk/<int:pk>/start/", views.desk_start, name="desk_start"),
    path("desk/<int:pk>/sessions/", views.desk_session, name="desk_session"),
    path("desk/<int:pk>/sessions/<int:session_pk>/", views.desk_minutes, name="desk_minutes"),
    path("desk/<int:pk>/notes/", views.desk_note, name="desk_note"),
    path("desk/<int:pk>/messages/", views.desk_message, name="desk_message"),
    path("desk/<int:pk>/agreements/", views.desk_agreement, name="desk_agreement"),
    path(
        "desk/<int:pk>/agreements/<int:agreement_pk>/sign/",
        views.desk_agreement_sign,
        name="desk_agreement_sign",
    ),
    path("desk/<int:pk>/extension/", views.desk_extension, name="desk_extension"),
    path("desk/<int:pk>/recoveries/", views.desk_recovery, name="desk_recovery"),
    path("desk/<int:pk>/fail/", views.desk_fail, name="desk_fail"),
    path("desk/<int:pk>/close/", views.desk_close, name="desk_close"),
    path("desk/<int:pk>/transfer/", views.desk_transfer, name="desk_transfer"),
    path("desk/<int:pk>/evidence/", views.desk_evidence, name="desk_evidence"),
    path("desk/<int:pk>/unmask/", views.desk_unmask, name="desk_unmask"),
]
