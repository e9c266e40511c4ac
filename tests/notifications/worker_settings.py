"""Settings for the real Celery worker that test_worker_kill.py starts: the test settings (and the test
database the runner names), but a Redis broker, the aliyun backend on the test's fake gateway, and short
leases so a killed worker's rows are reconciled within the test."""

from gigmarket.settings.test import *  # noqa: F403
from gigmarket.settings.test import E

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
