"""Helpers for tests of bad days: point this process's cache and Celery at a Redis the test controls (or at
a port where nothing listens), each under a key prefix of the test's own."""

from __future__ import annotations

import contextlib
import socket
import time

from django.conf import settings as django_settings


def closed_port_url() -> str:
    """A Redis URL where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def use_cache(settings, url: str, prefix: str) -> None:
    """The ``settings`` fixture's cache on ``url`` through core.cache (pytest-django restores it)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": django_settings.REDIS_CACHE_OPTIONS,
        }
    }
    reset_breakers()


def reset_breakers() -> None:
    from core.cache import breaker
    from gigmarket.celery import broker_breaker

    breaker.reset()
    broker_breaker.reset()


@contextlib.contextmanager
def celery_broker(url: str, prefix: str):
    """Tasks queued by this process go to the broker at ``url`` (not eager), under ``prefix``."""
    from gigmarket.celery import app

    conf = app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.broker_transport_options)
    _drop_connections(app)
    conf.task_always_eager = False
    conf.broker_url = url
    conf.broker_transport_options = {"global_keyprefix": f"{prefix}:", "socket_connect_timeout": 1}
    reset_breakers()
    try:
        yield app
    finally:
        _drop_connections(app)
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        reset_breakers()


def _drop_connections(app) -> None:
    """Forget pooled connections to the old broker (not ``app.close()``: that unregisters the app, and
    tasks imported later would never be registered on it)."""
    app._pool = None  # (kombu keeps the pool itself in its registry, shared: it is not closed here)
    app.amqp._producer_pool = None


def timed(call):
    """(result, seconds) of ``call()``."""
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start
