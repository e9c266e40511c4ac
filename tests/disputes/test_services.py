import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from disputes import selectors, services
from disputes.models import Agreement, Case, CaseEvent, Evidence, PrivateNote, Session, Transfer
from jobs import money
from jobs import services as job_services
from jobs.models import Order, OrderEvent, Post
from notifications.models import Message
from tests.disputes.conftest import PAY, at, pdf_file, png
from wallet import ledger

pytestmark = pytest.mark.django_db


def balances(order):
    return {
        "escrow": _bal(ledger.order_escrow(order)),
        "worker": _bal(ledger.worker_account(order.worker)),
        "employer": _bal(ledger.employer_account(order.employer)),
    }


def _bal(account):
    account.refresh_from_db()
    return account.balance_fen


def file_case(order, worker, **kw):
    data = {
        "category": "wage_arrears",
        "description": "干完活老板说下个月再给，电话也不接",
        "amount_claimed_fen": PAY,
    }
    data.update(kw)
    return services.case_file(actor=worker, order=order, **data)


def to_mediating(case, staff, mediator):
    services.case_accept(case=case, actor=staff, mediator=mediator)
    services.session_schedule(case=case, actor=mediator, starts_at=timezone.now() + dt.timedelta(days=1),
                              room="纠纷调解室", attendees="双方当事人")  # fmt: skip
    case.refresh_from_db()
    return case


def propose(case, mediator, amount=PAY, **kw):
    data = {"facts": "工人按约完成一天小工，雇主未确认完工。", "disputed_items": "一天工资200元",
            "worker_amount_fen": amount, "pay_by": timezone.localdate() + dt.timedelta(days=3), "terms": []}  # fmt: skip
    data.update(kw)
    return services.agreement_propose(case=case, actor=mediator, **data)


def sign_all(agreement, worker, boss, mediator, outbox):
    for user in (worker, boss):
        services.agreement_code_send(agreement=agreement, user=user)
        services.agreement_sign(agreement=agreement, user=user, code=outbox.code(user.phone))
    return services.agreement_mediator_sign(agreement=agreement, actor=mediator)


# ------------------------------------------------------------------------------------- happy path


def test_wage_arrears_from_filing_to_closed_with_wages_recovered(
    order, worker, boss, case_staff, mediator, outbox
):
    before = balances(order)
    assert before["escrow"] == PAY
    case = file_case(order, worker, evidence=[png()])
    order.refresh_from_db()
    assert case.status == "filed" and order.status == "disputed"
    assert case.complainant_side == "worker" and case.respondent_name == "马架龙建筑劳务公司"
    assert Evidence.objects.get(case=case).content_type == "image/png"
    assert Message.objects.filter(phone=boss.phone, template="case_filed_against").exists()

    case = to_mediating(case, case_staff, mediator)
    assert case.status == "mediating"
    assert case.deadline_at == case.accepted_at + dt.timedelta(days=15)
    assert Message.objects.filter(phone=worker.phone, template="case_session").exists()

    agreement = propose(
        case, mediator, terms=[{"text": "用工方书面道歉", "amount_fen": 0, "due_on": "2030-01-01"}]
    )
    assert "人民调解协议书" in agreement.body and "200.00 元" in agreement.body
    sign_all(agreement, worker, boss, mediator, outbox)

    case.refresh_from_db()
    order.refresh_from_db()
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.mediator_signed_at
    assert case.status == "agreed" and case.recovered_fen == PAY and case.owed_fen == 0
    assert (
        order.status == "completed" and order.amount_fen == PAY and order.paid_fen == PAY and order.settled_at
    )
    after = balances(order)
    assert after == {"escrow": 0, "worker": before["worker"] + PAY, "employer": before["employer"]}
    assert Message.objects.filter(phone=worker.phone, template="case_agreed").exists()

    services.case_close(case=case, actor=mediator)
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_at
    flow = list(CaseEvent.objects.filter(case=case, kind="status").values_list("from_status", "to_status"))
    assert flow == [("", "filed"), ("filed", "accepted"), ("accepted", "mediating"), ("mediating", "agreed"),
                    ("agreed", "closed")]  # fmt: skip
    order_flow = list(
        OrderEvent.objects.filter(order=order).order_by("pk").values_list("to_status", flat=True)
    )
    assert order_flow[-2:] == ["disputed", "completed"]


