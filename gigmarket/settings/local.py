"""Embedded defaults for one-command runs on a laptop: SQLite, Celery eager, SMS into the outbox."""

from .base import *  # noqa: F403
from .base import E, _derived_fernet_key

DEBUG = E.debug if "debug" in E.model_fields_set else True
ALLOWED_HOSTS = E.allowed_hosts or ["localhost", "127.0.0.1", "[::1]"]
# A fixed development key: fine for a laptop, refused by production.py.
SECRET_KEY = E.secret_key.get_secret_value() if E.secret_key else "django-insecure-gigmarket-local-only"
FIELD_ENCRYPTION_KEYS = E.field_encryption_keys or [_derived_fernet_key(SECRET_KEY, "fields")]
BLIND_INDEX_KEY = BLIND_INDEX_KEY or f"blind-index:{SECRET_KEY}"  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# No collectstatic outside production: WhiteNoise serves straight from the app and project static dirs.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# SMS (codes included) appear on this terminal as on a phone; the admin outbox shows codes redacted.
SMS_PHONE_SIMULATOR = True
