"""Top-ups and withdrawals through the services with the default (fake) gateway: happy paths, every
refusal leaving nothing written, idempotency (same key → one effect, same key with another request →
refused), and parallel withdrawals that never overdraw. The books reconcile after every scenario."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import close_old_connections

from accounts.models import Employer, EmployerMember, RealName
from core.errors import Conflict, DomainError, NotAllowed
from tests.factories import UserFactory
from wallet import ledger, services
from wallet.forms import yuan_to_fen
from wallet.ledger import InsufficientFunds
from wallet.models import LedgerTransaction, PaymentEvent, TopUp, Withdrawal
from wallet.selectors import reconcile

from .conftest import balance, card, credit_worker

pytestmark = pytest.mark.django_db


def top_up(employer, actor, amount=100_000, key="form:1"):
    return services.top_up_create(employer=employer, actor=actor, amount_fen=amount, key=key)


def withdraw(worker, amount=30_000, key="w:1", card_number=None, holder=None):
    return services.withdrawal_request(
        worker=worker,
        amount_fen=amount,
        card_number=card_number or card(7),
        holder_name=worker.realname.name if holder is None else holder,
        key=key,
    )


def nothing_moved():
    return (
        not TopUp.objects.exists()
        and not Withdrawal.objects.exists()
        and not LedgerTransaction.objects.exists()
    )


# ------------------------------------------------------------------------------------------ top-ups


def test_fake_top_up_is_paid_and_credited_at_once(employer, boss):
    result = top_up(employer, boss)
    assert result.status == TopUp.Status.PAID and result.paid_at and result.gateway == "fake"
    assert result.credit.kind == "top_up" and result.credit.idempotency_key == f"top_up:{result.pk}"
    assert balance(ledger.employer_account(employer)) == 100_000
    assert balance(ledger.bank()) == -100_000
    assert [(e.from_status, e.to_status) for e in result.events.all()] == [
        ("", "pending"),
        ("pending", "paid"),
    ]
    assert reconcile() == []


def test_same_key_twice_is_one_top_up_and_one_credit(employer, boss):
    first = top_up(employer, boss, key="form:abc")
    again = top_up(employer, boss, key="form:abc")
    assert first.pk == again.pk and TopUp.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    assert balance(ledger.employer_account(employer)) == 100_000
    with pytest.raises(Conflict) as info:
        top_up(employer, boss, amount=100_001, key="form:abc")
    assert info.value.code == "idempotency_mismatch"
    colleague = UserFactory(role="employer")
    EmployerMember.objects.create(employer=employer, user=colleague)
    with pytest.raises(Conflict):
        top_up(employer, colleague, key="form:abc")  # another person's key is not theirs to replay
    assert balance(ledger.employer_account(employer)) == 100_000 and reconcile() == []


@pytest.mark.parametrize("amount", [0, -100, 1.5, "100", True, 5_000_000_01])
def test_top_up_bad_amounts_refused_nothing_written(employer, boss, amount):
    with pytest.raises(DomainError) as info:
        top_up(employer, boss, amount=amount)
    assert info.value.field == "amount"
    assert nothing_moved()


def test_top_up_only_by_members_of_an_approved_employer(employer, other_boss, boss):
    with pytest.raises(NotAllowed):
        top_up(employer, other_boss)
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.PENDING)
    employer.refresh_from_db()
    with pytest.raises(NotAllowed) as info:
        top_up(employer, boss)
    assert info.value.code == "employer_not_approved"
    assert nothing_moved()


@pytest.mark.parametrize(
    ("text", "fen"),
    [("200", 20000), ("12.5", 1250), ("0.01", 1), ("1,000.05", 100005), (" 88元 ", 8800), ("3.10", 310)],
)
def test_yuan_parsing_is_exact(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "大于0"),
        ("-5", "大于0"),
        ("1.234", "两位小数"),
        ("abc", "请填写金额"),
        ("NaN", "请填写金额"),
        ("1e400", "过大"),
        ("1e-9", "两位小数"),
    ],
)
def test_yuan_parsing_refuses_bad_input(text, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        yuan_to_fen(text)
    assert message in info.value.messages[0]


# --------------------------------------------------------------------------------------- withdrawals


@pytest.fixture
def earned(worker):
    credit_worker(worker, 100_000)
    return ledger.worker_account(worker)


def test_withdrawal_moves_wallet_to_clearing_then_to_the_bank(
    worker, earned, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = withdraw(worker, amount=30_000)
    assert len(callbacks) == 1  # the payout waits for the commit
    result.refresh_from_db()
    assert result.status == Withdrawal.Status.PROCESSED and result.processed_at
    assert result.card_masked == f"**** **** **** {card(7)[-4:]}"
    assert result.card_number == card(7)  # readable by the service that pays it...
    from django.db import connection

    with connection.cursor() as cursor:  # ...but stored encrypted
        cursor.execute("SELECT card_number FROM wallet_withdrawal WHERE id = %s", [result.pk])
        assert card(7) not in cursor.fetchone()[0]
    assert result.debit.idempotency_key == f"withdrawal:{result.pk}"
    assert result.settlement.idempotency_key == f"withdrawal:{result.pk}:paid"
    assert balance(earned) == 70_000 and balance(ledger.clearing()) == 0
    assert [e.to_status for e in PaymentEvent.objects.filter(withdrawal=result)] == ["requested", "processed"]
    assert reconcile() == []


def test_withdrawal_above_balance_is_refused_with_the_balance_and_nothing_written(worker, earned):
    before = LedgerTransaction.objects.count()
    with pytest.raises(InsufficientFunds) as info:
        withdraw(worker, amount=100_001)
    assert info.value.field == "amount" and "1000.00" in info.value.message
    assert not Withdrawal.objects.exists() and LedgerTransaction.objects.count() == before
    assert balance(earned) == 100_000 and reconcile() == []


def test_withdrawal_holder_must_be_the_verified_person(worker, earned):
    with pytest.raises(DomainError) as info:
        withdraw(worker, holder="王五")
    assert info.value.field == "holder_name" and "实名" in info.value.message
    assert withdraw(worker, holder=" 赵 洪亮 ").holder_name == "赵洪亮"  # spaces typed by mistake are fine


def test_withdrawal_needs_a_verified_real_name(alice):
    credit_worker(alice, 10_000)
    with pytest.raises(NotAllowed) as info:
        services.withdrawal_request(
            worker=alice, amount_fen=5_000, card_number=card(1), holder_name="李爱丽", key="k"
        )
    assert info.value.code == "realname_required"
    assert not Withdrawal.objects.exists()
    RealName.objects.create(user=alice, name="李爱丽", id_number="x", id_index="x", id_masked="x",
                            birth_year=1990, status=RealName.Status.PENDING)  # fmt: skip
    alice = type(alice).objects.get(pk=alice.pk)
    with pytest.raises(NotAllowed):  # waiting for review is not verified
        services.withdrawal_request(
            worker=alice, amount_fen=5_000, card_number=card(1), holder_name="李爱丽", key="k"
        )


@pytest.mark.parametrize(
    ("card_number", "problem"),
    [("6217000000000000001", "不正确"), ("1234", "12–19位"), ("62170000abcd00000001", "12–19位")],
)
def test_withdrawal_bad_card_refused(worker, earned, card_number, problem):
    with pytest.raises(DomainError) as info:
        withdraw(worker, card_number=card_number)
    assert info.value.field == "card_number" and problem in info.value.message
    assert not Withdrawal.objects.exists() and balance(earned) == 100_000


@pytest.mark.parametrize("amount", [0, -1, 99, 50_000_01, 2.5])
def test_withdrawal_bad_amounts_refused(worker, earned, amount):
    with pytest.raises(DomainError) as info:
        withdraw(worker, amount=amount)
    assert info.value.field == "amount"
    assert not Withdrawal.objects.exists() and balance(earned) == 100_000


def test_same_withdrawal_key_twice_pays_once_other_body_refused(worker, earned):
    first = withdraw(worker, key="w:same")
    again = withdraw(worker, key="w:same")
    assert first.pk == again.pk and Withdrawal.objects.count() == 1
    assert balance(earned) == 70_000
    with pytest.raises(Conflict) as info:
        withdraw(worker, amount=20_000, key="w:same")
    assert info.value.code == "idempotency_mismatch"
    with pytest.raises(Conflict):
        withdraw(worker, key="w:same", card_number=card(8))
    assert balance(earned) == 70_000 and reconcile() == []


def test_failed_payout_returns_the_money(worker, earned, monkeypatch, django_capture_on_commit_callbacks):
    from wallet.gateways import FakeGateway, Payout

    monkeypatch.setattr(FakeGateway, "payout", lambda self, **kw: Payout("failed", reason="银行卡已冻结"))
    with django_capture_on_commit_callbacks(execute=True):
        result = withdraw(worker)
    result.refresh_from_db()
    assert result.status == Withdrawal.Status.FAILED and result.failure_reason == "银行卡已冻结"
    assert result.settlement.kind == "withdrawal_reversal"
    assert balance(earned) == 100_000 and balance(ledger.clearing()) == 0 and reconcile() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_withdrawals_from_one_wallet_never_overdraw():
    from tests.factories import verified_seeker

    worker = verified_seeker(phone="13600000199", name="孙师傅")
    credit_worker(worker, 100_000)
    outcomes, barrier = [], threading.Barrier(8)

    def run(i):
        try:
            barrier.wait()
            services.withdrawal_request(
                worker=worker, amount_fen=30_000, card_number=card(3), holder_name="孙师傅", key=f"par:{i}"
            )
            outcomes.append("ok")
        except InsufficientFunds:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5
    assert balance(ledger.worker_account(worker)) == 10_000
    assert Withdrawal.objects.count() == 3 and reconcile() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_pays_once():
    from tests.factories import verified_seeker

    worker = verified_seeker(phone="13600000198", name="周师傅")
    credit_worker(worker, 100_000)
    results, barrier = [], threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            results.append(
                services.withdrawal_request(
                    worker=worker,
                    amount_fen=30_000,
                    card_number=card(4),
                    holder_name="周师傅",
                    key="double-tap",
                ).pk
            )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4 and len(set(results)) == 1
    assert balance(ledger.worker_account(worker)) == 70_000 and reconcile() == []


def test_scheduled_task_expires_stale_top_ups_and_forgets_old_nonces(employer, boss):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from wallet import tasks
    from wallet.models import GatewayNonce, IdempotencyKey

    stale = TopUp.objects.create(
        employer=employer, created_by=boss, amount_fen=100, gateway="fake", out_trade_no="T-STALE",
        idempotency_key="stale", request_hash="x", expires_at=timezone.now() + dt.timedelta(minutes=30),
    )  # fmt: skip
    GatewayNonce.objects.create(nonce="old", seen_at=timezone.now() - dt.timedelta(days=2))
    GatewayNonce.objects.create(nonce="fresh")
    IdempotencyKey.objects.create(
        user=boss, key="old-key", request_hash="x", created_at=timezone.now() - dt.timedelta(days=8)
    )
    assert tasks.expire_top_ups() == 0  # not due yet
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        assert tasks.expire_top_ups() == 1
    stale.refresh_from_db()
    assert stale.status == TopUp.Status.EXPIRED and balance(ledger.employer_account(employer)) == 0
    assert list(GatewayNonce.objects.values_list("nonce", flat=True)) == ["fresh"]
    assert not IdempotencyKey.objects.exists() and reconcile() == []


def test_admin_shows_withdrawals_with_the_card_masked(client, worker, earned):
    from django.urls import reverse

    from accounts.models import User

    client.force_login(User.objects.create_superuser("13900000099", "Admin-pass-2026", name="管理员"))
    admin_client = client
    result = withdraw(worker)
    for url in (
        reverse("admin:wallet_withdrawal_changelist"),
        reverse("admin:wallet_withdrawal_change", args=[result.pk]),
        reverse("admin:wallet_topup_changelist"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200 and card(7) not in response.content.decode()
    assert (
        result.card_masked in admin_client.get(reverse("admin:wallet_withdrawal_changelist")).content.decode()
    )


def _luhn_candidates(*, length: int, known: dict[int, str]) -> int:
    """Card numbers of ``length`` digits consistent with the known digits and the Luhn check (exact, by
    a residue count over the unknown positions)."""
    sums = {0: 1}
    for position in range(length):
        digits = [int(known[position])] if position in known else range(10)
        doubled = (length - position) % 2 == 0  # every second digit from the right, check digit excluded
        step = {}
        for total, ways in sums.items():
            for d in digits:
                value = (d * 2 - 9 if d * 2 > 9 else d * 2) if doubled else d
                step[(total + value) % 10] = step.get((total + value) % 10, 0) + ways
        sums = step
    return sums.get(0, 0)


def test_a_dump_leaves_a_short_card_at_least_10000_candidates(
    worker, earned, django_capture_on_commit_callbacks
):
    # 12 digits is the shortest card the service accepts: first 4 + last 4 of it left 1,000 candidates
    from django.db import connection
    from stdnum import luhn

    short = "62170012345" + luhn.calc_check_digit("62170012345")
    assert (
        _luhn_candidates(
            length=12, known=dict(enumerate(short[:4])) | {8 + i: c for i, c in enumerate(short[8:])}
        )
        == 1000
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = withdraw(worker, card_number=short)
    result.refresh_from_db()
    assert result.status == Withdrawal.Status.PROCESSED
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            cells.extend(str(v) for row in cursor.fetchall() for v in row)
    dump = "\n".join(cells)
    assert not [part for part in (short, short[:6], short[:8], short[4:]) if part in dump]
    masks = set(re.findall(r"(?:\*{4} ){3}\d{4}|\d{4} \*{4} \*{4} \d{4}", dump))
    assert masks == {f"**** **** **** {short[-4:]}"}  # in the withdrawal and both ledger memos alike
    known = {8 + i: c for i, c in enumerate(short[8:])}
    assert _luhn_candidates(length=12, known=known) >= 10_000