def test_agreement_less_than_escrow_returns_the_rest_and_more_charges_the_employer(
    order, worker, boss, case_staff, mediator, outbox
):
    before = balances(order)
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    sign_all(propose(case, mediator, amount=15000), worker, boss, mediator, outbox)
    after = balances(order)
    assert after == {"escrow": 0, "worker": 15000, "employer": before["employer"] + PAY - 15000}
    case.refresh_from_db()
    assert case.recovered_fen == 15000


def test_agreement_above_escrow_draws_on_the_employer_and_records_what_is_owed(
    order, worker, boss, employer, case_staff, mediator, outbox
):
    # Empty the employer's account: only the escrow can pay.
    acct = ledger.employer_account(employer)
    ledger.transfer(key="drain", kind="adjustment", legs=[(acct, -_bal(acct)), (ledger.bank(), _bal(acct))])
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    sign_all(propose(case, mediator, amount=PAY + 5000), worker, boss, mediator, outbox)
    case.refresh_from_db()
    order.refresh_from_db()
    assert (case.recovered_fen, case.owed_fen) == (PAY, 5000)
    assert order.amount_fen == PAY + 5000 and order.paid_fen == PAY and order.settled_at is None
    # Again: keyed, nothing moves twice.
    assert money.order_settle_by_agreement(order=order, to_worker_fen=PAY + 5000,
                                            key=f"case:{case.pk}:agreement:{case.agreements.get().pk}") == (PAY, 5000)  # fmt: skip
    assert _bal(ledger.worker_account(worker)) == PAY


# ------------------------------------------------------------------------------------ escrow hold


def test_escrow_is_held_while_the_case_is_open_and_freed_when_mediation_fails(
    order, worker, boss, case_staff, mediator
):
    case = file_case(order, worker)
    for call in (lambda: money.order_release(order=order), lambda: money.order_refund(order=order)):
        with pytest.raises(NotAllowed) as info:
            call()
        assert info.value.code == "escrow_held"
    with pytest.raises(InvalidTransition):
        job_services.order_confirm_completion(order=order, actor=boss)
    case = to_mediating(case, case_staff, mediator)
    services.case_fail(case=case, actor=mediator, reason="雇主坚持不付")
    order.refresh_from_db()
    assert order.status == "checked_out"  # where it came from
    assert balances(order)["escrow"] == PAY
    job_services.order_confirm_completion(order=order, actor=boss)  # the usual rules apply again
    assert balances(order)["escrow"] == 0


def test_decline_returns_the_order_to_its_status(order, worker, case_staff):
    case = file_case(order, worker)
    services.case_decline(case=case, actor=case_staff, reason="不属于劳动争议")
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == "checked_out" and case.status == "declined" and case.closed_at
    assert Message.objects.filter(phone=worker.phone, template="case_declined").exists()


def test_transfer_to_arbitration_keeps_a_record(order, worker, case_staff, mediator):
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    services.case_fail(case=case, actor=mediator, reason="差距太大")
    transfer = services.case_transfer(case=case, actor=mediator, to="arbitration", organisation="青溪区劳动人事争议仲裁委员会",
                                      note="调解不成，申请人要求仲裁")  # fmt: skip
    case.refresh_from_db()
    assert case.status == "transferred" and Transfer.objects.get(case=case) == transfer
    with pytest.raises(InvalidTransition):
        services.case_close(case=case, actor=mediator)


# -------------------------------------------------------------------------------- refusals: filing


