"""Server-side prepared statements for the few fixed statements every 抢单 runs (PostgreSQL).

PostgreSQL plans each statement it is sent. For the grab's reads — the post with its trade, certificate
type, employer and places (a six-table join), the worker's row checks (five ``EXISTS``), the token with
its user — planning cost more than running (0.62 / 0.45 / 0.14 ms of planning against 0.09 / 0.09 / 0.05
ms of execution, measured with ``EXPLAIN (ANALYZE)`` on the bench's database), and a rush runs them for
every winner. A statement prepared once per connection (``PREPARE``) and then run by name (``EXECUTE``)
is planned the first five times and then, when its generic plan costs no more than the custom ones (a
lookup by key always does), never again.

:class:`Statement` takes the SQL with ``%(name)s`` parameters, as Django's cursors do, and:

- on PostgreSQL, ``PREPARE``\\ s it on the connection the first time (parameters as ``$1`` …, types
  inferred by PostgreSQL) and ``EXECUTE``\\ s it by name, its values sent as literals by psycopg2;
- elsewhere (SQLite in development), or with ``DB_PREPARED_STATEMENTS`` off, runs the SQL as it is.

Which statements a connection holds is kept per driver connection (a weak key): a new connection (after a
restart of PostgreSQL, ``CONN_MAX_AGE``, a health check) prepares again. ``PREPARE`` is not undone by a
rollback, and a ``PREPARE`` that fails (an aborted transaction) is not recorded. The statement's name
carries a hash of its text, so a changed statement is a new one. Behind a pooler that hands a session's
statements to another client (PgBouncer in transaction mode) prepared statements cannot work: turn
``GIGMARKET_DB_PREPARED_STATEMENTS`` off there. The ``EXECUTE`` goes through Django's cursor, so query
counts, ``CaptureQueriesContext`` and the database-outage handling see it as any other statement.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

_PARAM = re.compile(r"%\((\w+)\)s")
# Driver connection → names of the statements prepared on it.
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Statement:
    """One fixed statement, run prepared on PostgreSQL (module docstring). ``sql`` uses ``%(name)s``
    parameters only; a name may appear several times. No literal ``%`` elsewhere in it."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.names: list[str] = []
        for name in _PARAM.findall(sql):
            if name not in self.names:
                self.names.append(name)
        numbered = _PARAM.sub(lambda m: f"${self.names.index(m.group(1)) + 1}", sql)
        self.name = "gm_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]
        self._prepare = f"PREPARE {self.name} AS {numbered}"
        placeholders = ", ".join("%s" for _ in self.names)
        self._execute = f"EXECUTE {self.name} ({placeholders})" if self.names else f"EXECUTE {self.name}"

    def execute(self, cursor, params: Mapping[str, Any]) -> None:
        """Run it on ``cursor`` (a cursor of ``django.db.connection``) with ``params`` by name."""
        if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
            cursor.execute(self.sql, params)
            return
        raw = connection.connection  # the driver's connection (open: the cursor exists)
        done = _prepared.get(raw)
        if done is None:
            done = _prepared[raw] = set()
        if self.name not in done:
            cursor.execute(self._prepare)
            done.add(self.name)
        cursor.execute(self._execute, [params[name] for name in self.names])

    def fetchone(self, params: Mapping[str, Any]) -> tuple | None:
        with connection.cursor() as cursor:
            self.execute(cursor, params)
            return cursor.fetchone()

    def fetchall(self, params: Mapping[str, Any]) -> list[tuple]:
        with connection.cursor() as cursor:
            self.execute(cursor, params)
            return cursor.fetchall()


class Loader:
    """The model instances of one fixed QuerySet (``select_related`` included), its SQL compiled by Django
    once per thread (and Django connection object) and run as a prepared :class:`Statement`; the rows
    become instances through Django's own converters, ``from_db`` and related populators, so they are the
    objects the QuerySet would give.

    ``build(**values)`` makes the QuerySet; ``sentinels`` are values of the right type that appear nowhere
    else in its SQL parameters: each marks where a parameter of that name goes. Compiling a QuerySet with
    its joins cost about a millisecond of Python, more than PostgreSQL took to answer it."""

    def __init__(self, build: Callable[..., QuerySet], **sentinels: Any) -> None:
        self.build, self.sentinels = build, sentinels
        # Per thread, for the Django connection object it was compiled with (the compiler holds it): kept
        # with the thread, so a server that starts threads as it goes keeps no state for threads gone.
        self._local = threading.local()

    def _state(self):
        wrapper = connections[DEFAULT_DB_ALIAS]
        state = getattr(self._local, "state", None)
        if state is not None and state[-1] is wrapper:
            return state
        qs = self.build(**self.sentinels).using(DEFAULT_DB_ALIAS)
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        if "%%" in sql:
            raise ValueError("a literal % in a prepared statement's SQL")
        pieces, fixed = sql.split("%s"), {}
        named = [pieces[0]]
        for i, (value, piece) in enumerate(zip(params, pieces[1:], strict=True)):
            name = next((n for n, s in self.sentinels.items() if type(s) is type(value) and s == value), None)
            if name is None:  # a constant of the QuerySet itself
                name = f"c{i}"
                fixed[name] = value
            named.append(f"%({name})s{piece}")
        missing = set(self.sentinels) - set().union(*(_PARAM.findall(part) for part in named))
        if missing:  # a value that would be ignored: the sentinel is not among the QuerySet's parameters
            raise ValueError(f"sentinels not found in the QuerySet's parameters: {sorted(missing)}")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        state = self._local.state = (
            Statement("".join(named)),
            fixed,
            compiler,
            compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
            klass_info["model"],
            [f[0].target.attname for f in select[start:end]],
            (start, end),
            get_related_populators(klass_info, select, qs.db),
            qs.db,
            wrapper,
        )
        return state

    def all(self, **values: Any) -> list[Model]:
        statement, fixed, compiler, converters, model, init_list, (start, end), populators, db, _ = (
            self._state()
        )
        rows = statement.fetchall({**fixed, **values})
        if converters:
            rows = compiler.apply_converters(rows, converters)
        found = []
        for row in rows:
            obj = model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            found.append(obj)
        return found
