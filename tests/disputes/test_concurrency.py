"""Races against PostgreSQL: two parties filing on one order at the same moment, two staff accepting the
same case, a mediator's double click on 签名. Exactly one wins; the other gets a clear domain error."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import DomainError
from disputes import services
from disputes.models import Agreement, Case
from jobs.models import Order
from tests.disputes.conftest import PAY
from wallet import ledger

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=30)
            try:
                call()
                result = "ok"
            except DomainError as exc:
                result = exc.code
            except Exception as exc:  # anything else is a bug the test must show
                result = f"error:{exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(outcomes)


def test_two_parties_file_at_once(order, worker, boss):
    outcomes = race(
        lambda: services.case_file(actor=worker, order=order, category="wage_arrears",
                                   description="干完活老板不给钱", amount_claimed_fen=PAY),
        lambda: services.case_file(actor=boss, order=order, category="quality", description="活干得不好要返工"),
    )  # fmt: skip
    assert outcomes == ["case_open", "ok"]
    assert Case.objects.count() == 1 and Order.objects.get(pk=order.pk).status == "disputed"


def test_two_staff_accept_at_once(order, worker, case_staff, mediator, mediator2):
    case = services.case_file(actor=worker, order=order, category="wage_arrears", description="干完活老板不给钱",
                              amount_claimed_fen=PAY)  # fmt: skip
    outcomes = race(
        lambda: services.case_accept(case=Case.objects.get(pk=case.pk), actor=case_staff, mediator=mediator),
        lambda: services.case_accept(case=Case.objects.get(pk=case.pk), actor=case_staff, mediator=mediator2),
    )
    assert outcomes == ["invalid_transition", "ok"]
    assert case.events.filter(to_status="accepted").count() == 1


def test_mediator_double_click_pays_once(order, worker, boss, case_staff, mediator, outbox):
    case = services.case_file(actor=worker, order=order, category="wage_arrears", description="干完活老板不给钱",
                              amount_claimed_fen=PAY)  # fmt: skip
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    agreement = services.agreement_propose(case=case, actor=mediator, facts="事实", disputed_items="工资",
                                           worker_amount_fen=PAY, pay_by=timezone.localdate())  # fmt: skip
    for user in (worker, boss):
        services.agreement_code_send(agreement=agreement, user=user)
        services.agreement_sign(agreement=agreement, user=user, code=outbox.code(user.phone))
    outcomes = race(*[lambda: services.agreement_mediator_sign(agreement=agreement, actor=mediator)] * 2)
    assert outcomes == ["invalid_transition", "ok"]
    wallet = ledger.worker_account(worker)
    wallet.refresh_from_db()
    assert wallet.balance_fen == PAY and Agreement.objects.get().status == "signed"
