"""The idempotency keys of the money services at their edges (wallet.services, jobs.money, the API's
``Idempotency-Key``): an empty key is refused before anything is written; two calls racing with one key,
where the loser's first look-up misses and its insert hits the unique key (the IntegrityError path), answer
as a repeat, or as a mismatch when the bodies differ; the header's length limits, exactly at and one over."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.errors import Conflict, DomainError
from wallet import ledger, services
from wallet.models import IdempotencyKey, LedgerTransaction, TopUp, Withdrawal
from wallet.selectors import reconcile

from .conftest import balance, card, credit_worker

pytestmark = pytest.mark.django_db


def top_up(employer, actor, amount=100_000, key="form:1"):
    return services.top_up_create(employer=employer, actor=actor, amount_fen=amount, key=key)


def withdraw(worker, amount=30_000, key="w:1"):
    return services.withdrawal_request(
        worker=worker, amount_fen=amount, card_number=card(7), holder_name=worker.realname.name, key=key
    )


@pytest.fixture
def earned(worker):
    credit_worker(worker, 100_000)
    return ledger.worker_account(worker)


def lose_the_first_look_up(monkeypatch, model):
    """The first look-up of ``model`` by its key misses, as when a parallel call with the same key has not
    committed yet; its row is there by the time this call inserts (the unique key refuses the insert)."""
    real_filter = model.objects.filter
    looked = []

    def filter_(*args, **kwargs):
        if "idempotency_key" in kwargs:
            looked.append(kwargs["idempotency_key"])
            if len(looked) == 1:
                return model.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(model.objects, "filter", filter_)
    return looked


# -------------------------------------------------------------------------------------------- empty key


@pytest.mark.parametrize("key", ["", None])
def test_a_top_up_without_a_key_is_refused_and_writes_nothing(employer, boss, key):
    with pytest.raises(DomainError) as info:
        top_up(employer, boss, key=key)
    assert (info.value.field, info.value.message) == ("idempotency_key", "缺少幂等键")
    assert not TopUp.objects.exists() and not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("key", ["", None])
def test_a_withdrawal_without_a_key_is_refused_and_moves_nothing(worker, earned, key):
    with pytest.raises(DomainError) as info:
        withdraw(worker, key=key)
    assert (info.value.field, info.value.message) == ("idempotency_key", "缺少幂等键")
    assert not Withdrawal.objects.exists() and balance(earned) == 100_000


# ------------------------------------------------------------------------------------ racing one key


def test_a_top_up_that_loses_the_race_answers_with_the_winners(employer, boss, monkeypatch):
    winner = top_up(employer, boss, key="form:race")
    looked = lose_the_first_look_up(monkeypatch, TopUp)
    loser = top_up(employer, boss, key="form:race")
    assert loser.pk == winner.pk and looked == ["form:race"]
    assert TopUp.objects.count() == 1 and LedgerTransaction.objects.filter(kind="top_up").count() == 1
    assert balance(ledger.employer_account(employer)) == 100_000 and reconcile() == []


def test_a_top_up_that_loses_the_race_with_another_amount_is_refused(employer, boss, monkeypatch):
    top_up(employer, boss, key="form:race")
    lose_the_first_look_up(monkeypatch, TopUp)
    with pytest.raises(Conflict) as info:
        top_up(employer, boss, amount=100_001, key="form:race")
    assert (info.value.code, info.value.field) == ("idempotency_mismatch", "idempotency_key")
    assert TopUp.objects.count() == 1 and balance(ledger.employer_account(employer)) == 100_000


def test_a_withdrawal_that_loses_the_race_answers_with_the_winners(worker, earned, monkeypatch):
    winner = withdraw(worker, key="w:race")
    looked = lose_the_first_look_up(monkeypatch, Withdrawal)
    loser = withdraw(worker, key="w:race")
    assert loser.pk == winner.pk and looked == ["w:race", "w:race"]
    assert Withdrawal.objects.count() == 1 and balance(earned) == 70_000 and reconcile() == []


def test_a_withdrawal_that_loses_the_race_with_another_amount_is_refused(worker, earned, monkeypatch):
    withdraw(worker, key="w:race")
    lose_the_first_look_up(monkeypatch, Withdrawal)
    with pytest.raises(Conflict) as info:
        withdraw(worker, amount=20_000, key="w:race")
    assert (info.value.code, info.value.field) == ("idempotency_mismatch", "idempotency_key")
    assert Withdrawal.objects.count() == 1 and balance(earned) == 70_000


def test_another_integrity_error_in_a_withdrawal_is_not_taken_for_a_race(worker, earned, monkeypatch):
    def broken(**fields):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(Withdrawal.objects, "create", broken)
    with pytest.raises(IntegrityError, match="some other constraint"):
        withdraw(worker, key="w:other")
    assert not Withdrawal.objects.exists() and balance(earned) == 100_000


# ---------------------------------------------------------------------------- the API's Idempotency-Key


@pytest.mark.parametrize(
    ("key", "status"),
    [("", 400), ("k" * 7, 400), ("k" * 8, 201), ("k" * 100, 201), ("k" * 101, 400), ("bad key!", 400)],
)
def test_the_idempotency_key_header_is_8_to_100_characters(worker, earned, key, status):
    api = APIClient()
    _, token = AuthToken.objects.create(user=worker)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = {
        "amount_fen": 10_000,
        "card_number": card(7),
        "holder_name": worker.realname.name,
    }
    response = api.post(reverse("api:wallet-withdrawals"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == status, response.json()
    if status == 400:
        assert response.json()["fields"] == {
            "idempotency_key": ["Idempotency-Key 应为8–100个字母、数字或 _ . : -"]
        }
        assert not Withdrawal.objects.exists() and not IdempotencyKey.objects.exists()
    else:
        assert IdempotencyKey.objects.get().key == key and Withdrawal.objects.count() == 1
