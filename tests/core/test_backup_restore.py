"""The restore drill: ``manage.py backup`` makes a database dump and a media tar; ``restore_backup`` puts
them into a NEW database (unique name, dropped afterwards), where ``reconcile_ledger`` passes and a
real-name still decrypts. And key rotation: every encrypted field re-encrypted under the new first key,
so the old key can go."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import RealName
from core.backup import backup_create
from core.rotation import encrypted_fields
from jobs import services as jobs_services
from jobs.models import Post
from tests.factories import EmployerFactory, PostFactory, UserFactory, verified_seeker

ROOT = Path(__file__).resolve().parents[2]


def _admin():
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
    )  # fmt: skip
    conn.autocommit = True
    return conn


def _manage(database: str, *args: str) -> subprocess.CompletedProcess:
    """A management command run against ``database``, as an operator would after pointing the URL at it."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gigmarket.settings.test",
        "GIGMARKET_TEST_DATABASE_URL": url,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_drill(tmp_path, settings):
    seeker = verified_seeker(phone="13600007001", name="吴建国")
    id_number = RealName.objects.get(user=seeker).id_number
    boss = UserFactory(phone="13700007001", role="employer")
    employer = EmployerFactory(created_by=boss)  # money on its account: ledger rows
    draft = PostFactory(employer=employer, status=Post.Status.DRAFT, published_at=None)
    jobs_services.post_publish(post=draft, actor=boss)  # pay set aside: more ledger rows
    licence = Path(settings.MEDIA_ROOT) / "licences" / "licence.png"
    licence.parent.mkdir(parents=True)
    licence.write_bytes(b"\x89PNG fake licence bytes")

    made = backup_create(directory=tmp_path / "backups")
    assert made.database.stat().st_size > 0 and made.media.stat().st_size > 0
    new = f"restore_drill_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    restored_media = tmp_path / "restored-media"
    try:
        call_command(
            "restore_backup",
            str(made.database),
            database=new,
            media=str(made.media),
            media_root=str(restored_media),
        )
        reconcile = _manage(new, "reconcile_ledger")
        assert reconcile.returncode == 0, reconcile.stderr[-2000:]
        assert "对账通过" in reconcile.stdout
        shown = _manage(
            new, "shell", "--no-imports", "-c",
            "from accounts.models import RealName; print(RealName.objects.get(user__phone='13600007001').id_number)",
        )  # fmt: skip
        assert shown.stdout.strip() == id_number, shown.stderr[-2000:]
        assert (restored_media / "licences" / "licence.png").read_bytes() == licence.read_bytes()
        with pytest.raises(CommandError, match="已存在"):  # a restore never overwrites a database
            call_command("restore_backup", str(made.database), database=new)
    finally:
        conn = _admin()  # not "with conn": psycopg2 would open a transaction, and DROP DATABASE refuses one
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{new}" WITH (FORCE)')
        conn.close()


# ------------------------------------------------------------------------------------------ key rotation


def test_every_encrypted_field_is_found_by_its_class():
    found = {f"{model._meta.label}.{field.name}" for model, field in encrypted_fields()}
    assert {
        "accounts.RealName.id_number",
        "accounts.Certificate.number",
        "wallet.Withdrawal.card_number",
    } <= found


def _raw_tokens() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, id_number FROM {RealName._meta.db_table}")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_rotation_moves_every_value_to_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    seekers = [verified_seeker(phone=f"1360000800{i}") for i in range(5)]
    numbers = {s.pk: RealName.objects.get(user=s).id_number for s in seekers}
    index_before = dict(RealName.objects.values_list("user_id", "id_index"))
    before = _raw_tokens()

    settings.FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(Exception, match="cannot be decrypted"):
        list(RealName.objects.all())  # the new key alone cannot read the old tokens

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys", batch_size=2)  # three batches
    after = _raw_tokens()
    assert all(after[pk] != before[pk] for pk in before)
    again = _raw_tokens()
    call_command("rotate_encryption_keys", batch_size=2)  # idempotent: nothing left to rotate
    assert _raw_tokens() == again

    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key removed
    assert {r.user_id: r.id_number for r in RealName.objects.all()} == numbers
    assert dict(RealName.objects.values_list("user_id", "id_index")) == index_before  # look-ups unchanged
