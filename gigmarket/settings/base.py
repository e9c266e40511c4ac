"""Settings shared by every environment. Values that vary come from :mod:`gigmarket.env`."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url

from gigmarket.env import env

E = env()
BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = E.debug
ALLOWED_HOSTS = E.allowed_hosts
CSRF_TRUSTED_ORIGINS = E.csrf_trusted_origins
SECRET_KEY = E.secret_key.get_secret_value() if E.secret_key else ""

INSTALLED_APPS = [
    "django.contrib.admin",
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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

DATABASES = {"default": dj_database_url.parse(E.database_url, conn_max_age=60, conn_health_checks=True)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if E.redis_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": E.redis_url}}
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
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.ViewOrderedCursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
}
REST_KNOX = {"TOKEN_TTL": timedelta(days=30), "AUTO_REFRESH": True, "USER_SERIALIZER": None}
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
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "jobs-expire-posts": {"task": "jobs.tasks.expire_posts", "schedule": 300},
    "jobs-expire-applications": {"task": "jobs.tasks.expire_applications", "schedule": 600},
    "jobs-auto-approve": {"task": "jobs.tasks.auto_approve_orders", "schedule": 600},
    "jobs-no-shows": {"task": "jobs.tasks.mark_no_shows", "schedule": 300},
    "insurance-retry-pending": {"task": "insurance.tasks.retry_pending_policies", "schedule": 600},
    "insurance-end-overdue-cover": {"task": "insurance.tasks.end_overdue_cover", "schedule": 3600},
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

# Insurance: cover is required at or above this risk class; classes above the maximum are refused.
INSURANCE_REQUIRED_FROM_CLASS = 4
INSURANCE_MAX_CLASS = 6
INSURER_BACKEND = E.insurer_backend
INSURER_URL = E.insurer_url or ""
INSURER_KEY = E.insurer_key.get_secret_value() if E.insurer_key else ""
INSURER_TIMEOUT = E.insurer_timeout

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "core.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_pii"]},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
