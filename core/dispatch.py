"""The one way services hand work to Celery: by the task's registered name.

A service never imports a ``tasks`` module: tasks are thin wrappers that import their services, so an
import the other way would close a cycle. ``dispatch("insurance.tasks.issue_policy", policy.pk)`` looks the
task up in the Celery app's registry and queues it with ``delay``. A worker imports every app's ``tasks``
module at start (``app.autodiscover_tasks``); a web process imports one the first time it dispatches to it
(a task's name is its module's path and its function's name).

The project's tasks are :class:`gigmarket.celery.ResilientTask`: when the broker cannot be reached the call
logs the task's name and returns None instead of raising (docs/bad-days.md); the sweeps find the work. In
eager mode (tests, ``scripts/run``) the task runs here and then, its errors its own.
"""

from __future__ import annotations

import threading
from importlib import import_module

from celery import current_app
from django.db import transaction

_importing = threading.Lock()


def task_named(name: str):
    """The registered task ``name`` (``"<app>.tasks.<function>"``); its module is imported if need be.

    Under a lock: Celery registers a task in the app's registry *before* it binds it, so a thread that
    looked the name up while another was importing the module got a task without its request stack and
    failed (``'NoneType' object has no attribute 'push'``, eager mode; gthread workers could meet it on
    their first requests). An uncontended lock costs far less than the ``delay`` after it."""
    with _importing:
        if name not in current_app.tasks:
            import_module(name.rpartition(".")[0])
        return current_app.tasks[name]


def dispatch(name: str, *args, **kwargs):
    """Queue the task registered as ``name`` with these arguments (ids, never objects). Returns the
    ``AsyncResult``, or None when the broker is down. An unknown name raises ``NotRegistered``."""
    return task_named(name).delay(*args, **kwargs)


def dispatch_later(name: str, seconds: float, *args):
    """:func:`dispatch`, run no sooner than ``seconds`` from now (Celery's countdown; at once when eager)."""
    return task_named(name).apply_async(args, countdown=seconds)


def dispatch_on_commit(name: str, *args, **kwargs) -> None:
    """:func:`dispatch` once the current transaction commits (at once outside one): what the task will do
    is written down first, so a rollback queues nothing."""
    transaction.on_commit(lambda: dispatch(name, *args, **kwargs))
