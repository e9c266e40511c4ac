import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from disputes import services
from disputes.models import Agreement, Case, Evidence
from jobs.models import Order
from tests.disputes.conftest import PAY, pdf_file, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(order, worker):
    return services.case_file(actor=worker, order=order, category="wage_arrears",
                              description="干完活老板不给钱，电话不接", amount_claimed_fen=PAY)  # fmt: skip


@pytest.fixture
def mediating(case, case_staff, mediator):
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    services.session_schedule(
        case=case, actor=mediator, starts_at=timezone.now() + dt.timedelta(days=1), room="二楼调解室"
    )
    services.note_add(case=case, actor=mediator, text="机密：雇主资金紧张，可先付一半")
    services.case_message(case=case, actor=mediator, text="请带上考勤记录", to="employer")
    case.refresh_from_db()
    return case


def test_worker_files_from_the_order_page(client, order, worker):
    client.force_login(worker)
    url = reverse("disputes:file", args=[order.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"category": "wage_arrears", "amount_claimed": "200", "description": "干完活老板不给钱",
                                 "evidence": png()})  # fmt: skip
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("disputes:case", args=[case.pk])
    assert case.amount_claimed_fen == PAY and Evidence.objects.filter(case=case).count() == 1
    page = client.get(response["Location"])
    assert "已申请" in page.content.decode() and "欠条.png" in page.content.decode()


def test_filing_errors_show_on_the_fields(client, order, worker):
    client.force_login(worker)
    url = reverse("disputes:file", args=[order.pk])
    bad = _bytes_upload("证据.png", b"not an image at all")
    response = client.post(
        url, {"category": "wage_arrears", "amount_claimed": "-5", "description": "短", "evidence": bad}
    )
    assert response.status_code == 400 and "amount_claimed" in response.context["form"].errors
    response = client.post(url, {"category": "wage_arrears", "amount_claimed": "200", "description": "短"})
    assert response.status_code == 400 and "description" in response.context["form"].errors
    response = client.post(url, {"category": "wage_arrears", "amount_claimed": "200", "description": "干完活老板不给钱",
                                 "evidence": bad})  # fmt: skip
    assert response.status_code == 400 and "evidence" in response.context["form"].errors
    assert not Case.objects.exists() and Order.objects.get(pk=order.pk).status == "checked_out"


def _bytes_upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_someone_elses_order_and_case_are_404(client, order, case, worker2):
    client.force_login(worker2)
    assert client.get(reverse("disputes:file", args=[order.pk])).status_code == 404
    assert client.post(reverse("disputes:file", args=[order.pk]), {"category": "other"}).status_code == 404
    assert client.get(reverse("disputes:case", args=[case.pk])).status_code == 404
    assert (
        client.post(reverse("disputes:evidence_upload", args=[case.pk]), {"file": png()}).status_code == 404
    )
    assert client.get(reverse("disputes:desk_case", args=[case.pk])).status_code == 404
    assert case.pk not in [c.pk for c in client.get(reverse("disputes:my_cases")).context["cases"]]


def test_parties_never_see_private_notes_or_the_others_messages(client, mediating, worker, boss, mediator):
    client.force_login(worker)
    worker_page = client.get(reverse("disputes:case", args=[mediating.pk])).content.decode()
    assert "二楼调解室" in worker_page  # the next session
    assert "机密" not in worker_page and "考勤记录" not in worker_page  # note; message to the employer only
    client.force_login(boss)
    boss_page = client.get(reverse("disputes:case", args=[mediating.pk])).content.decode()
    assert "机密" not in boss_page and "请带上考勤记录" in boss_page
    client.force_login(mediator)
    desk = client.get(reverse("disputes:desk_case", args=[mediating.pk])).content.decode()
    assert "机密" in desk and "请带上考勤记录" in desk
    assert "赵洪亮" not in desk and "赵**" in desk and "136****0001" in desk  # masked without the permission


