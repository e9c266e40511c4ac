"""Settings for the gunicorn that tests/faults/test_database_down.py starts: the test settings on the
test database the runner made, with production's persistent, health-checked connections, named so the test
can cut exactly this server's connections."""

import os

from gigmarket.settings.test import *  # noqa: F403
from gigmarket.settings.test import DATABASES

DATABASES["default"].update(
    CONN_MAX_AGE=60,
    CONN_HEALTH_CHECKS=os.environ.get("GIGMARKET_TEST_HEALTH_CHECKS", "1") == "1",
    OPTIONS={"application_name": os.environ["GIGMARKET_TEST_APP_NAME"]},
)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING = {"version": 1, "disable_existing_loggers": False}
