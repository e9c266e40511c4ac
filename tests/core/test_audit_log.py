"""The audit log is a hash chain the database will not let anyone edit quietly."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from core.models import GENESIS_HASH, AuditLog
from core.selectors import audit_chain_check
from core.services import audit_record
from outreach.models import ImportBatch
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
POSTGRES = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql", reason="PostgreSQL only"
)


def _append(n: int, actor=None) -> list[AuditLog]:
    actor = actor or UserFactory()
    return [
        audit_record(
            actor=actor, action="unmask_id", target=actor, reason=f"核对{i}", data={"i": i}, ip_address="::1"
        )
        for i in range(n)
    ]


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def _untriggered(sql: str, params=()) -> None:
    """Run a statement with the append-only trigger lifted, as a database superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER TABLE needs that
            cursor.execute("ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_append_only")


def test_rows_chain_and_the_command_passes():
    rows = _append(3)
    assert rows[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    stored = list(AuditLog.objects.order_by("pk"))
    assert all(r.compute_hash() == r.row_hash for r in stored)  # hashes survive the database round trip
    assert "3 条" in _verify() and rows[-1].row_hash in _verify()


def test_an_edited_row_is_named():
    rows = _append(4)
    _untriggered("UPDATE core_auditlog SET reason = %s WHERE id = %s", ["例行检查", rows[1].pk])
    with pytest.raises(CommandError, match=f"编号 {rows[1].pk} 处断开.*改动"):
        _verify()


def test_a_row_edited_with_its_hash_recomputed_breaks_the_next_link():
    rows = _append(3)
    forged = AuditLog.objects.get(pk=rows[0].pk)
    forged.reason = "无"
    _untriggered(
        "UPDATE core_auditlog SET reason = %s, row_hash = %s WHERE id = %s",
        ["无", forged.compute_hash(), rows[0].pk],
    )
    assert audit_chain_check().broken_at == rows[1].pk


def test_a_deleted_row_is_found():
    rows = _append(3)
    _untriggered("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError, match=f"编号 {rows[2].pk} 处断开"):
        _verify()


def test_an_inserted_row_is_found():
    rows = _append(2)
    with connection.cursor() as cursor:  # INSERT is allowed: a forged row with a made-up hash
        cursor.execute(
            "INSERT INTO core_auditlog (action, target_type, target_id, reason, data, created_at, prev_hash, row_hash) "
            "VALUES ('decision', 'accounts.user', '1', '', '{}', %s, %s, %s)",
            [rows[-1].created_at, "f" * 64, "0" * 64],
        )
    report = audit_chain_check()
    assert report.broken_at == AuditLog.objects.order_by("-pk").first().pk and report.rows == 2


@POSTGRES
def test_postgres_refuses_update_and_delete():
    row = _append(1)[0]
    for statement in (
        ("UPDATE core_auditlog SET reason = 'x' WHERE id = %s", [row.pk]),
        ("DELETE FROM core_auditlog WHERE id = %s", [row.pk]),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(*statement)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.get(pk=row.pk).reason == "核对0"


def test_a_fork_is_refused_by_the_database():
    row = _append(1)[0]
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - IntegrityError on either database
        AuditLog.objects.create(
            action="decision", target_type="x", target_id="1", prev_hash=row.prev_hash, row_hash="a"
        )


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_intact():
    actor = UserFactory()
    threads, errors, per_thread, workers = [], [], 5, 8
    barrier = threading.Barrier(workers)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=actor, action="decision", target=actor, data={"thread": n, "i": i})
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    for n in range(workers):
        threads.append(threading.Thread(target=work, args=(n,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = audit_chain_check()
    assert report.broken_at is None and report.rows == workers * per_thread == AuditLog.objects.count()
    assert "40 条" in _verify()


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_manage_py_verify_audit_log_exits_non_zero_on_a_break():
    import os
    import subprocess
    import sys

    rows = _append(2)
    _untriggered("UPDATE core_auditlog SET reason = 'x' WHERE id = %s", [rows[0].pk])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gigmarket.settings.test"}
    db = connection.settings_dict
    script = (
        "import django,sys;from django.conf import settings;django.setup();"
        f"settings.DATABASES['default']['NAME']={db['NAME']!r};"
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py','verify_audit_log'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"编号 {rows[0].pk} 处断开" in done.stderr


def test_undeclared_actions_are_refused():
    actor = UserFactory()
    with pytest.raises(ValueError, match="not one of"):
        audit_record(actor=actor, action="peek", target=actor)
    assert not AuditLog.objects.exists()


def _actions_written_in_code() -> list[tuple[str, str]]:
    """(where, action) for every audit_record(...) call in the project's code; f-strings are expanded
    over the values their placeholders can take."""
    root = Path(settings.BASE_DIR)
    found = []
    for path in root.rglob("*.py"):
        if any(
            part in ("tests", "migrations", "node_modules") or part.startswith(".")
            for part in path.relative_to(root).parts
        ):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "audit_record"
            ):
                continue
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            where = f"{path.relative_to(root)}:{node.lineno}"
            if isinstance(action, ast.Constant):
                found.append((where, action.value))
            elif isinstance(action, ast.JoinedStr):
                source = ast.unparse(action)
                assert source == "f'bulk_import_{batch.kind}'", f"{where}: teach this test about {source}"
                found.extend((where, f"bulk_import_{kind}") for kind in ImportBatch.Kind.values)
            elif isinstance(action, ast.Attribute) and ast.unparse(action).startswith("AuditLog.Action."):
                continue  # a declared choice by construction
            else:
                raise AssertionError(f"{where}: audit action written as {ast.unparse(action)}")
    return found


def test_every_action_written_in_code_is_a_declared_choice():
    found = _actions_written_in_code()
    assert {a for _w, a in found} >= {
        "unmask_id",
        "unmask_contact",
        "assisted_registration",
        "bulk_import_posts",
    }
    undeclared = [(w, a) for w, a in found if a not in AuditLog.Action.values]
    assert not undeclared


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_chain_are_chained_by_the_migration():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    # Only the audit log goes back; the other apps' tables stay as they are (the users' columns too).
    before = [("core", "0001_initial")] + [n for n in executor.loader.graph.leaf_nodes() if n[0] != "core"]
    executor.migrate([("core", "0001_initial")])
    old = executor.loader.project_state(before).apps
    actor = old.get_model("accounts", "User").objects.create(phone="13800000077")
    for i in range(3):
        old.get_model("core", "AuditLog").objects.create(
            actor_id=actor.pk,
            action="unmask_id",
            target_type="accounts.realname",
            target_id=str(i),
            data={"i": i},
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    report = audit_chain_check()
    assert report.broken_at is None and report.rows == 3
    audit_record(actor=None, action="decision", target=AuditLog.objects.first())  # chains onto them
    assert audit_chain_check().rows == 4