def test_cannot_file_on_someone_elses_order(order, worker2):
    with pytest.raises(NotAllowed):
        file_case(order, worker2)
    order.refresh_from_db()
    assert order.status == "checked_out" and not Case.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"category": "nonsense"}, "category"),
        ({"category": "fake_post"}, "category"),
        ({"description": "短"}, "description"),
        ({"amount_claimed_fen": -100}, "amount_claimed_fen"),
        ({"amount_claimed_fen": None}, "amount_claimed_fen"),  # wage arrears needs an amount
        ({"amount_claimed_fen": "200"}, "amount_claimed_fen"),
    ],
)
def test_bad_complaints_are_refused_on_their_field(order, worker, changes, field):
    with pytest.raises(ValidationError) as info:
        file_case(order, worker, **changes)
    assert field in info.value.message_dict
    order.refresh_from_db()
    assert order.status == "checked_out" and not Case.objects.exists()


def test_quality_complaint_without_amount_is_fine_and_employer_may_file(order, boss):
    case = services.case_file(actor=boss, order=order, category="quality", description="活干得不好，返工两次")
    assert case.complainant_side == "employer" and case.amount_claimed_fen == 0


def test_one_open_case_per_order(order, worker, boss):
    file_case(order, worker)
    with pytest.raises(Conflict):
        services.case_file(actor=boss, order=order, category="quality", description="活干得不好，返工两次")
    assert Case.objects.count() == 1


