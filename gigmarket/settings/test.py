"""Test settings: PostgreSQL and Redis whenever they are reachable, SQLite and local memory otherwise.

With ``GIGMARKET_REQUIRE_SERVICES=1`` (set by ``.ci/run``) an unreachable service is an error, never a
reason to skip.
"""

import os
import socket
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, E, _derived_fernet_key


def _reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


POSTGRES_AVAILABLE = _reachable(E.test_database_url, 5432)
REDIS_AVAILABLE = _reachable(E.test_redis_url, 6379)
if E.require_services and not (POSTGRES_AVAILABLE and REDIS_AVAILABLE):
    raise ImproperlyConfigured(
        "GIGMARKET_REQUIRE_SERVICES is set but "
        + " and ".join(
            name
            for name, ok in (
                (f"PostgreSQL ({E.test_database_url})", POSTGRES_AVAILABLE),
                (f"Redis ({E.test_redis_url})", REDIS_AVAILABLE),
            )
            if not ok
        )
        + " cannot be reached."
    )

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"
ALLOWED_HOSTS = ["*"]
FIELD_ENCRYPTION_KEYS = [_derived_fernet_key(SECRET_KEY, "fields")]
BLIND_INDEX_KEY = "test-blind-index-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
IDENTITY_VERIFIER = "manual"
SMS_BACKEND = "outbox"
# Tests read codes from the simulated phone, as the gateway would get them (tests/phones.py).
SMS_PHONE_SIMULATOR = True
MEDIA_ROOT = BASE_DIR / ".test-media" / str(os.getpid())
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
# Most tests run inside a transaction that never commits, where an after-commit task never runs: there the
# 抢单's follow-on runs inside the grab's transaction. tests/jobs/test_grab_followon.py runs the deferred
# path (short grab, task after commit, sweep) on committed transactions and real threads.
GRAB_FOLLOWON_INLINE = True
# The fake push service (notifications/testing.py) listens on http://127.0.0.1.
WEBPUSH_ALLOW_LOCAL_ENDPOINTS = True

if POSTGRES_AVAILABLE:
    DATABASES = {"default": dj_database_url.parse(E.test_database_url)}
    # One test database per run (pytest's process id), so two suites can share one PostgreSQL server.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# The only Redis database tests may use; each run keeps to its own key prefix in it (never FLUSHDB).
TEST_REDIS_URL = E.test_redis_url
TEST_REDIS_PREFIX = f"gmtest{os.getpid()}"
if REDIS_AVAILABLE:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": E.test_redis_url,
            "OPTIONS": REDIS_CACHE_OPTIONS,  # noqa: F405
            "KEY_PREFIX": TEST_REDIS_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Live events through the test Redis under this run's prefix, or the in-process broker without one.
LIVE_REDIS_URL = E.test_redis_url if REDIS_AVAILABLE else None
LIVE_CHANNEL_PREFIX = f"{TEST_REDIS_PREFIX}:"
# No collectstatic outside production: WhiteNoise serves straight from the app and project static dirs.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests see every change at once; the board cache has its own test that turns it on.
BOARD_CACHE_SECONDS = 0
BOARD_LOCAL_CACHE_SECONDS = 0
BOARD_CACHE_ADMIT_AFTER = 1  # the cache's own tests store on the first request; one test checks admission

# The follow-on task at once (tests/jobs/test_grab_front.py checks the delay on its own).
GRAB_FOLLOWON_DELAY_SECONDS = 0
