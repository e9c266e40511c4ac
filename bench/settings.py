"""Benchmark settings: production's settings, plus a bench-only URLconf with a bare ``JsonResponse`` view.

Everything production does per request stays: DEBUG off, the full middleware stack (security, WhiteNoise,
sessions, CSRF, auth, axes, htmx), the Redis cache, persistent database connections. The runner
(``bench/jobs_board.py``) supplies throwaway secrets through the same ``GIGMARKET_*`` variables production
reads, and sends ``X-Forwarded-Proto: https`` as the TLS-terminating proxy in front of gunicorn would.
"""

import os
import warnings

from gigmarket.settings.production import *  # noqa: F403
from gigmarket.settings.production import CACHES, REST_FRAMEWORK

# No collectstatic for the bench (the image runs it at build time); JSON responses never touch static files.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")

ROOT_URLCONF = "bench.urls"

# Celery stays as in production (not eager): side effects (SMS, policy requests) are queued in the bench's
# Redis database and not run, as a separate worker would run them; the runner empties that queue.

# One load generator on one address: throttled endpoints would answer 429. The rates go out of the way
# but the throttle classes (and their cache round trips) stay, so the cost per request is production's.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000000/min", "user": "100000000/min"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Benches sharing one Redis keep apart: their cache keys carry the bench database's name.
CACHES = {
    "default": {**CACHES["default"], "KEY_PREFIX": os.environ.get("GIGMARKET_BENCH_CACHE_PREFIX", "bench")}
}

# bench/grab_rush.py --no-tickets: the front without its ticket counter, for before/after in one run.
GRAB_TICKETS = os.environ.get("GIGMARKET_BENCH_GRAB_TICKETS", "1") != "0"

# Live events (bench/live_events.py): the channels carry the bench database's name too.
LIVE_CHANNEL_PREFIX = f"{os.environ.get('GIGMARKET_BENCH_CACHE_PREFIX', 'bench')}:"
