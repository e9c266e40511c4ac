import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, close_old_connections, connection, transaction

from core.errors import Conflict, DomainError
from wallet import ledger
from wallet.models import Account, LedgerTransaction, Posting
from wallet.selectors import reconcile

pytestmark = pytest.mark.django_db


def top_up(account, amount, key):
    return ledger.transfer(key=key, kind="top_up", legs=[(ledger.bank(), -amount), (account, amount)])


def test_transfer_moves_balances_and_reconciles(alice):
    wallet = ledger.worker_account(alice)
    top_up(wallet, 10_000, "t1")
    wallet.refresh_from_db()
    assert wallet.balance_fen == 10_000 and ledger.bank().balance_fen == -10_000
    assert reconcile() == []
    call_command("reconcile_ledger")


def test_idempotency_same_key_once_other_body_refused(alice):
    wallet = ledger.worker_account(alice)
    first = top_up(wallet, 500, "pay:1")
    again = top_up(wallet, 500, "pay:1")
    assert first.pk == again.pk and LedgerTransaction.objects.count() == 1
    wallet.refresh_from_db()
    assert wallet.balance_fen == 500
    with pytest.raises(Conflict) as info:
        top_up(wallet, 600, "pay:1")
    assert info.value.code == "idempotency_mismatch"


@pytest.mark.parametrize(
    "legs",
    [
        lambda w, b: [(w, 0)],
        lambda w, b: [(w, 5), (b, -4)],
        lambda w, b: [(w, 1.5), (b, -1.5)],
        lambda w, b: [],
    ],
)
def test_bad_amounts_refused_and_nothing_moves(alice, legs):
    wallet, bank = ledger.worker_account(alice), ledger.bank()
    with pytest.raises(DomainError):
        ledger.transfer(key="bad", kind="adjustment", legs=legs(wallet, bank))
    assert not LedgerTransaction.objects.exists() and not Posting.objects.exists()


def test_overdraft_refused_nothing_half_written(alice, bob):
    a, b = ledger.worker_account(alice), ledger.worker_account(bob)
    top_up(a, 100, "t")
    with pytest.raises(ledger.InsufficientFunds):
        ledger.transfer(key="x", kind="adjustment", legs=[(a, -101), (b, 101)])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.balance_fen, b.balance_fen) == (100, 0)
    assert LedgerTransaction.objects.count() == 1 and reconcile() == []


def test_reconcile_reports_a_tampered_balance(alice):
    wallet = ledger.worker_account(alice)
    top_up(wallet, 100, "t")
    Account.objects.filter(pk=wallet.pk).update(balance_fen=999)
    assert [p.check for p in reconcile()] == ["balance_matches_postings"]
    with pytest.raises(CommandError):
        call_command("reconcile_ledger")


@pytest.mark.postgres
def test_database_rejects_an_unbalanced_raw_insert(alice):
    wallet = ledger.worker_account(alice)
    with (
        pytest.raises(IntegrityError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO wallet_ledgertransaction (kind, idempotency_key, request_hash, memo, created_at)"
            " VALUES ('adjustment', 'raw', '', '', now()) RETURNING id"
        )
        txn_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO wallet_posting (transaction_id, account_id, amount_fen) VALUES (%s, %s, 100)",
            [txn_id, wallet.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do
    assert not LedgerTransaction.objects.filter(idempotency_key="raw").exists()


@pytest.mark.postgres
def test_database_keeps_postings_append_only_and_balances_non_negative(alice, bob):
    a, b = ledger.worker_account(alice), ledger.worker_account(bob)
    txn = top_up(a, 100, "t")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Posting.objects.filter(transaction=txn).update(amount_fen=1)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        # A raw, balanced insert that would overdraw a wallet: the posting trigger moves the balance and the
        # CHECK constraint refuses it.
        cursor.execute(
            "INSERT INTO wallet_ledgertransaction (kind, idempotency_key, request_hash, memo, created_at)"
            " VALUES ('adjustment', 'raw2', '', '', now()) RETURNING id"
        )
        txn_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO wallet_posting (transaction_id, account_id, amount_fen) VALUES (%s, %s, -500), (%s, %s, 500)",
            [txn_id, a.pk, txn_id, b.pk],
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_withdrawals_never_overdraw_and_lose_nothing():
    from tests.factories import SeekerFactory

    worker = SeekerFactory()
    wallet = ledger.worker_account(worker)
    top_up(wallet, 10_000, "seed")
    outcomes, barrier = [], threading.Barrier(30)

    def withdraw(i):
        try:
            barrier.wait()
            ledger.transfer(key=f"w{i}", kind="withdrawal", legs=[(wallet, -700), (ledger.bank(), 700)])
            outcomes.append("ok")
        except ledger.InsufficientFunds:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=withdraw, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wallet.refresh_from_db()
    assert outcomes.count("ok") == 14 and outcomes.count("refused") == 16  # 14 × 7 yuan ≤ 100 yuan
    assert wallet.balance_fen == 10_000 - 14 * 700 == 200
    assert reconcile() == []
