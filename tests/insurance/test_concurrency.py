"""Parallel payouts on one policy never exceed its cover, and one claim is never paid twice (PostgreSQL,
real threads, row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from core.errors import DomainError
from insurance import services
from insurance.models import AccidentClaim
from wallet import ledger
from wallet.models import LedgerTransaction

from .helpers import COVER, bal, books_clean, report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls) -> list[str]:
    outcomes, barrier = [], threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_parallel_payouts_stay_within_the_cover(working, worker, reviewer):
    claims = [report(working, worker) for _ in range(4)]
    for claim in claims:
        services.claim_review_start(claim=claim, actor=reviewer)
    share = COVER * 2 // 5  # any two fit, a third does not
    outcomes = race(
        [lambda c=c: services.claim_approve(claim=c, actor=reviewer, payout_fen=share) for c in claims]
    )
    assert sorted(outcomes) == ["ok", "ok", "refused", "refused"]
    assert bal(ledger.worker_account(worker)) == 2 * share
    assert AccidentClaim.objects.filter(status="approved").count() == 2 and books_clean()


def test_one_claim_is_paid_once_under_a_race(working, worker, reviewer):
    claim = report(working, worker)
    services.claim_review_start(claim=claim, actor=reviewer)
    outcomes = race([lambda: services.claim_approve(claim=claim, actor=reviewer, payout_fen=500_00)] * 6)
    assert outcomes.count("ok") == 1
    assert LedgerTransaction.objects.filter(kind="claim_payout").count() == 1
    assert bal(ledger.worker_account(worker)) == 500_00 and books_clean()
