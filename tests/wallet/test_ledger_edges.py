"""The ledger's transfer (wallet.ledger) at its edges: an empty idempotency key; legs on one account merged
and legs of zero dropped; a bool is no amount; the stored request hash (stable across versions: a retry
after an upgrade must still be recognised); the order as part of the request; the memo's length; the actor;
an overdraft by one fen; and two calls racing with one key, where the loser's insert hits the unique key
(the IntegrityError path) and answers as a repeat, or as a mismatch when its body differs."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError

from core.errors import Conflict, DomainError
from jobs.services import claim_create
from tests.factories import EmployerFactory, PostFactory, verified_seeker
from wallet import ledger
from wallet.models import Account, LedgerTransaction, Posting

pytestmark = pytest.mark.django_db


def top_up(account, amount, key="t", **extra):
    return ledger.transfer(
        key=key, kind="top_up", legs=[(ledger.bank(), -amount), (account, amount)], **extra
    )


def balance(account) -> int:
    account.refresh_from_db()
    return account.balance_fen


def refusal(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        ledger.transfer(**kwargs)
    assert not LedgerTransaction.objects.exists() and not Posting.objects.exists()
    return info.value


# -------------------------------------------------------------------------------------------- accounts


def test_only_the_bank_and_the_clearing_account_may_go_negative(alice):
    assert ledger.bank().allow_negative is True
    assert ledger.clearing().allow_negative is True
    assert ledger.insurance_payable().allow_negative is False
    worker = ledger.worker_account(alice)
    assert (worker.kind, worker.user_id, worker.allow_negative) == ("worker", alice.pk, False)
    assert ledger.worker_account(alice).pk == worker.pk
    assert ledger.bank().kind == Account.Kind.EXTERNAL_BANK
    assert ledger.clearing().kind == Account.Kind.PLATFORM_CLEARING
    assert ledger.insurance_payable().kind == Account.Kind.INSURANCE_PAYABLE
    assert ledger.bank() == ledger.bank() and Account.objects.filter(kind="external_bank").count() == 1


def test_each_employer_and_order_has_one_account_of_its_own(alice):
    employer, other = EmployerFactory(), EmployerFactory()
    account = ledger.employer_account(employer)
    assert (account.kind, account.employer_id, account.allow_negative) == ("employer", employer.pk, False)
    assert ledger.employer_account(employer).pk == account.pk
    assert ledger.employer_account(other).pk != account.pk
    order = claim_create(post=PostFactory(employer=employer), worker=verified_seeker()).order
    escrow = ledger.order_escrow(order)
    assert (escrow.kind, escrow.order_id, escrow.allow_negative) == ("order_escrow", order.pk, False)
    assert ledger.order_escrow(order).pk == escrow.pk
    assert Account.objects.filter(kind="order_escrow", order=order).count() == 1


# ------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("key", ["", None])
def test_an_empty_idempotency_key_is_refused(alice, key):
    error = refusal(key=key, kind="top_up", legs=[(ledger.bank(), -1), (ledger.worker_account(alice), 1)])
    assert (error.field, error.message) == ("idempotency_key", "缺少幂等键")


def test_a_bool_is_not_an_amount(alice):
    error = refusal(
        key="k", kind="adjustment", legs=[(ledger.bank(), -1), (ledger.worker_account(alice), True)]
    )
    assert (error.field, error.message) == ("amount", "金额必须是整数（分）")


def test_legs_that_cancel_out_move_nothing_and_are_refused(alice):
    wallet = ledger.worker_account(alice)
    error = refusal(key="k", kind="adjustment", legs=[(wallet, 5), (wallet, -5)])
    assert (error.field, error.message) == ("amount", "金额必须大于0")


def test_an_unbalanced_transfer_is_refused_by_one_fen(alice):
    error = refusal(
        key="k", kind="adjustment", legs=[(ledger.bank(), -100), (ledger.worker_account(alice), 101)]
    )
    assert error.message == "借贷不平衡"


# ------------------------------------------------------------------------------------------- the legs


def test_legs_on_one_account_are_merged_and_zero_legs_dropped(alice, bob):
    a, b, bank = ledger.worker_account(alice), ledger.worker_account(bob), ledger.bank()
    txn = ledger.transfer(key="m", kind="top_up", legs=[(a, 300), (bank, -500), (a, 200), (b, 0)])
    postings = dict(Posting.objects.filter(transaction=txn).values_list("account_id", "amount_fen"))
    assert postings == {a.pk: 500, bank.pk: -500}
    assert (balance(a), balance(b), balance(bank)) == (500, 0, -500)


def test_an_overdraft_by_one_fen_is_refused_and_the_exact_balance_can_leave(alice, bob):
    a, b = ledger.worker_account(alice), ledger.worker_account(bob)
    top_up(a, 100)
    with pytest.raises(ledger.InsufficientFunds) as info:
        ledger.transfer(key="x", kind="adjustment", legs=[(a, -101), (b, 101)])
    assert (info.value.code, info.value.message) == ("insufficient_funds", "余额不足")
    ledger.transfer(key="y", kind="adjustment", legs=[(a, -100), (b, 100)])
    assert (balance(a), balance(b)) == (0, 100)


# --------------------------------------------------------------------------------------- what is stored


def test_the_request_hash_is_a_stable_digest_of_kind_legs_and_order():
    body = '{"kind":"top_up","legs":[[3,-500],[7,500]],"order":11}'
    assert ledger._request_hash("top_up", {7: 500, 3: -500}, 11) == hashlib.sha256(body.encode()).hexdigest()
    body = '{"kind":"release","legs":[[1,-2],[2,2]],"order":null}'
    assert ledger._request_hash("release", {1: -2, 2: 2}, None) == hashlib.sha256(body.encode()).hexdigest()


def test_the_same_legs_in_another_order_are_a_repeat(alice):
    wallet, bank = ledger.worker_account(alice), ledger.bank()
    first = ledger.transfer(key="r", kind="top_up", legs=[(bank, -700), (wallet, 700)])
    again = ledger.transfer(key="r", kind="top_up", legs=[(wallet, 700), (bank, -700)])
    assert again.pk == first.pk and balance(wallet) == 700


def test_the_same_key_for_another_kind_is_refused(alice):
    top_up(ledger.worker_account(alice), 500, key="k")
    with pytest.raises(Conflict) as info:
        ledger.transfer(
            key="k", kind="adjustment", legs=[(ledger.bank(), -500), (ledger.worker_account(alice), 500)]
        )
    assert (info.value.code, info.value.field) == ("idempotency_mismatch", "idempotency_key")
    assert info.value.message == "该幂等键已用于另一笔不同的操作"


def test_the_order_is_part_of_the_request(alice, monkeypatch):
    class FakeOrder:  # only its pk reaches the hash; the stored order is checked in the jobs tests
        pk = 42

    monkeypatch.setattr(
        LedgerTransaction.objects, "create", _create_without_order(LedgerTransaction.objects.create)
    )
    wallet = ledger.worker_account(alice)
    txn = top_up(wallet, 500, key="o", order=FakeOrder())
    assert txn.request_hash == ledger._request_hash("top_up", {ledger.bank().pk: -500, wallet.pk: 500}, 42)
    with pytest.raises(Conflict):
        top_up(wallet, 500, key="o")  # the same legs without the order


def _create_without_order(create):
    def inner(**fields):
        fields["order"] = None
        return create(**fields)

    return inner


def test_the_memo_is_kept_to_200_characters_and_the_actor_recorded(alice, bob):
    txn = top_up(ledger.worker_account(alice), 5, key="a", memo="备" * 250, actor=bob)
    txn.refresh_from_db()
    assert (
        txn.memo == "备" * 200
        and txn.created_by == bob
        and txn.kind == "top_up"
        and txn.idempotency_key == "a"
    )
    anonymous = top_up(ledger.worker_account(alice), 5, key="b", memo="充值", actor=AnonymousUser())
    anonymous.refresh_from_db()
    assert anonymous.created_by is None and anonymous.memo == "充值"


def test_balances_move_once_per_transfer(alice):
    wallet = ledger.worker_account(alice)
    top_up(wallet, 250, key="1")
    top_up(wallet, 250, key="2")
    top_up(wallet, 250, key="2")
    assert balance(wallet) == 500 and balance(ledger.bank()) == -500


# -------------------------------------------------------------------------------------- racing one key


@pytest.fixture
def lost_race(monkeypatch):
    """The first look-up for the key misses, as when a parallel call with the same key has not committed
    yet; its row is there by the time this call inserts (the unique key refuses the insert)."""
    real_filter = LedgerTransaction.objects.filter
    looked = []

    def filter_(*args, **kwargs):
        looked.append(kwargs)
        if len(looked) == 1:
            return LedgerTransaction.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(LedgerTransaction.objects, "filter", filter_)
    return looked


def test_a_call_that_loses_the_race_answers_as_a_repeat(alice, lost_race):
    wallet = ledger.worker_account(alice)
    winner = LedgerTransaction.objects.create(
        kind="top_up",
        idempotency_key="race",
        request_hash=ledger._request_hash("top_up", {ledger.bank().pk: -300, wallet.pk: 300}, None),
    )
    loser = top_up(wallet, 300, key="race")
    assert loser.pk == winner.pk
    assert lost_race == [{"idempotency_key": "race"}, {"idempotency_key": "race"}]
    assert LedgerTransaction.objects.count() == 1 and not Posting.objects.exists()  # nothing moved twice


def test_a_call_that_loses_the_race_with_another_body_is_refused(alice, lost_race):
    wallet = ledger.worker_account(alice)
    LedgerTransaction.objects.create(
        kind="top_up",
        idempotency_key="race",
        request_hash=ledger._request_hash("top_up", {ledger.bank().pk: -300, wallet.pk: 300}, None),
    )
    with pytest.raises(Conflict) as info:
        top_up(wallet, 301, key="race")
    assert (info.value.code, info.value.field) == ("idempotency_mismatch", "idempotency_key")
    assert info.value.message == "该幂等键已用于另一笔不同的操作"
    assert isinstance(info.value.__cause__, IntegrityError)
    assert LedgerTransaction.objects.count() == 1 and not Posting.objects.exists()


def test_another_integrity_error_is_not_taken_for_a_race(alice, monkeypatch):
    def broken(**fields):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(Posting.objects, "create", broken)
    with pytest.raises(IntegrityError, match="some other constraint"):
        top_up(ledger.worker_account(alice), 300, key="k")
    assert not LedgerTransaction.objects.exists()
