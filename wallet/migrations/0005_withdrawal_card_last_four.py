"""Bank cards are shown by their last four digits only (``**** **** **** 1234``): first 4 + last 4 of a
12-digit card, with its Luhn digit, left 1,000 candidates. Recomputed from the decrypted number for the
withdrawal, the two ledger memos that quoted the old mask, and stored idempotent API answers.

Ledger transactions are append-only (0002): the trigger is lifted for this one redaction, in this
migration's transaction, and restored before it commits."""

from django.db import migrations


def _mask(digits: str) -> str:
    # Frozen copy of wallet.services.mask_card_number as of this migration.
    return f"**** **** **** {digits[-4:]}"


def redact(apps, schema_editor):
    Withdrawal = apps.get_model("wallet", "Withdrawal")
    LedgerTransaction = apps.get_model("wallet", "LedgerTransaction")
    IdempotencyKey = apps.get_model("wallet", "IdempotencyKey")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(
            "ALTER TABLE wallet_ledgertransaction DISABLE TRIGGER wallet_transaction_append_only"
        )
    replaced: dict[str, str] = {}
    for withdrawal in Withdrawal.objects.only("pk", "card_number", "card_masked", "debit", "settlement"):
        old, new = withdrawal.card_masked, _mask(withdrawal.card_number)
        if old == new:
            continue
        replaced[old] = new
        Withdrawal.objects.filter(pk=withdrawal.pk).update(card_masked=new)
        for pk in (withdrawal.debit_id, withdrawal.settlement_id):
            if pk is None:
                continue
            tx = LedgerTransaction.objects.only("memo").get(pk=pk)
            if old in tx.memo:
                LedgerTransaction.objects.filter(pk=pk).update(memo=tx.memo.replace(old, new))
    if postgres:
        schema_editor.execute("ALTER TABLE wallet_ledgertransaction ENABLE TRIGGER wallet_transaction_append_only")
    for key in IdempotencyKey.objects.exclude(body=None).only("pk", "body"):
        body = key.body
        if isinstance(body, dict) and body.get("card_masked") in replaced:
            body["card_masked"] = replaced[body["card_masked"]]
            IdempotencyKey.objects.filter(pk=key.pk).update(body=body)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0004_top_ups_withdrawals")]
    operations = [migrations.RunPython(redact, migrations.RunPython.noop)]
