"""Writing many outbox rows with one statement (``services.message_queue_bulk``).

Django's ``bulk_create`` prepares each value of each row through its field — 22 calls a row, half the cost
of queueing a fan-out (bench/sms_throughput.py, profiled) — and builds each row's ``Message`` from keyword
arguments. Here a chunk's values go to PostgreSQL as one array per column
(``INSERT … SELECT * FROM unnest(…)``), prepared a column at a time: values of Django's plain field types go
as they are (psycopg2 adapts them), a JSON field's are serialised, and any other field (the encrypted
``secret``) goes through its own ``get_db_prep_save``. Rows whose (event, channel, number) is already
written — by another writer meanwhile — are skipped (``ON CONFLICT DO NOTHING``): the caller reads those
back. The returned ``Message`` objects are built as a query builds them (``Model.from_db``). On another
database (SQLite in development) ``bulk_create`` does the work.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connections, models

from .models import Message

# Django field types whose Python values psycopg2 adapts as they are (what get_db_prep_save would return).
_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _fields():
    return [f for f in Message._meta.concrete_fields if not f.primary_key]


def _column(field, values: list, connection) -> list:
    target = field.target_field if field.is_relation else field
    if type(target).__module__.startswith("django.db.models") and target.get_internal_type() in _AS_IS:
        return values
    if isinstance(field, models.JSONField):
        return [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
    return [field.get_db_prep_save(v, connection) for v in values]


def insert_messages(rows: list[dict[str, Any]], *, recipients: list | None = None) -> list[Message]:
    """Write ``rows`` ({attname: value}; a field left out takes its default) in one statement; returns the
    rows written, as ``Message`` objects, in the order given — without those already in the table. Runs in
    the caller's transaction. ``recipients``: the user object of each row (or None), cached on its
    ``Message`` so that reading ``message.recipient`` costs no query."""
    if not rows:
        return []
    connection = connections[Message.objects.db]
    fields = _fields()
    if connection.vendor != "postgresql":
        return _insert_portable(rows, fields, connection, recipients)
    defaults = {f.attname: f.get_default() for f in fields if any(f.attname not in r for r in rows)}
    table = [[row[f.attname] if f.attname in row else defaults[f.attname] for row in rows] for f in fields]
    quote = connection.ops.quote_name
    # A column with one value for every row (most of them: status, channel, empty lease…) goes once, as a
    # parameter; the others as arrays. Preparing 22,000 values for a 1,000-row chunk costs more than the
    # INSERT's parsing; four arrays are what varies in a fan-out.
    select, arrays, select_params, array_params = [], [], [], []
    for field, column in zip(fields, table, strict=True):
        db_type = field.db_type(connection).split("(")[0]
        first = column[0]
        if all(v is first or (type(v) is type(first) and v == first) for v in column):
            select.append(f"%s::{db_type}")
            select_params.append(_column(field, [first], connection)[0])
        else:
            select.append(f"u.c{len(arrays)}")
            arrays.append(f"%s::{db_type}[]")
            array_params.append(_column(field, column, connection))
    source = f" FROM unnest({', '.join(arrays)}) AS u({', '.join(f'c{i}' for i in range(len(arrays)))})"
    sql = (
        f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(select)}{source if arrays else ''} "
        f"ON CONFLICT DO NOTHING RETURNING {quote(Message._meta.pk.column)}, "
        f"{quote('event_key')}, {quote('channel')}, {quote('phone')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *array_params])
        written = {(key, channel, phone): pk for pk, key, channel, phone in cursor.fetchall()}
    names = [Message._meta.pk.attname, *(f.attname for f in fields)]
    out = []
    for i, row in enumerate(rows):
        pk = written.pop((row["event_key"], row["channel"], row["phone"]), None)
        if pk is None:
            continue
        message = Message.from_db(connection.alias, names, [pk, *(col[i] for col in table)])
        if recipients is not None and recipients[i] is not None:
            Message.recipient.field.set_cached_value(message, recipients[i])
        out.append(message)
    return out


def _insert_portable(rows, fields, connection, recipients) -> list[Message]:
    from django.db import IntegrityError, transaction

    messages = [Message(**row) for row in rows]
    for message, user in zip(messages, recipients or [None] * len(rows), strict=True):
        if user is not None:
            message.recipient = user
    try:
        with transaction.atomic(using=connection.alias):
            return Message.objects.bulk_create(messages)
    except IntegrityError:
        pass
    out = []
    for message in messages:  # another writer got some of them first: the others one by one
        try:
            with transaction.atomic(using=connection.alias):
                message.save(force_insert=True)
            out.append(message)
        except IntegrityError:
            continue
    return out