def test_a_mediator_sees_only_assigned_cases(client, mediating, mediator2, mediator):
    client.force_login(mediator2)
    assert client.get(reverse("disputes:desk_case", args=[mediating.pk])).status_code == 404
    response = client.post(reverse("disputes:desk_note", args=[mediating.pk]), {"text": "偷看"})
    assert response.status_code == 404
    assert not client.get(reverse("disputes:mediator_cases")).context["open_rows"]
    client.force_login(mediator)
    rows = client.get(reverse("disputes:mediator_cases")).context["open_rows"]
    assert [r["case"].pk for r in rows] == [mediating.pk]


def test_unmask_is_audited(client, mediating, mediator, grant):
    from core.models import AuditLog

    client.force_login(grant(mediator, "view_party_contact"))
    page = client.post(reverse("disputes:desk_unmask", args=[mediating.pk])).content.decode()
    assert "13600000001" in page and AuditLog.objects.filter(action="unmask_contact").count() == 1


def test_evidence_files_only_for_parties_mediator_and_staff(client, case, worker, boss, worker2, case_staff,
                                                            mediator, mediator2):  # fmt: skip
    services.evidence_add(case=case, actor=boss, uploads=[pdf_file()])
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    url = reverse("disputes:evidence_file", args=[Evidence.objects.get().pk])
    for user, status in ((worker, 200), (boss, 200), (mediator, 200), (case_staff, 200), (worker2, 404),
                         (mediator2, 404)):  # fmt: skip
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert (
                response["Content-Type"] == "application/pdf"
                and response["Cache-Control"] == "private, no-store"
            )
    client.logout()
    assert client.get(url).status_code == 302
    # Not served as public media either.
    client.force_login(worker)
    assert client.get("/media/" + Evidence.objects.get().file.name).status_code == 404