def test_cancelled_order_cannot_be_disputed(confirmed_order, worker):
    job_services.order_cancel_by_worker(order=confirmed_order, worker=worker)
    with pytest.raises(InvalidTransition):
        file_case(confirmed_order, worker)
    assert not Case.objects.exists()


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize(
    "upload, code",
    [
        (lambda: _upload("欠条.png", b"MZ\x90\x00 this is a program"), "bad_type"),
        (lambda: _upload("欠条.exe", png().read()), "bad_type"),
        (lambda: _upload("欠条.pdf", png().read()), "bad_type"),  # the name says PDF, the bytes say PNG
        (
            lambda: _upload("欠条.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
            "bad_file",
        ),  # PNG header, no image
        (lambda: _upload("欠条.pdf", b"%PDF-1.4 not really"), "bad_file"),
        (lambda: _upload("欠条.gif", b"GIF89a" + b"\x00" * 20), "bad_type"),
    ],
)
def test_bad_evidence_refused_and_nothing_written(order, worker, upload, code):
    with pytest.raises(DomainError) as info:
        file_case(order, worker, evidence=[upload()])
    assert info.value.code == code and info.value.field == "file"
    order.refresh_from_db()
    assert order.status == "checked_out" and not Case.objects.exists() and not Evidence.objects.exists()


def test_evidence_size_cap(order, worker, settings):
    settings.DISPUTES_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(DomainError) as info:
        file_case(order, worker, evidence=[png(size=(200, 200))])
    assert info.value.code == "too_large"
    assert not Case.objects.exists()


def test_evidence_added_later_by_either_party_not_by_others(order, worker, boss, worker2):
    case = file_case(order, worker)
    services.evidence_add(case=case, actor=boss, uploads=[pdf_file()], note="考勤表")
    assert Evidence.objects.get(case=case).side == "employer"
    with pytest.raises(NotAllowed):
        services.evidence_add(case=case, actor=worker2, uploads=[png()])
    assert Evidence.objects.count() == 1


# ----------------------------------------------------------------------------- refusals: workflow


def test_transitions_out_of_order_are_refused(order, worker, boss, case_staff, mediator, outbox):
    case = file_case(order, worker)
    with pytest.raises(InvalidTransition):
        services.case_close(case=case, actor=case_staff)
    case.mediator = mediator  # a mediator named only on the caller's copy is not assigned
    with pytest.raises(NotAllowed):
        services.case_start_mediation(case=case, actor=mediator)
    case = Case.objects.get(pk=case.pk)
    with pytest.raises(InvalidTransition):
        services.case_post_review(case=case, actor=case_staff, upheld=True, note="不是举报")
    case = Case.objects.get(pk=case.pk)
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    with pytest.raises(InvalidTransition):
        services.case_accept(case=Case.objects.get(pk=case.pk), actor=case_staff, mediator=mediator)
    with pytest.raises(InvalidTransition):
        services.case_decline(case=Case.objects.get(pk=case.pk), actor=case_staff, reason="晚了")
    case = Case.objects.get(pk=case.pk)
    services.case_start_mediation(case=case, actor=mediator)
    with pytest.raises(InvalidTransition):
        services.case_start_mediation(case=Case.objects.get(pk=case.pk), actor=mediator)
    agreement = propose(case, mediator)
    with pytest.raises(InvalidTransition, match="双方当事人都确认后"):
        services.agreement_mediator_sign(agreement=agreement, actor=mediator)
    case.refresh_from_db()
    assert case.status == "mediating" and Order.objects.get(pk=order.pk).status == "disputed"
    assert CaseEvent.objects.filter(case=case, kind="status").count() == 3


def test_staff_and_mediator_permissions(order, worker, boss, case_staff, mediator, mediator2, outbox):
    case = file_case(order, worker)
    for intruder in (worker, mediator):
        with pytest.raises(NotAllowed):
            services.case_accept(case=case, actor=intruder, mediator=mediator)
    with pytest.raises(DomainError):  # only a mediator can be assigned
        services.case_accept(case=case, actor=case_staff, mediator=boss)
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    start = timezone.now() + dt.timedelta(days=1)
    for call in (
        lambda: services.session_schedule(case=case, actor=mediator2, starts_at=start, room="调解室"),
        lambda: services.note_add(case=case, actor=mediator2, text="看起来雇主理亏"),
        lambda: services.case_message(case=case, actor=mediator2, text="请带上欠条", to="both"),
        lambda: propose(case, mediator2),
        lambda: services.case_fail(case=case, actor=mediator2, reason="x"),
        lambda: services.case_start_mediation(case=case, actor=worker),
    ):
        with pytest.raises(NotAllowed):
            call()
    assert (
        not Session.objects.exists() and not PrivateNote.objects.exists() and not Agreement.objects.exists()
    )
    services.case_assign(case=case, actor=case_staff, mediator=mediator2)
    services.note_add(case=case, actor=mediator2, text="改派后接手")
    with pytest.raises(NotAllowed):
        services.note_add(case=case, actor=mediator, text="我不再负责")


def test_party_contact_needs_the_permission_and_is_audited(order, worker, case_staff, mediator, grant):
    from core.models import AuditLog

    case = file_case(order, worker)
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    with pytest.raises(NotAllowed):
        services.party_contact(case=case, actor=mediator)
    mediator = grant(mediator, "view_party_contact")
    contact = services.party_contact(case=case, actor=mediator, ip_address="10.0.0.1")
    assert worker.phone in contact["worker"]
    log = AuditLog.objects.get()
    assert log.actor == mediator and log.action == "unmask_contact" and log.target_id == str(case.pk)


# ---------------------------------------------------------------------------------------- agreement


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"worker_amount_fen": -1}, "worker_amount_fen"),
        ({"worker_amount_fen": None}, "worker_amount_fen"),
        ({"worker_amount_fen": 12.5}, "worker_amount_fen"),
        ({"pay_by": None}, "pay_by"),
        ({"pay_by": dt.date(2000, 1, 1)}, "pay_by"),
        ({"facts": ""}, "facts"),
        ({"terms": [{"text": "补贴", "amount_fen": -500, "due_on": "2030-01-01"}]}, "terms"),
        ({"terms": [{"text": "补贴", "due_on": "2030-01-01"}]}, "terms"),
        ({"terms": [{"text": "补贴", "amount_fen": 500}]}, "terms"),
    ],
)
def test_bad_agreements_are_refused(order, worker, case_staff, mediator, changes, field):
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    with pytest.raises(ValidationError) as info:
        propose(case, mediator, **changes)
    assert field in info.value.message_dict
    assert not Agreement.objects.exists()


