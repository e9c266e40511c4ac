"""Key rotation for encrypted fields (docs/bad-days.md). Put the new key first in
``GIGMARKET_FIELD_ENCRYPTION_KEYS`` (the old ones after it, so everything still decrypts), run
``manage.py rotate_encryption_keys``, then drop the old keys.

Every :class:`~core.crypto.EncryptedTextField` of every installed model is found by its class, so fields
added later are covered without a list to keep up to date. Rows are read as stored (the tokens, never the
plain values), in primary-key order, a batch per transaction; a token the new key already opens is left
alone, so a run that stopped half-way is simply run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from .crypto import EncryptedTextField


@dataclass
class FieldReport:
    label: str  # app_label.Model.field
    rows: int = 0
    rotated: int = 0


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for field in meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def rotate_keys(*, batch_size: int = 500) -> list[FieldReport]:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise ValueError("FIELD_ENCRYPTION_KEYS is empty")
    newest = Fernet(keys[0])
    every = MultiFernet([Fernet(k) for k in keys])
    reports = []
    for model, field in encrypted_fields():
        report = FieldReport(f"{model._meta.label}.{field.name}")
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(field.column)
        pk = connection.ops.quote_name(model._meta.pk.column)
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                # Names from the models' meta, never from input. FOR UPDATE: a row changed meanwhile by
                # the application waits for this batch rather than being overwritten with a stale token.
                where = f"WHERE {pk} > %s " if last is not None else ""
                lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} {where}ORDER BY {pk} LIMIT %s{lock}",  # noqa: S608
                    [last, batch_size] if last is not None else [batch_size],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                report.rows += len(rows)
                for row_pk, token in rows:
                    if not token:
                        continue
                    try:
                        newest.decrypt(token.encode())
                        continue  # already under the new key
                    except InvalidToken:
                        pass
                    rotated = every.rotate(token.encode()).decode()
                    cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [rotated, row_pk])  # noqa: S608
                    report.rotated += 1
        reports.append(report)
    return reports