def test_staff_accept_and_the_queue(client, case, case_staff, mediator, worker):
    from core.console import queues_for

    assert {"key": "disputes_unassigned", "count": 1}.items() <= next(
        q for q in queues_for(case_staff) if q["key"] == "disputes_unassigned"
    ).items()
    client.force_login(case_staff)
    assert case.pk in [
        r["case"].pk for r in client.get(reverse("disputes:staff_cases") + "?status=filed").context["rows"]
    ]
    response = client.post(reverse("disputes:desk_accept", args=[case.pk]), {"mediator": ""})
    assert response.status_code == 400 and "mediator" in response.context["accept_form"].errors
    response = client.post(reverse("disputes:desk_accept", args=[case.pk]), {"mediator": mediator.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "accepted" and case.mediator == mediator
    response = client.post(reverse("disputes:desk_accept", args=[case.pk]), {"mediator": mediator.pk})
    assert (
        response.status_code == 400 and "已受理" in response.content.decode()
    )  # out of order: said, not a 500
    client.force_login(worker)
    assert client.get(reverse("disputes:staff_cases")).status_code == 404


def test_mediator_agreement_form_refuses_bad_amounts(client, mediating, mediator):
    client.force_login(mediator)
    url = reverse("disputes:desk_agreement", args=[mediating.pk])
    base = {
        "facts": "事实",
        "disputed_items": "工资",
        "pay_by": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
    }
    for bad in ({"worker_amount": "-1"}, {"worker_amount": ""},
                {"worker_amount": "100", "term_text": "补贴", "term_amount": "-5"},
                {"worker_amount": "100", "term_text": "补贴", "term_amount": "5"}):  # fmt: skip
        response = client.post(url, {**base, **bad})
        assert response.status_code == 400, bad
    assert not Agreement.objects.exists()
    assert client.post(url, {**base, "worker_amount": "200"}).status_code == 302
    assert Agreement.objects.get().worker_amount_fen == PAY


def test_parties_confirm_by_code_and_the_mediator_signs(client, mediating, worker, boss, mediator, outbox):
    client.force_login(mediator)
    client.post(reverse("disputes:desk_agreement", args=[mediating.pk]),
                {"facts": "事实", "disputed_items": "工资", "worker_amount": "200",
                 "pay_by": (timezone.localdate() + dt.timedelta(days=2)).isoformat()})  # fmt: skip
    agreement = Agreement.objects.get()
    for user in (worker, boss):
        client.force_login(user)
        client.post(reverse("disputes:agreement_code", args=[mediating.pk, agreement.pk]))
        response = client.post(
            reverse("disputes:agreement_sign", args=[mediating.pk, agreement.pk]), {"code": "12"}
        )
        assert response.status_code == 400
        response = client.post(reverse("disputes:agreement_sign", args=[mediating.pk, agreement.pk]),
                               {"code": outbox.code(user.phone)})  # fmt: skip
        assert response.status_code == 302
    client.force_login(mediator)
    assert (
        client.post(reverse("disputes:desk_agreement_sign", args=[mediating.pk, agreement.pk])).status_code
        == 302
    )
    mediating.refresh_from_db()
    assert mediating.status == "agreed" and mediating.recovered_fen == PAY
    client.force_login(worker)
    page = client.get(reverse("disputes:case", args=[mediating.pk])).content.decode()
    assert "追回工资" in page and "200" in page
    pdf = client.get(reverse("disputes:agreement_pdf", args=[mediating.pk, agreement.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_oral_complaint_page(client, case_staff, worker):
    client.force_login(case_staff)
    url = reverse("disputes:staff_oral")
    response = client.post(url, {"complainant_name": "赵洪亮", "complainant_phone": "123", "complainant_side": "worker",
                                 "category": "wage_arrears", "request": "", "description": "短"})  # fmt: skip
    assert response.status_code == 400 and {"complainant_phone", "request"} <= set(
        response.context["form"].errors
    )
    response = client.post(url, {"complainant_name": "赵洪亮", "complainant_phone": "13600000001",
                                 "complainant_side": "worker", "respondent_name": "某装修队", "category": "wage_arrears",
                                 "request": "要回工钱", "description": "在幸福小区干了三天装修", "amount_claimed": "600"})  # fmt: skip
    assert response.status_code == 302
    assert Case.objects.get().worker == worker


def test_report_a_post(client, post, worker2):
    client.force_login(worker2)
    response = client.post(
        reverse("disputes:report_post", args=[post.pk]), {"description": "要先交押金才给活干"}
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == "closed"
    assert client.get(reverse("disputes:report_post", args=[post.pk])).status_code == 404  # no longer showing


def test_out_of_order_buttons_explain_and_change_nothing(client, mediating, mediator):
    client.force_login(mediator)
    response = client.post(reverse("disputes:desk_close", args=[mediating.pk]))
    assert response.status_code == 400 and "调解成功或调解不成后才能结案" in response.content.decode()
    mediating.refresh_from_db()
    assert mediating.status == "mediating"


def test_staff_upload_paper_evidence_and_bad_file(client, case, case_staff):
    client.force_login(case_staff)
    url = reverse("disputes:desk_evidence", args=[case.pk])
    response = client.post(url, {"file": _bytes_upload("考勤.pdf", b"%PDF-1.4 broken")})
    assert response.status_code == 400 and "PDF" in response.content.decode()
    assert client.post(url, {"file": pdf_file(), "note": "纸质考勤表"}).status_code == 302
    assert Evidence.objects.get().side == "mediator"


def test_admin_pages_render(client, case, django_user_model):
    admin = django_user_model.objects.create_superuser("13900000099", "x-Admin-pass-1")
    client.force_login(admin)
    assert client.get(reverse("admin:disputes_case_changelist")).status_code == 200
    assert client.get(reverse("admin:disputes_case_change", args=[case.pk])).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_see_only_their_points_cases(client, case, case_staff, grant):
    from accounts.models import ServicePoint
    from tests.factories import ServicePointFactory, UserFactory

    other_point = ServicePointFactory(kind=ServicePoint.Kind.STREET_MARKET)
    Case.objects.filter(pk=case.pk).update(service_point=other_point)
    case_staff.service_point = ServicePointFactory()  # a village station's staff
    case_staff.save(update_fields=["service_point"])
    client.force_login(case_staff)
    assert client.get(reverse("disputes:desk_case", args=[case.pk])).status_code == 404
    assert client.get(reverse("disputes:staff_cases")).context["rows"] == []
    district_staff = UserFactory(
        phone="13900000077",
        role="staff",
        is_staff=True,
        service_point=ServicePointFactory(kind=ServicePoint.Kind.DISTRICT_MARKET),
    )
    client.force_login(grant(district_staff, "accept_case"))
    assert client.get(reverse("disputes:desk_case", args=[case.pk])).status_code == 200