def test_wrong_code_rejection_and_a_new_draft(order, worker, boss, worker2, case_staff, mediator, outbox):
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    agreement = propose(case, mediator)
    services.agreement_code_send(agreement=agreement, user=worker)
    with pytest.raises(DomainError):
        services.agreement_sign(agreement=agreement, user=worker, code="000000")
    with pytest.raises(NotAllowed):
        services.agreement_code_send(agreement=agreement, user=worker2)
    agreement.refresh_from_db()
    assert agreement.worker_signed_at is None
    services.agreement_reject(agreement=agreement, user=boss, reason="只认150元")
    agreement.refresh_from_db()
    assert agreement.status == "rejected" and Message.objects.filter(phone=mediator.phone,
                                                                     template="agreement_rejected").exists()  # fmt: skip
    with pytest.raises(InvalidTransition):
        services.agreement_sign(agreement=agreement, user=worker, code=outbox.code(worker.phone))
    second = propose(case, mediator, amount=17500)
    first_live = propose(case, mediator, amount=18000)
    second.refresh_from_db()
    assert second.status == "superseded" and first_live.status == "proposed"


def test_agreement_pdf_shows_chinese(order, worker, boss, case_staff, mediator, outbox):
    import io

    from pypdf import PdfReader

    from disputes.pdf import render_agreement_pdf

    case = to_mediating(file_case(order, worker), case_staff, mediator)
    agreement = sign_all(propose(case, mediator), worker, boss, mediator, outbox)
    data = render_agreement_pdf(agreement)
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for words in (
        "人民调解协议书",
        "马架龙建筑劳务公司",
        "赵洪亮",
        "200.00",
        "已生效",
        agreement.content_hash,
    ):
        assert words in text.replace("\n", "").replace(" ", "") or words in text


# ---------------------------------------------------------------------------------------- deadlines


def test_deadline_flags_and_reminders_with_frozen_time(order, worker, case_staff, mediator, settings):
    settings.DISPUTES_DEADLINE_DAYS = 15
    settings.DISPUTES_DEADLINE_WARNING_DAYS = 3
    start = timezone.now()
    with at(start):
        case = file_case(order, worker)
        services.case_accept(case=case, actor=case_staff, mediator=mediator)
    case.refresh_from_db()
    assert case.deadline_at == start + dt.timedelta(days=15)
    with at(start + dt.timedelta(days=10)):
        assert selectors.deadline_flag(case) == ""
        assert services.cases_check_deadlines() == {"near": 0, "overdue": 0}
    with at(start + dt.timedelta(days=13)):
        assert selectors.deadline_flag(case) == "near"
        assert services.cases_check_deadlines() == {"near": 1, "overdue": 0}
        assert services.cases_check_deadlines() == {"near": 0, "overdue": 0}  # once
    with at(start + dt.timedelta(days=15, minutes=1)):
        assert selectors.deadline_flag(case) == "overdue"
        assert services.cases_check_deadlines() == {"near": 0, "overdue": 1}
        assert services.cases_check_deadlines() == {"near": 0, "overdue": 0}
    templates = list(Message.objects.filter(phone=mediator.phone, channel="sms", template__startswith="case_deadline")
                     .values_list("template", flat=True))  # fmt: skip
    assert sorted(templates) == ["case_deadline_near", "case_deadline_over"]
    assert CaseEvent.objects.filter(case=case, kind="deadline", public=False).count() == 2
    # A closed case is never flagged.
    case.refresh_from_db()
    with at(start + dt.timedelta(days=16)):
        services.case_fail(case=case, actor=mediator, reason="超期未达成")
        case.refresh_from_db()
        assert selectors.deadline_flag(case) == ""


def test_deadline_is_configurable(order, worker, case_staff, mediator, settings):
    settings.DISPUTES_DEADLINE_DAYS = 30
    case = file_case(order, worker)
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    case.refresh_from_db()
    assert case.deadline_at - case.accepted_at == dt.timedelta(days=30)


def test_beat_task_runs_the_service(order, worker, case_staff, mediator):
    from disputes.tasks import check_deadlines

    case = file_case(order, worker)
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    with at(timezone.now() + dt.timedelta(days=20)):
        assert check_deadlines.delay().get() == {"near": 0, "overdue": 1}


# ------------------------------------------------------------------------------ fake posts, walk-ins


