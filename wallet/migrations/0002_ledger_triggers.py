"""Database-enforced ledger rules (PostgreSQL): every transaction balances at commit, postings are
append-only, and a posting moves its account's cached balance in the same statement (so the CHECK on
``balance_fen`` applies to any writer, even raw SQL)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION wallet_check_balanced() RETURNS trigger AS $$
DECLARE total bigint;
BEGIN
    SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM wallet_posting WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced (sum of postings %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER wallet_posting_balanced AFTER INSERT ON wallet_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_check_balanced();

CREATE OR REPLACE FUNCTION wallet_posting_apply() RETURNS trigger AS $$
BEGIN
    UPDATE wallet_account SET balance_fen = balance_fen + NEW.amount_fen WHERE id = NEW.account_id;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_posting_apply AFTER INSERT ON wallet_posting
    FOR EACH ROW EXECUTE FUNCTION wallet_posting_apply();

CREATE OR REPLACE FUNCTION wallet_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_posting_append_only BEFORE UPDATE OR DELETE ON wallet_posting
    FOR EACH ROW EXECUTE FUNCTION wallet_append_only();
CREATE TRIGGER wallet_transaction_append_only BEFORE UPDATE OR DELETE ON wallet_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION wallet_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS wallet_transaction_append_only ON wallet_ledgertransaction;
DROP TRIGGER IF EXISTS wallet_posting_append_only ON wallet_posting;
DROP TRIGGER IF EXISTS wallet_posting_apply ON wallet_posting;
DROP TRIGGER IF EXISTS wallet_posting_balanced ON wallet_posting;
DROP FUNCTION IF EXISTS wallet_append_only();
DROP FUNCTION IF EXISTS wallet_posting_apply();
DROP FUNCTION IF EXISTS wallet_check_balanced();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_ledger")]
    operations = [migrations.RunPython(forward, backward)]
