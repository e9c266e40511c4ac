"""Production: PostgreSQL, Redis, a real Celery worker; every secret must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import E

_missing = [
    name
    for name, value in {
        "GIGMARKET_SECRET_KEY": E.secret_key,
        "GIGMARKET_ALLOWED_HOSTS": E.allowed_hosts,
        "GIGMARKET_FIELD_ENCRYPTION_KEYS": E.field_encryption_keys,
        "GIGMARKET_BLIND_INDEX_KEY": E.blind_index_key,
        "GIGMARKET_REDIS_URL": E.redis_url,
    }.items()
    if not value
]
# A real backend chosen without its address or key would only fail at the first payment or policy.
for _backend, _needs in (
    (E.payment_gateway == "http", {"GIGMARKET_PAYMENT_GATEWAY_URL": E.payment_gateway_url,
                                   "GIGMARKET_PAYMENT_GATEWAY_MERCHANT_ID": E.payment_gateway_merchant_id,
                                   "GIGMARKET_PAYMENT_GATEWAY_KEY": E.payment_gateway_key}),
    (E.insurer_backend == "http", {"GIGMARKET_INSURER_URL": E.insurer_url, "GIGMARKET_INSURER_KEY": E.insurer_key,
                                   "GIGMARKET_INSURER_PAYEE_ACCOUNT": E.insurer_payee_account,
                                   "GIGMARKET_INSURER_PAYEE_NAME": E.insurer_payee_name}),
    (E.identity_verifier == "http", {"GIGMARKET_IDENTITY_HTTP_URL": E.identity_http_url,
                                     "GIGMARKET_IDENTITY_HTTP_KEY": E.identity_http_key}),
):  # fmt: skip
    if _backend:
        _missing += [name for name, value in _needs.items() if not value]
if _missing:
    raise ImproperlyConfigured("Production needs: " + ", ".join(_missing))
if E.debug:
    raise ImproperlyConfigured("GIGMARKET_DEBUG must be off in production.")
if E.database_url.startswith("sqlite"):
    raise ImproperlyConfigured("Production runs on PostgreSQL: set GIGMARKET_DATABASE_URL.")

DEBUG = False
CELERY_TASK_ALWAYS_EAGER = False
# Never a simulated phone printing one-time codes on a server's output.
SMS_PHONE_SIMULATOR = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
