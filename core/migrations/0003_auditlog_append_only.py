"""The audit log cannot fork (unique ``prev_hash``) and, on PostgreSQL, cannot be edited or deleted: a
trigger refuses UPDATE and DELETE, as the ledger's does (wallet 0002). A separate migration from 0002,
because PostgreSQL will not ALTER a table with pending trigger events from 0002's updates."""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION core_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'check_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER core_auditlog_append_only BEFORE UPDATE OR DELETE ON core_auditlog
    FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditlog_hash_chain")]

    operations = [
        migrations.AddConstraint(
            model_name="auditlog",
            constraint=models.UniqueConstraint(fields=("prev_hash",), name="auditlog_chain_no_fork"),
        ),
        migrations.RunPython(forward, backward),
    ]
