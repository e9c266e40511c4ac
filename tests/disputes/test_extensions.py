"""Extending a case once with both parties' SMS agreement (the reminder follows the new date), and wages
recovered outside the platform on a case with no order (counted, with their source, in the figures)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import DomainError, InvalidTransition, NotAllowed
from disputes import extensions, selectors, services
from disputes.models import Case, CaseEvent, Extension, Recovery
from notifications.models import Message

from .conftest import png
from .test_services import file_case, to_mediating

pytestmark = pytest.mark.django_db


@pytest.fixture
def mediating(order, worker, case_staff, mediator):
    return to_mediating(file_case(order, worker), case_staff, mediator)


def propose(case, mediator, days=10, reason="双方同意等待工程验收结果后再调解"):
    return extensions.extension_propose(
        case=case, actor=mediator, reason=reason, new_deadline=case.deadline_at + dt.timedelta(days=days)
    )


def agree(extension, user, outbox):
    extensions.extension_code_send(extension=extension, user=user)
    return extensions.extension_agree(extension=extension, user=user, code=outbox.code(user.phone))


def test_both_parties_agree_and_the_deadline_moves_with_its_reminder(
    mediating, worker, boss, mediator, outbox
):
    old = mediating.deadline_at
    # The near-deadline reminder went out for the old date.
    assert services.cases_check_deadlines(now=old - dt.timedelta(days=1))["near"] == 1
    ext = propose(mediating, mediator)
    assert Message.objects.filter(
        recipient=worker, template="case_extension_proposed", channel="sms"
    ).exists()

    agree(ext, worker, outbox)
    mediating.refresh_from_db()
    assert mediating.deadline_at == old  # one party is not enough
    agree(ext, boss, outbox)
    ext.refresh_from_db()
    mediating.refresh_from_db()
    assert ext.status == "applied" and mediating.deadline_at == old + dt.timedelta(days=10)
    assert mediating.reminded_near_at is None and mediating.reminded_overdue_at is None
    applied = CaseEvent.objects.get(case=mediating, kind="extension", data__action="applied")
    assert applied.public and applied.data["reason"] == "双方同意等待工程验收结果后再调解"
    assert Message.objects.filter(recipient=worker, template="case_extended").exists()

    # The reminder follows the new date: nothing at the old one, near and overdue at the new one.
    assert services.cases_check_deadlines(now=old + dt.timedelta(hours=1)) == {"near": 0, "overdue": 0}
    new = mediating.deadline_at
    assert services.cases_check_deadlines(now=new - dt.timedelta(days=1))["near"] == 1
    assert services.cases_check_deadlines(now=new + dt.timedelta(hours=1))["overdue"] == 1

    with pytest.raises(InvalidTransition):  # once
        propose(mediating, mediator, days=5)


def test_a_wrong_code_or_a_refusal_leaves_the_deadline(mediating, worker, boss, mediator, outbox):
    old = mediating.deadline_at
    ext = propose(mediating, mediator)
    extensions.extension_code_send(extension=ext, user=worker)
    with pytest.raises(DomainError):
        extensions.extension_agree(extension=ext, user=worker, code="000000")
    extensions.extension_reject(extension=ext, user=boss, reason="工程款还没结清，不想拖")
    ext.refresh_from_db()
    mediating.refresh_from_db()
    assert ext.status == "rejected" and mediating.deadline_at == old
    with pytest.raises(InvalidTransition):
        agree(ext, worker, outbox)
    # Refused, the mediator may ask again (it was never applied).
    assert propose(mediating, mediator, days=3).status == "proposed"


def test_only_the_cases_mediator_proposes_and_only_parties_agree(mediating, mediator2, worker2, case_staff):
    with pytest.raises(NotAllowed):
        propose(mediating, mediator2)
    with pytest.raises(NotAllowed):
        propose(mediating, case_staff)
    mediator = mediating.mediator
    ext = propose(mediating, mediator)
    with pytest.raises(NotAllowed):
        extensions.extension_code_send(extension=ext, user=worker2)


def test_bad_deadlines_are_refused_on_the_field(mediating, mediator):
    for (days,) in ((0,), (-2,), (31,)):
        with pytest.raises(DomainError) as info:
            propose(mediating, mediator, days=days)
        assert info.value.field == "new_deadline"
    with pytest.raises(DomainError) as info:
        propose(mediating, mediator, reason="等")
    assert info.value.field == "reason"
    assert not Extension.objects.exists()


def test_parties_confirm_on_their_page(client, mediating, worker, boss, mediator, outbox):
    ext = propose(mediating, mediator)
    for user in (worker, boss):
        client.force_login(user)
        page = client.get(f"/disputes/{mediating.pk}/").content.decode()
        assert 'id="extension"' in page and "双方同意等待工程验收结果后再调解" in page
        assert client.post(f"/disputes/{mediating.pk}/extensions/{ext.pk}/code/").status_code == 200
        done = client.post(
            f"/disputes/{mediating.pk}/extensions/{ext.pk}/agree/", {"code": outbox.code(user.phone)}
        )
        assert done.status_code == 302
    mediating.refresh_from_db()
    assert mediating.deadline_at == ext.new_deadline
    assert "经双方同意，调解期限延长至" in client.get(f"/disputes/{mediating.pk}/").content.decode()


def test_another_user_cannot_touch_the_extension(client, mediating, mediator, worker2):
    ext = propose(mediating, mediator)
    client.force_login(worker2)
    assert client.post(f"/disputes/{mediating.pk}/extensions/{ext.pk}/code/").status_code == 404
    assert (
        client.post(f"/disputes/{mediating.pk}/extensions/{ext.pk}/agree/", {"code": "123456"}).status_code
        == 404
    )


# ------------------------------------------------------------------------------------------- recovery


@pytest.fixture
def oral(worker, boss, case_staff, mediator):
    data = {"complainant_name": "赵洪亮", "complainant_phone": "13600000001", "respondent_name": "某装修队",
            "category": "wage_arrears", "request": "要回三天工钱", "description": "在幸福小区干了三天装修没给钱",
            "amount_claimed_fen": 60000}  # fmt: skip
    case = services.case_record_oral(staff=case_staff, **data)
    return to_mediating(case, case_staff, mediator)


def test_recovery_outside_the_platform_counts_with_its_source(oral, mediator, worker):
    today = timezone.localdate()
    r = extensions.recovery_record(case=oral, actor=mediator, amount_fen=30000, paid_on=today, method="cash",
                                   note="包工头当面付清一半", receipt=png("收据.png"))  # fmt: skip
    extensions.recovery_record(case=oral, actor=mediator, amount_fen=30000, paid_on=today, method="transfer")
    oral.refresh_from_db()
    assert (
        oral.recovered_fen == 60000
        and r.receipt.name.startswith("recoveries/")
        and r.receipt_type == "image/png"
    )
    event = CaseEvent.objects.filter(case=oral, kind="recovery").first()
    assert event.public and event.data["method"] == "cash"
    figures = selectors.case_figures(start=timezone.now() - dt.timedelta(days=1), end=timezone.now())
    assert figures["wages_recovered_fen"] == 60000
    assert figures["wages_recovered_by_source"] == {"platform_fen": 0, "offline_fen": 60000}
    assert Message.objects.filter(recipient=worker, template="case_recovery_recorded").exists()


def test_recovery_is_refused_on_an_order_case_and_bad_input(mediating, oral, mediator, mediator2):
    today = timezone.localdate()
    with pytest.raises(DomainError):
        extensions.recovery_record(
            case=mediating, actor=mediator, amount_fen=100, paid_on=today, method="cash"
        )
    with pytest.raises(NotAllowed):
        extensions.recovery_record(case=oral, actor=mediator2, amount_fen=100, paid_on=today, method="cash")
    bad = [
        ({"amount_fen": 0}, "amount"),
        ({"paid_on": today + dt.timedelta(days=1)}, "paid_on"),
        ({"method": "wechat-red-packet"}, "method"),
        ({"receipt": png("x.png").__class__("x.png", b"not an image", content_type="image/png")}, "receipt"),
    ]
    for change, field in bad:
        args = {"amount_fen": 100, "paid_on": today, "method": "cash", **change}
        with pytest.raises(DomainError) as info:
            extensions.recovery_record(case=oral, actor=mediator, **args)
        assert info.value.field == field
    assert not Recovery.objects.exists() and Case.objects.get(pk=oral.pk).recovered_fen == 0


def test_mediator_records_from_the_workspace_and_the_receipt_is_private(client, oral, mediator, worker2):
    client.force_login(mediator)
    page = client.get(f"/disputes/desk/{oral.pk}/").content.decode()
    assert 'id="recovery"' in page
    response = client.post(
        f"/disputes/desk/{oral.pk}/recoveries/",
        {
            "amount": "450",
            "paid_on": timezone.localdate().isoformat(),
            "method": "cash",
            "receipt": png("收据.png"),
        },
    )
    assert response.status_code == 302
    recovery = Recovery.objects.get()
    assert recovery.amount_fen == 45000
    assert client.get(f"/disputes/{oral.pk}/recoveries/{recovery.pk}/receipt/").status_code == 200
    client.force_login(worker2)
    assert client.get(f"/disputes/{oral.pk}/recoveries/{recovery.pk}/receipt/").status_code == 404
