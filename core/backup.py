"""Backups you can restore (docs/bad-days.md): the database as a ``pg_dump`` custom-format archive and the
uploads (media) as a tar, and the way back into a new database. Used by ``manage.py backup`` and
``manage.py restore_backup``; the restore drill (tests/core/test_backup_restore.py) runs both.

The database's password goes to the tools through ``PGPASSWORD``, never on a command line (``ps`` shows
those to every user of the machine).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Backup:
    database: Path
    media: Path


def _server() -> dict:
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured("备份与恢复需要 PostgreSQL（GIGMARKET_DATABASE_URL）")
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or "",
        "name": db["NAME"],
    }


def _tool_env(server: dict) -> dict[str, str]:
    env = {**os.environ, "PGHOST": server["host"], "PGPORT": server["port"], "PGUSER": server["user"]}
    if server["password"]:
        env["PGPASSWORD"] = server["password"]
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ImproperlyConfigured(f"{name} 未安装（Debian：apt-get install postgresql-client）")
    return path


def backup_create(*, directory: Path, now: dt.datetime | None = None) -> Backup:
    """Dump the database and tar the media into ``directory``; files appear only once complete."""
    server = _server()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    dump = directory / f"gigmarket-{stamp}.dump"
    media = directory / f"gigmarket-{stamp}-media.tar.gz"
    partial = dump.with_suffix(".dump.partial")
    subprocess.run(  # noqa: S603 (fixed arguments; the names come from settings, not input)
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", server["name"]],
        env=_tool_env(server), check=True, capture_output=True,
    )  # fmt: skip
    partial.rename(dump)
    partial = media.with_suffix(".gz.partial")
    root = Path(settings.MEDIA_ROOT)
    with tarfile.open(partial, "w:gz") as tar:
        if root.is_dir():
            tar.add(root, arcname="media")
    partial.rename(media)
    return Backup(database=dump, media=media)


def backup_restore(
    *, dump: Path, database: str, media: Path | None = None, media_root: Path | None = None
) -> None:
    """Restore ``dump`` into a NEW database ``database`` (refused if it exists: a restore never overwrites)
    and, if given, unpack ``media`` into ``media_root`` (which must be empty or absent)."""
    if not DATABASE_NAME.match(database):
        raise ValueError("数据库名只能包含小写字母、数字和下划线")
    server = _server()
    if media is not None:
        if media_root is None:
            raise ValueError("恢复上传文件需要指定目标目录")
        if media_root.exists() and any(media_root.iterdir()):
            raise ValueError(f"目标目录不为空：{media_root}")
    admin = psycopg2.connect(
        dbname="postgres", host=server["host"], port=server["port"], user=server["user"],
        password=server["password"] or None,
    )  # fmt: skip
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone():
                raise ValueError(f"数据库 {database} 已存在：恢复只写入新数据库")
            cursor.execute(f'CREATE DATABASE "{database}"')  # the name matched DATABASE_NAME above
    finally:
        admin.close()
    subprocess.run(  # noqa: S603 (the database name matched DATABASE_NAME)
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={database}", str(dump)],
        env=_tool_env(server), check=True, capture_output=True,
    )  # fmt: skip
    if media is not None:
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(media, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name == "media" or m.name.startswith("media/")]
            for member in members:
                member.name = member.name.removeprefix("media").lstrip("/") or "."
            tar.extractall(media_root, members=members, filter="data")  # "data": no links out, no devices
