"""Settings shared by every environment. Values that vary come from :mod:`gigmarket.env`."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from gigmarket.env import env

E = env()
BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = E.debug
ALLOWED_HOSTS = E.allowed_hosts
CSRF_TRUSTED_ORIGINS = E.csrf_trusted_origins
SECRET_KEY = E.secret_key.get_secret_value() if E.secret_key else ""

INSTALLED_APPS = [
    # The staff console's site demands a verified second factor (accounts/admin_site.py).
    "accounts.admin_config.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "accounts",
    "notifications",
    "jobs",
    "wallet",
    "insurance",
    "matching",
    "disputes",
    "hall",
    "outreach",
    "live",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    # 抢单 on a post already full: the API's 409 from a mark in Redis, before sessions, auth, DRF or the
    # database (jobs/grab_front.py); anything else passes through.
    "jobs.grab_front.FullPostMiddleware",
    # A database outage in a view is a clean 503 (core/unavailable.py; handler500 covers middleware).
    "core.unavailable.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff and mediators: 30 minutes idle ends the session, and no page without a second factor. (Not
    # django-otp's OTPMiddleware: it sets user.is_verified, which here is the real-name property.)
    "accounts.middleware.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lock-out into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gigmarket.urls"
WSGI_APPLICATION = "gigmarket.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections, checked before reuse: after PostgreSQL restarts, gunicorn and Celery reconnect on
# their own (the first request after the restart gets a fresh connection, not an error).
DATABASES = {"default": dj_database_url.parse(E.database_url, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Short OLTP queries only: JIT compiling took seconds (measured 1.6–5 s on a board page whose rows took
    # 60 ms) whenever a cost estimate passed jit_above_cost, and repays on none of our queries.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# The 抢单's fixed statements are prepared once per connection (core/prepared.py). Off behind a pooler that
# shares sessions between clients (PgBouncer in transaction mode).
DB_PREPARED_STATEMENTS = E.db_prepared_statements
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis makes things fast, never decides correctness: core.cache turns an unreachable Redis into misses
# (behind a short circuit breaker), and short socket timeouts keep a hung Redis from holding requests.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
if E.redis_url:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": E.redis_url,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.PhoneCodeBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"

# Two factors for staff and mediators (docs/staff-two-factor.md): a TOTP authenticator app plus one-time
# recovery codes, required for every page and API call they make; their sessions end after this long idle.
STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
STAFF_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = "零工市场"
# Wrong codes: django-otp's exponential back-off (1, 2, 4, 8… seconds after each consecutive failure).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Lock-out after repeated failed logins, by phone number: a market hall's kiosks share one address, so
# locking by IP would lock a whole hall out.
AXES_FAILURE_LIMIT = E.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=E.login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "phone"
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_SENSITIVE_PARAMETERS = ["password", "code", "phone"]
AXES_VERBOSE = False
# Only password logins go through axes: code logins are checked by accounts.services.user_login_by_code, so a
# number locked by someone else's wrong passwords still signs in by SMS code (codes have their own limits).
# By client address (accounts/throttle.py): (failed logins, window in seconds). The failure that reaches the
# limit makes the address wait the window out (429, Retry-After, 「请稍后再试（N 秒）」), during which its
# attempts are not processed, so they lock no number. The halls' kiosk addresses get LOGIN_KIOSK_FACTOR times
# as many (a whole hall signs in from them); so do their code requests (PHONE_CODE_IP_LIMIT).
LOGIN_ADDRESS_FAILURES = {"password": (10, 300), "code": (20, 300)}
LOGIN_KIOSK_NETWORKS = E.kiosk_networks
LOGIN_KIOSK_FACTOR = 10
# axes.W006 asks for IP-based lock-out too; deliberately not (see above: shared kiosk/hall addresses).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Simplified Chinese for everyone, whatever the browser asks for: a worker's phone set to English, or a
# hall PC, still gets the market's language. (No LocaleMiddleware on purpose.)
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = E.time_zone
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(E.static_root) if E.static_root else BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(E.media_root) if E.media_root else BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
UPLOAD_MAX_BYTES = E.upload_max_mb * 1024 * 1024
# Largest image (width × height) an upload may declare: 40 MP holds a phone's normal photo (12 MP) and an
# A4 page scanned at 600 dpi (35 MP), while decoding the largest allowed image stays near 160 MB (RGBA).
# A 48/50 MP "high resolution" phone mode is refused with a message asking for the normal mode. Pillow's
# own bomb check (core.apps) uses the same figure.
UPLOAD_MAX_IMAGE_PIXELS = 40_000_000
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Knox tokens; a staff or mediator token also ends after STAFF_IDLE_TIMEOUT unused.
        "accounts.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON only: DRF's browsable API pages carry inline styles (style="", a pygments <style>) that the
    # Content-Security-Policy refuses; people read and try the API at /api/v1/docs/ (Swagger UI).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.ViewOrderedCursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
}
# A token lives 30 days from its last use, renewed (one write) at most once an hour: a worker's phone that
# polls before the 7 a.m. rush does not write its token again on the grab itself (accounts/auth.py).
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=30),
    "AUTO_REFRESH": True,
    "MIN_REFRESH_INTERVAL": 3600,
    "USER_SERIALIZER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gigmarket API",
    "DESCRIPTION": "零工市场 public API (v1): accounts, real-name, employers, certificates, and jobs (board, posts, claims, orders, contracts, ratings).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" / "kind" / "role" with different choices: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "accounts.models.User.Role",
        "SelfRegisterRoleEnum": "accounts.serializers.SELF_REGISTER_ROLES",
        "EmployerMemberRoleEnum": "accounts.models.EmployerMember.Role",
        "RealNameStatusEnum": "accounts.models.RealName.Status",
        "EmployerStatusEnum": "accounts.models.Employer.Status",
        "CertificateStatusEnum": "accounts.models.Certificate.Status",
        "EmployerKindEnum": "accounts.models.Employer.Kind",
        "ServicePointKindEnum": "accounts.models.ServicePoint.Kind",
        "PayUnitEnum": "accounts.models.PayUnit",
        "PostStatusEnum": "jobs.models.Post.Status",
        "PostModeEnum": "jobs.models.Post.Mode",
        "ClaimStatusEnum": "jobs.models.Claim.Status",
        "OrderStatusEnum": "jobs.models.Order.Status",
        "PolicyStatusEnum": "insurance.models.Policy.Status",
        "AccidentClaimStatusEnum": "insurance.models.AccidentClaim.Status",
        "TopUpStatusEnum": "wallet.models.TopUp.Status",
        "WithdrawalStatusEnum": "wallet.models.Withdrawal.Status",
        "AccountKindEnum": "wallet.models.Account.Kind",
    },
}

# Celery: eager by default so the embedded platform needs no broker.
CELERY_BROKER_URL = E.redis_url or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = E.celery_eager
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A broker outage must not hold a request: one quick retry, then gigmarket.celery's task class gives up (the
# outbox row or the status it left behind is the truth, and the worker's sweeps send it later). A worker
# keeps trying to reach a lost broker for ever, and waits for it at start.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "jobs-expire-posts": {"task": "jobs.tasks.expire_posts", "schedule": 300},
    "jobs-expire-applications": {"task": "jobs.tasks.expire_applications", "schedule": 600},
    "jobs-auto-approve": {"task": "jobs.tasks.auto_approve_orders", "schedule": 600},
    "jobs-no-shows": {"task": "jobs.tasks.mark_no_shows", "schedule": 300},
    "insurance-retry-pending": {"task": "insurance.tasks.retry_pending_policies", "schedule": 600},
    "insurance-end-overdue-cover": {"task": "insurance.tasks.end_overdue_cover", "schedule": 3600},
    "insurance-retry-insurer-cancels": {"task": "insurance.tasks.retry_insurer_cancels", "schedule": 1800},
    "insurance-retry-remittances": {"task": "insurance.tasks.retry_remittances", "schedule": 900},
    "insurance-retry-claim-forwarding": {"task": "insurance.tasks.retry_claim_forwarding", "schedule": 900},
    "wallet-expire-top-ups": {"task": "wallet.tasks.expire_top_ups", "schedule": 300},
    "wallet-retry-withdrawals": {"task": "wallet.tasks.retry_withdrawals", "schedule": 300},
}


# Personal data keys. Outside production, keys derive from SECRET_KEY so a fresh clone runs; production
# demands its own (see production.py).
def _derived_fernet_key(secret: str, purpose: str) -> str:
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


FIELD_ENCRYPTION_KEYS = E.field_encryption_keys
BLIND_INDEX_KEY = E.blind_index_key.get_secret_value() if E.blind_index_key else ""

IDENTITY_VERIFIER = E.identity_verifier
IDENTITY_HTTP_URL = E.identity_http_url
IDENTITY_HTTP_KEY = E.identity_http_key.get_secret_value() if E.identity_http_key else ""
IDENTITY_HTTP_TIMEOUT = E.identity_http_timeout

SMS_BACKEND = E.sms_backend
SMS_SIGN_NAME = E.sms_sign_name
SMS_HTTP_URL = E.sms_http_url
SMS_ACCESS_KEY_ID = E.sms_access_key_id or ""
SMS_ACCESS_KEY_SECRET = E.sms_access_key_secret.get_secret_value() if E.sms_access_key_secret else ""

# One-time codes: rate limits per number and lifetime.
PHONE_CODE_TTL = timedelta(minutes=5)
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_IP_LIMIT = (timedelta(hours=1), 300)
PHONE_CODE_LIMITS = [(timedelta(minutes=1), 1), (timedelta(hours=1), 5), (timedelta(days=1), 10)]

# Order rules (shown to users on the post and order pages; see jobs/rules.py).
JOBS_RULES = {
    "FREE_CANCEL_MINUTES": 30,  # a worker may cancel free within this long after booking...
    "FREE_CANCEL_BEFORE_START_HOURS": 24,  # ...or while the start is still this far away
    "EMPLOYER_LATE_CANCEL_HOURS": 12,  # an employer cancelling closer than this to start pays compensation
    "EMPLOYER_COMPENSATION_RATE": "0.20",  # of the order's expected pay
    "EMPLOYER_COMPENSATION_MIN_FEN": 2000,  # at least 20 yuan (never more than the expected pay)
    "NO_SHOW_GRACE_MINUTES": 30,  # not checked in by start + grace = no-show
    "CHECK_IN_EARLY_MINUTES": 60,  # check-in opens this long before start
    "CHECK_IN_RADIUS_METERS": 1000,  # a check-in with a location must be this close to the post
    "AUTO_APPROVE_HOURS": 24,  # the worker's figures stand if the employer has not confirmed by then
    "APPLICATION_TTL_HOURS": 24,  # unanswered applications close after this (or at start, if sooner)
}

# Latitude of the market's city: scales longitude for nearest-first search (index in jobs migration 0005).
GEO_CITY_LATITUDE = 29.0

# Seconds a page of the public board is served from the cache (0 = off).
BOARD_CACHE_SECONDS = 5
# Each server process also keeps hot board pages this long (jobs/board_cache.py); at most the above.
BOARD_LOCAL_CACHE_SECONDS = 1
# A board page enters the shared cache once one process has been asked for it this many times (1 = at
# once): pages asked for once (a phone's own position, a deep page) never cost a cache write.
BOARD_CACHE_ADMIT_AFTER = 2

# Insurance: cover is required at or above this risk class; classes above the maximum are refused.
INSURANCE_REQUIRED_FROM_CLASS = 4
INSURANCE_MAX_CLASS = 6
INSURER_BACKEND = E.insurer_backend
INSURER_URL = E.insurer_url or ""
INSURER_KEY = E.insurer_key.get_secret_value() if E.insurer_key else ""
INSURER_TIMEOUT = E.insurer_timeout
# The daily premium remittance (insurance/remittance.py) pays this account through the payment gateway.
INSURER_PAYEE_ACCOUNT = E.insurer_payee_account or "6222020000000000000"
INSURER_PAYEE_NAME = E.insurer_payee_name or "零工市场测试保险"
# Extra invariants `reconcile_ledger` checks, from the areas that keep money in the ledger.
LEDGER_RECONCILE_CHECKS = ["insurance.remittance.reconcile_premiums"]

# Payment gateway for top-ups and withdrawals (wallet/gateways.py), and the wallet's limits.
PAYMENT_GATEWAY = E.payment_gateway
PAYMENT_GATEWAY_URL = E.payment_gateway_url
PAYMENT_GATEWAY_MERCHANT_ID = E.payment_gateway_merchant_id or ""
PAYMENT_GATEWAY_KEY = E.payment_gateway_key.get_secret_value() if E.payment_gateway_key else ""
PAYMENT_GATEWAY_TIMEOUT = E.payment_gateway_timeout
PAYMENT_NOTIFY_URL = E.payment_notify_url or ""
WALLET_RULES = {
    "TOP_UP_MAX_FEN": 5_000_000_00,  # one top-up at most 5,000,000 yuan
    "TOP_UP_EXPIRE_MINUTES": 30,  # an unpaid top-up is closed after this
    "WITHDRAWAL_MIN_FEN": 100,  # at least 1 yuan
    "WITHDRAWAL_MAX_FEN": 50_000_00,  # at most 50,000 yuan a time
    "WAGE_ARREARS_HOURS": 24,  # a completed order still unpaid this long shows in 欠薪预警
    "NOTIFY_MAX_AGE_SECONDS": 300,  # a gateway notification older (or newer) than this is refused
}

# Security headers (core/middleware.py, docs/security-headers.md). Scripts run only from our own files
# or with this request's nonce: no inline code, no eval, no plugins, no <base>, never framed, forms post
# only to us. Styles likewise come from our own files (no style="" in templates; ECharts draws its
# tooltips on the canvas). Browsers report violations to /csp-report/ through report-uri only: Chromium
# ignores report-uri once report-to is present, and delivers report-to only over HTTPS and a minute late.
CSP_REPORT_PATH = "/csp-report/"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": CSP_REPORT_PATH,
    },
}
# The report endpoint answers at most this many reports per client address a minute (one bad page can
# make a browser send dozens), and reads at most this many bytes of one.
CSP_REPORT_RATE_PER_MINUTE = 30
CSP_REPORT_MAX_BYTES = 16 * 1024
# Powerful features no page of ours uses are off for every page and every frame; the position is ours
# only (board nearest-first, a post's place, check-in).
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "core.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_pii"]},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "core.csp": {"level": "WARNING"},
    },
}

# --- outreach ---
# Follow-ups (回访): a task per completed order, due this many days after completion; still open this many
# days after its due date = overdue; an unreached worker is tried again after OUTREACH_FOLLOWUP_RETRY_DAYS,
# at most OUTREACH_FOLLOWUP_MAX_ATTEMPTS calls. Orders completed before the look-back window get no task
# (so switching the feature on does not flood the stations with old orders).
OUTREACH_FOLLOWUP_DELAY_DAYS = 3
OUTREACH_FOLLOWUP_OVERDUE_DAYS = 7
OUTREACH_FOLLOWUP_RETRY_DAYS = 1
OUTREACH_FOLLOWUP_MAX_ATTEMPTS = 3
OUTREACH_FOLLOWUP_LOOKBACK_DAYS = 30
CELERY_BEAT_SCHEDULE["outreach-followups"] = {"task": "outreach.tasks.create_followups", "schedule": 3600}
# Bulk import (批量导入): rows per file, and the file size.
OUTREACH_IMPORT_MAX_ROWS = 500
OUTREACH_IMPORT_MAX_BYTES = 2 * 1024 * 1024
# Content caps, checked while reading (outreach/imports.py): the templates have at most 15 columns and a
# post's description is at most 2,000 characters; an xlsx may unpack to 10 MB (a filled template of 500
# rows: under 1 MB), its shared strings to 5 MB.
OUTREACH_IMPORT_MAX_COLUMNS = 50
OUTREACH_IMPORT_MAX_CELL_CHARS = 2000
OUTREACH_IMPORT_MAX_UNPACKED_BYTES = 10 * 1024 * 1024
OUTREACH_IMPORT_MAX_SHARED_STRINGS_BYTES = 5 * 1024 * 1024
# A previewed file (it holds ID numbers) is emptied if not confirmed within this many hours.
OUTREACH_IMPORT_KEEP_HOURS = 24
CELERY_BEAT_SCHEDULE["outreach-purge-import-files"] = {
    "task": "outreach.tasks.purge_import_files",
    "schedule": 3600,
}

# --- live events (docs/live.md) ---
# Wake-ups go through this Redis (PUBLISH; one subscriber per ASGI process); unset = the in-process broker
# of a single-process server (scripts/run).
LIVE_REDIS_URL = E.redis_url
LIVE_CHANNEL_PREFIX = "gm:"
LIVE_REDIS_TIMEOUT_SECONDS = 0.5
LIVE_PUBLISH_BACKOFF_SECONDS = 5  # after a failed PUBLISH, skip publishing this long
LIVE_HEARTBEAT_SECONDS = 20  # a comment line on an idle stream (proxies and phones drop silent ones)
LIVE_RETRY_MS = 5000  # the browser's reconnect delay (SSE "retry:")
LIVE_STREAM_MAX_SECONDS = 1800  # a stream ends after this long; the browser reconnects (auth re-checked)
LIVE_MAX_STREAMS_PER_USER = 3  # a user's open streams on one process; the next one gets 429
LIVE_MAX_STREAMS = 20000  # all streams on one process; the next one gets 503 (pages poll)
LIVE_REPLAY_LIMIT = 50  # a reconnect replays at most this many missed messages…
LIVE_REPLAY_WINDOW_SECONDS = 3600  # …written at most this long ago
LIVE_QUEUE_SIZE = 256  # events waiting for one slow client; beyond it the stream ends (replay catches up)
LIVE_SLOTS_MAX_POSTS = 200  # post ids one public slots stream may watch
LIVE_POLL_SECONDS = 15  # the pages' fallback poll when there is no stream

# --- hall ---
# Big screen (大屏): its data endpoint is cached per service point for this many seconds (and sent with
# the same max-age), the page polls it this often and shows this many posts, a page of them at a time.
HALL_SCREEN_CACHE_SECONDS = 5
# …and each server process keeps its own copy this long in front of the shared cache (0 = off).
HALL_SCREEN_LOCAL_SECONDS = 1
# The ticker's market-wide counts are shared by every screen and rebuilt at most this often.
HALL_SCREEN_FIGURES_SECONDS = 30
HALL_SCREEN_POLL_SECONDS = 10
HALL_SCREEN_POSTS = 48  # one page of the board's nearest-first query (its page limit is 50)
HALL_SCREEN_PAGE_SIZE = 8
HALL_SCREEN_PAGE_SECONDS = 8
# Kiosk (求职机): back to the start screen (and the kiosk session ends) after this many idle seconds.
HALL_KIOSK_TIMEOUT_SECONDS = 90
HALL_KIOSK_POSTS = 6
# Dashboard (数据看板) figures are kept this long per scope and period (the market-wide view is heavy).
HALL_DASHBOARD_CACHE_SECONDS = 60
# Open-data export: rows per page of the posts/deals API, and the longest window one pull may ask for.
HALL_EXPORT_PAGE_MAX = 1000
HALL_EXPORT_MAX_DAYS = 366
# Open-data limits (hall/throttle.py): pulls per token and per client address each minute; after
# HALL_OPEN_DATA_BAD_TOKENS_FREE requests without a live token from one address within the window, that
# address waits HALL_OPEN_DATA_BACKOFF_BASE seconds, doubling with each further one, at most the max.
HALL_OPEN_DATA_TOKEN_PER_MINUTE = 60
HALL_OPEN_DATA_ADDRESS_PER_MINUTE = 120
HALL_OPEN_DATA_BAD_TOKENS_FREE = 5
HALL_OPEN_DATA_BAD_TOKEN_WINDOW = 24 * 3600
HALL_OPEN_DATA_BACKOFF_BASE = 60
HALL_OPEN_DATA_BACKOFF_MAX = 24 * 3600
# The day's supply/demand snapshot is rewritten every hour (idempotent), so the last run of a day stands
# for that day even if a run is missed.
CELERY_BEAT_SCHEDULE["hall-daily-snapshot"] = {"task": "hall.tasks.snapshot_supply_demand", "schedule": 3600}

# --- notifications ---
# Marketing-type messages (recommendations) are never delivered in quiet hours (local time); one queued then
# waits for the end. Each number gets at most this many marketing SMS a day; extra ones are not written.
NOTIFY_QUIET_HOURS = ("21:00", "08:00")
NOTIFY_MARKETING_DAILY_CAP = 3
# Delivery: rows claimed per task (one SendBatchSms holds at most 100 numbers), the lease of a claimed row
# (longer than any provider call: a row still SENDING after it is reconciled with the provider), retries.
NOTIFY_BATCH_SIZE = 100
# Provider calls one task makes at once when its rows cannot be batched (one number twice, many templates).
NOTIFY_SEND_THREADS = 8
NOTIFY_LEASE_SECONDS = 60
NOTIFY_MAX_ATTEMPTS = 8
NOTIFY_RETRY_BASE_SECONDS = 30
# Rows pending this long without being picked up (a lost task, a broker restart) are queued again.
NOTIFY_STALE_SECONDS = 30
# One-time codes have a Celery queue of their own, which a worker consumes before (or apart from) the rest
# (docker-compose.yml: `worker-codes` runs `-Q codes`, `worker` runs `-Q celery,codes`): a login code never
# waits behind a fan-out's batches. Fan-outs queue one task per NOTIFY_BATCH_SIZE rows.
CELERY_TASK_ROUTES = {"notifications.tasks.deliver_code": {"queue": "codes"}}
# "Your job starts soon" goes this long before the start of a confirmed order.
NOTIFY_REMINDER_LEAD = timedelta(hours=2)
SMS_RATE_PER_SECOND = E.sms_rate_per_second
SMS_RATE_REDIS_URL = E.redis_url
SMS_HTTP_TIMEOUT = 5.0
# Replies ("T" = 退订) pushed by the provider to /notifications/sms/inbound/<token>/; unset = endpoint off.
# A message's secret variables (one-time codes) are wiped after this if the caller gives no expiry.
NOTIFY_SECRET_TTL = timedelta(minutes=10)
# The ``outbox`` backend's simulated phone (notifications/phone_simulator.py): full SMS, codes included, on the
# server's terminal. Local development only: production.py forces it off.
SMS_PHONE_SIMULATOR = False
SMS_INBOUND_TOKEN = E.sms_inbound_token.get_secret_value() if E.sms_inbound_token else ""
# Web Push (notifications/webpush.py, docs/push.md): the VAPID key (unset: made once and kept in the
# database), the subject push services may contact, how long a push service keeps an undelivered
# recommendation (a post that old may be gone), and the HTTP timeout of one push.
WEBPUSH_VAPID_PRIVATE_KEY = (
    E.webpush_vapid_private_key.get_secret_value() if E.webpush_vapid_private_key else ""
)
WEBPUSH_CONTACT = E.webpush_contact
WEBPUSH_TTL_SECONDS = 4 * 3600
WEBPUSH_HTTP_TIMEOUT = 5.0
# A subscription that failed this many times in a row (other than 404/410, which delete it at once) goes.
WEBPUSH_MAX_FAILURES = 5
# Endpoints are URLs the server POSTs to: https to a push service's domain only. True lets http and local
# addresses through, for the local fake push service (tests, notifications/testing.py); never in production.
WEBPUSH_ALLOW_LOCAL_ENDPOINTS = False
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {"task": "notifications.tasks.sweep", "schedule": 30}
CELERY_BEAT_SCHEDULE["jobs-order-reminders"] = {
    "task": "jobs.tasks.queue_order_reminders",
    "schedule": 600,
}
TEMPLATES[0]["OPTIONS"]["context_processors"].append("notifications.context_processors.unread")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("accounts.elder.elder_mode")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("core.pwa.viewer")

# --- disputes ---
DISPUTES_DEADLINE_DAYS = 15  # 劳动争议调解仲裁法 art. 14: mediation ends within 15 days of acceptance
DISPUTES_DEADLINE_WARNING_DAYS = 3  # a case this close to its deadline is flagged and its mediator reminded
DISPUTES_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024  # one evidence file (JPEG, PNG or PDF)
DISPUTES_EVIDENCE_MAX_FILES = 20  # per case
CELERY_BEAT_SCHEDULE["disputes-deadlines"] = {"task": "disputes.tasks.check_deadlines", "schedule": 3600}

# --- matching ---
from celery.schedules import crontab  # noqa: E402

# How a (worker, post) pair is scored: weight × a 0..1 value per factor, summed (0–100); see matching/scoring.py.
MATCHING_WEIGHTS = {
    "trade": 27.0,  # wants this trade (想干)
    "skills": 6.0,  # a listed skill (会干) appears in the post
    "certificate": 4.0,  # holds the certificate a restricted trade needs
    "distance": 20.0,  # near, relative to the worker's max travel distance
    "pay": 15.0,  # pay against the worker's expectation
    "availability": 10.0,  # the post's day/time is when the worker is free
    "reliability": 7.0,  # 靠谱分
    "rating": 3.0,  # employers' stars
    "fair_share": 5.0,  # few applicants per slot get a boost
    "help": 3.0,  # 困难零工 tier (never shown in a reason)
}
MATCHING_PUSH_SIZE = 30  # seekers per push wave of a post
MATCHING_SECOND_PUSH_LEAD = timedelta(hours=12)  # still short of workers this close to the start → next group
MATCHING_INVITES_PER_POST = 30
MATCHING_CANDIDATES_PER_STAGE = (
    300  # retrieval cap per widening step (posts for a seeker; ×10 seekers for a post)
)
MATCHING_WIDEN_KM = 30  # a post widens its search to seekers within this radius
MATCHING_BATCH_TOP = 10  # posts kept per seeker by the nightly batch
# The batch's search is exact (the brute-force top 10, see matching/bounded.py) unless this caps the (trade,
# area) cells it may open per seeker; None: no cap. A cap trades exactness for time (4: exact for ~49 %).
MATCHING_BATCH_MAX_CELLS = None
MATCHING_BATCH_PROCESSES = 2  # forked ranking processes (PostgreSQL)
# Absolute links in SMS; set to the public address of the site.
MATCHING_SITE_URL = E.site_url
CELERY_BEAT_SCHEDULE["matching-second-push"] = {"task": "matching.tasks.push_due", "schedule": 900}
CELERY_BEAT_SCHEDULE["matching-recompute"] = {
    "task": "matching.tasks.recompute_city",
    "schedule": crontab(hour=3, minute=0),
}
# The nightly batch recomputes every seeker's top posts; the digest goes out in the evening, before the
# notifications quiet hours (21:00–08:00) would hold it to the next morning.
CELERY_BEAT_SCHEDULE["matching-digest"] = {
    "task": "matching.tasks.send_digest",
    "schedule": crontab(hour=20, minute=0),
}

# --- bad days (docs/bad-days.md) ---
# Sweeps every Celery worker queues when it connects to the broker (start, and each time the broker comes
# back) and then on its own timer, seconds apart, so work whose after-commit task was lost goes out even
# when beat is not running. Each is idempotent and also on beat's schedule.
WORKER_RECOVERY_SWEEPS = {
    "notifications.tasks.sweep": 30,  # outbox rows (SMS, in-app) never picked up
    "wallet.tasks.retry_withdrawals": 300,  # requested payouts whose task was lost
    "insurance.tasks.retry_pending_policies": 300,  # policies still waiting for their number
    "insurance.tasks.retry_insurer_cancels": 600,  # cancellations the insurer was never told about
    "insurance.tasks.retry_remittances": 900,  # premium remittances and statements not yet through
    "insurance.tasks.retry_claim_forwarding": 900,  # accepted claims (and documents) not yet at the insurer
    "matching.tasks.push_due": 900,  # a newly opened post's lost first push (within the hour), second pushes
    "jobs.tasks.grab_followon_sweep": 15,  # confirmed 抢单 whose follow-on task was lost (broker down)
}
# 抢单 (jobs/grabbing.py): the grab commits the slot and the claim in one short transaction and answers;
# the order, escrow, policy, contract and messages follow (jobs/followon.py) in a Celery task right after
# the commit. True runs the follow-on inside the grab's transaction instead (one transaction, as before):
# for test suites that check the order right after a grab inside a test's transaction.
GRAB_FOLLOWON_INLINE = False
# The follow-on task of a post runs this many seconds after the grab that queued it: a rush's grabs get the
# box first, and one task makes all their orders (0: at once). Below GRAB_FOLLOWON_SWEEP_AFTER_SECONDS.
GRAB_FOLLOWON_DELAY_SECONDS = 2
# A claim whose follow-on has waited this long is picked up by the sweep (and reported by reconcile_orders
# when it waited more than GRAB_FOLLOWON_ALERT_SECONDS).
GRAB_FOLLOWON_SWEEP_AFTER_SECONDS = 5
GRAB_FOLLOWON_ALERT_SECONDS = 120
# The front's ticket counter per grab post (jobs/grab_front.py): only about as many grabs as there are free
# slots reach the database. False: only the full mark is asked (bench/grab_rush.py --no-tickets compares).
GRAB_TICKETS = True

# --- money at the edges ---
# Every night: owed wages an employer's money could already pay are paid, then every order is checked
# against its rules (manage.py reconcile_orders); staff who see the books get an in-app message on a breach.
# Every morning: yesterday's earned premiums are paid to the insurer with their statement (insurance/remittance.py).
CELERY_BEAT_SCHEDULE["insurance-daily-remittance"] = {
    "task": "insurance.tasks.remit_premiums_daily",
    "schedule": crontab(hour=1, minute=30),
}
CELERY_BEAT_SCHEDULE["jobs-reconcile-orders"] = {
    "task": "jobs.tasks.reconcile_orders_nightly",
    "schedule": crontab(hour=2, minute=30),
}

# ID card photos sent with a real-name (accounts.IdCardPhoto) are deleted 30 days after the decision.
CELERY_BEAT_SCHEDULE["accounts-purge-id-photos"] = {
    "task": "accounts.tasks.purge_id_photos",
    "schedule": crontab(hour=3, minute=40),
}

# Mistyped GIGMARKET_* variables are reported by a system check (gigmarket.W001), registered here.
from gigmarket import checks as _env_checks  # noqa: E402, F401