def test_fake_post_report_hides_the_post_until_reviewed(post, worker2, case_staff, boss):
    case = services.case_report_post(actor=worker2, post=post, description="要先交500元押金才给活")
    post.refresh_from_db()
    assert post.status == "closed" and case.post_hidden_from == "open" and case.order_id is None
    assert Message.objects.filter(phone=boss.phone, template="post_hidden_for_review").exists()
    with pytest.raises(Conflict):
        services.case_report_post(actor=worker2, post=post, description="再举报一次押金问题")
    services.case_post_review(case=case, actor=case_staff, upheld=False, note="已电话核实，押金说法不实")
    post.refresh_from_db()
    case.refresh_from_db()
    assert post.status == "open" and case.status == "closed"


def test_upheld_report_takes_the_post_down_and_frees_its_hold(post, worker2, case_staff, employer):
    from jobs.money import post_hold

    case = services.case_report_post(actor=worker2, post=post, description="要先交500元押金才给活")
    assert _bal(post_hold(post)) > 0
    services.case_post_review(case=case, actor=case_staff, upheld=True, note="多名工人反映收押金")
    post.refresh_from_db()
    assert post.status == "closed" and _bal(post_hold(post)) == 0
    with pytest.raises(InvalidTransition):
        services.case_post_review(case=case, actor=case_staff, upheld=False, note="再来一次")


def test_employer_cannot_report_own_post(post, boss):
    with pytest.raises(DomainError):
        services.case_report_post(actor=boss, post=post, description="测试举报自己的岗位")
    assert Post.objects.get(pk=post.pk).status == "open"


def test_oral_complaint_links_the_account_and_needs_staff(worker, case_staff, boss):
    data = {"complainant_name": "赵洪亮", "complainant_phone": "136 0000 0001", "respondent_name": "某装修队",
            "category": "wage_arrears", "request": "要回三天工钱", "description": "在幸福小区干了三天装修没给钱",
            "amount_claimed_fen": 60000}  # fmt: skip
    with pytest.raises(NotAllowed):
        services.case_record_oral(staff=boss, **data)
    case = services.case_record_oral(staff=case_staff, **data)
    assert case.channel == "oral" and case.worker == worker and case.recorded_by == case_staff
    assert case.service_point == case_staff.service_point
    assert case.filed_at and case.request == "要回三天工钱"
    with pytest.raises(ValidationError) as info:
        services.case_record_oral(staff=case_staff, **{**data, "complainant_phone": "12345", "request": ""})
    assert {"complainant_phone", "request"} <= set(info.value.message_dict)


# -------------------------------------------------------------------------------------------- figures


def test_case_figures(order, worker, boss, case_staff, mediator, outbox, post, worker2):
    case = to_mediating(file_case(order, worker), case_staff, mediator)
    sign_all(propose(case, mediator), worker, boss, mediator, outbox)
    services.case_report_post(actor=worker2, post=open_post_like(post), description="要先交押金才给活干")
    now = timezone.now()
    figures = selectors.case_figures(start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1))
    assert figures["total"] == 2
    assert figures["by_category"]["wage_arrears"] == 1 and figures["by_category"]["fake_post"] == 1
    assert figures["by_status"]["agreed"] == 1 and figures["by_status"]["filed"] == 1
    assert figures["wages_recovered_fen"] == PAY
    assert figures["closed_within_deadline_share"] == 1.0
    assert figures["median_days_to_close"] == 0.0
    empty = selectors.case_figures(start=now + dt.timedelta(days=5), end=now + dt.timedelta(days=6))
    assert empty["total"] == 0 and empty["median_days_to_close"] is None and empty["wages_recovered_fen"] == 0
    from tests.factories import ServicePointFactory

    other_point = selectors.case_figures(start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1),
                                         service_point=ServicePointFactory())  # fmt: skip
    assert other_point["total"] == 0


def open_post_like(post):
    """A second open post of the same employer."""
    from tests.factories import PostFactory

    return PostFactory(employer=post.employer, trade=post.trade, area=post.area, district=post.district)
