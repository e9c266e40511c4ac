"""The Celery app. Tasks are thin wrappers around services; they take primary keys and are idempotent.

Two rules for bad days (docs/bad-days.md):

- **Queuing a task never fails the caller.** Work is queued after a commit, by the task's name
  (``core.dispatch.dispatch_on_commit("insurance.tasks.issue_policy", pk)``: services never import a tasks
  module): what it will do is already written down (an outbox row, a pending policy, a requested
  withdrawal). If the broker cannot be reached, :class:`ResilientTask` logs the task's name (never its
  arguments: they can be phone numbers) and returns None instead of raising into a request whose
  transaction has committed. A short breaker spares later requests the wait.
- **The worker re-finds that work by itself**, without beat: :class:`RecoverySweeps` sends the sweeps in
  ``WORKER_RECOVERY_SWEEPS`` each time the worker's consumer (re)connects to the broker (start, and every
  return of the broker) and then on a timer of its own.
"""

import logging
import os

from celery import Celery, Task, bootsteps
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.breaker import Breaker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigmarket.settings.local")

logger = logging.getLogger("gigmarket.celery")

BROKER_ERRORS = (KombuOperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
broker_breaker = Breaker("celery broker", 5.0)


class ResilientTask(Task):
    """Every task's base class: ``delay``/``apply_async`` return None instead of raising when the broker
    is unreachable (eager mode is unchanged: there, errors are the task's own)."""

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, link=None, link_error=None, shadow=None, **options):  # fmt: skip
        if self._get_app().conf.task_always_eager:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
        if broker_breaker.open:
            logger.warning("broker down: %s not queued; its sweep will find the work", self.name)
            return None
        try:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
        except BROKER_ERRORS as exc:
            broker_breaker.trip(exc)
            logger.warning("broker down: %s not queued; its sweep will find the work", self.name)
            return None


def send_recovery_sweeps(app: Celery, names) -> int:
    """Queue each sweep task; returns how many were queued (none while the broker is down)."""
    sent = 0
    for name in names:
        try:
            app.send_task(name)
            sent += 1
        except BROKER_ERRORS as exc:
            logger.warning("could not queue the sweep %s (%s)", name, type(exc).__name__)
            break
    return sent


class RecoverySweeps(bootsteps.StartStopStep):
    """A consumer step: started once the worker is connected (at start and after each reconnection), it
    queues every recovery sweep at once and then each on its own interval."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self._timers = []

    def start(self, c):
        sweeps = dict(getattr(settings, "WORKER_RECOVERY_SWEEPS", {}))
        send_recovery_sweeps(c.app, sweeps)
        for name, seconds in sweeps.items():
            self._timers.append(c.timer.call_repeatedly(seconds, send_recovery_sweeps, (c.app, [name])))

    def stop(self, c):
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    shutdown = stop


_connparams = kombu_redis.Channel._connparams


def _connparams_while_connected(self, asynchronous=False):
    """Celery 5.7 with kombu 5.7: when Redis dies, the consumer collects and closes the broker connection,
    but the old channel is still used afterwards — closing it puts unacknowledged messages back, and a
    task that finishes meanwhile acknowledges on it. Both build a Redis client from the channel's
    connection, which is gone by then: an AttributeError, which Celery does not expect, and the worker
    exits ("Unrecoverable error"). Reported as what it is — a connection error — Celery logs it and
    reconnects. The messages concerned stay in the broker's unacked set (redelivered after the visibility
    timeout; tasks are idempotent) or, if Redis lost them, are re-found by the sweeps."""
    if self.connection is None or getattr(self.connection, "client", None) is None:
        raise RedisConnectionError("the broker connection of this channel is already closed")
    return _connparams(self, asynchronous=asynchronous)


kombu_redis.Channel._connparams = _connparams_while_connected

app = Celery("gigmarket", task_cls=ResilientTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["consumer"].add(RecoverySweeps)
app.autodiscover_tasks()
