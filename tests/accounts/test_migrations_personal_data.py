"""The data migrations that coarsen stored personal data convert rows written before them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.crypto import blind_index
from tests.factories import id_number

BEFORE = [("accounts", "0008_upload_server_names"), ("wallet", "0004_top_ups_withdrawals")]


@pytest.mark.django_db(transaction=True)
def test_existing_rows_lose_the_birth_date_and_the_long_masks():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("accounts", "User")
    RealName, Certificate = old.get_model("accounts", "RealName"), old.get_model("accounts", "Certificate")
    CertificateType = old.get_model("accounts", "CertificateType")
    Withdrawal, LedgerTransaction = (
        old.get_model("wallet", "Withdrawal"),
        old.get_model("wallet", "LedgerTransaction"),
    )
    IdempotencyKey = old.get_model("wallet", "IdempotencyKey")

    number = id_number(5, birth=dt.date(1966, 9, 30), region="350181")
    user = User.objects.create(phone="13800000011", name="李爱丽")
    RealName.objects.create(
        user=user, name="李爱丽", id_number=number, id_index=blind_index(number, purpose="id_number"),
        id_masked=number[:4] + "*" * 10 + number[-4:], birth_date=dt.date(1966, 9, 30),
    )  # fmt: skip
    kind = CertificateType.objects.create(code="welding", name="焊工")
    Certificate.objects.create(
        user=user, cert_type=kind, number="T" + number, number_masked="T350***********" + number[-4:],
        image="x.jpg", expires_on=dt.date(2031, 1, 1),
    )  # fmt: skip
    card = "621700000000000000" + "7"
    old_mask = f"{card[:4]} **** **** {card[-4:]}"
    debit = LedgerTransaction.objects.create(
        kind="withdrawal", idempotency_key="d", request_hash="x", memo=f"提现至 {old_mask}"
    )
    settled = LedgerTransaction.objects.create(
        kind="withdrawal", idempotency_key="s", request_hash="x", memo=f"提现到账 {old_mask}"
    )
    Withdrawal.objects.create(
        worker=user, amount_fen=100, card_number=card, card_masked=old_mask, holder_name="李爱丽", gateway="fake",
        out_trade_no="W1", idempotency_key="k", request_hash="x", debit=debit, settlement=settled,
    )  # fmt: skip
    IdempotencyKey.objects.create(
        user=user, key="k", request_hash="x", status_code=201, body={"card_masked": old_mask}
    )

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # back to the schema the rest of the suite expects
    executor.migrate(latest)
    new = executor.loader.project_state(latest).apps
    record = new.get_model("accounts", "RealName").objects.get()
    assert (record.birth_year, record.id_masked) == (1966, number[0] + "*" * 16 + number[-1])
    assert new.get_model("accounts", "Certificate").objects.get().number_masked == "T" + "*" * 17 + number[-1]
    withdrawal = new.get_model("wallet", "Withdrawal").objects.get()
    assert withdrawal.card_masked == "**** **** **** 0007"
    memos = set(new.get_model("wallet", "LedgerTransaction").objects.values_list("memo", flat=True))
    assert memos == {"提现至 **** **** **** 0007", "提现到账 **** **** **** 0007"}
    assert new.get_model("wallet", "IdempotencyKey").objects.get().body == {
        "card_masked": "**** **** **** 0007"
    }
    if connection.vendor == "postgresql":  # the ledger is append-only again
        from django.db import DatabaseError, transaction

        with pytest.raises(DatabaseError), transaction.atomic():
            new.get_model("wallet", "LedgerTransaction").objects.update(memo="x")
