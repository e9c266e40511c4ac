"""Settings for the real Celery worker that test_worker_kill.py starts: the test settings (and the test
database the runner names), but a Redis broker, the aliyun backend on the test's fake gateway, and short
leases so a killed worker's rows are reconciled within the test."""

import os

from gigmarket.settings.test import *  # noqa: F403
from gigmarket.settings.test import E

# The test that starts this worker names a key prefix of its own: broker queues, the provider's rate bucket
# and the cache all live under it in the shared test Redis database, and the test deletes only those keys.
_PREFIX = os.environ["GIGMARKET_TEST_KEY_PREFIX"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{_PREFIX}:", "socket_connect_timeout": 2}
SMS_RATE_KEY_PREFIX = _PREFIX
CACHES = {
    "default": {
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": E.redis_url,
        "KEY_PREFIX": _PREFIX,
        "OPTIONS": REDIS_CACHE_OPTIONS,  # noqa: F405
    }
}

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = E.redis_url
SMS_BACKEND = E.sms_backend
SMS_HTTP_URL = E.sms_http_url
SMS_ACCESS_KEY_ID = E.sms_access_key_id or ""
SMS_ACCESS_KEY_SECRET = E.sms_access_key_secret.get_secret_value() if E.sms_access_key_secret else ""
SMS_RATE_REDIS_URL = E.redis_url
SMS_RATE_PER_SECOND = E.sms_rate_per_second
SMS_HTTP_TIMEOUT = 2.0
NOTIFY_LEASE_SECONDS = 6
NOTIFY_STALE_SECONDS = 3
NOTIFY_BATCH_SIZE = 50
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The worker's own sweeps (gigmarket/celery.py), fast enough for a test to wait for.
WORKER_RECOVERY_SWEEPS = {
    "notifications.tasks.sweep": 2,
    "matching.tasks.push_due": 2,
    "wallet.tasks.retry_withdrawals": 60,
    "insurance.tasks.retry_pending_policies": 60,
}
# Production's persistent, health-checked connections, named so a test can cut exactly the worker's.
DATABASES["default"].update(  # noqa: F405
    CONN_MAX_AGE=60,
    CONN_HEALTH_CHECKS=True,
    OPTIONS={"application_name": os.environ.get("GIGMARKET_TEST_APP_NAME", "gigmarket-test-worker")},
)
