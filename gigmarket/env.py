"""The one strict reader of the environment.

Every setting the platform takes from outside comes through :class:`Env`: each variable is typed, a
malformed value stops start-up with a message naming the variable, and nothing else in the code reads
``os.environ``. Variables are prefixed ``GIGMARKET_`` (e.g. ``GIGMARKET_DATABASE_URL``).
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]


class Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIGMARKET_", extra="ignore", case_sensitive=False)

    # Core
    secret_key: SecretStr | None = Field(None, description="Django SECRET_KEY; required in production.")
    debug: bool = Field(False, description="Django DEBUG; never true in production.")
    allowed_hosts: CommaList = Field(default_factory=list, description="Comma-separated host names.")
    csrf_trusted_origins: CommaList = Field(default_factory=list, description="Comma-separated origins.")
    database_url: str = Field("sqlite:///db.sqlite3", description="Database URL (sqlite:/// or postgres://).")
    db_prepared_statements: bool = Field(
        True,
        description="PostgreSQL: run the 抢单's fixed statements prepared (off behind a transaction pooler).",
    )
    redis_url: str | None = Field(None, description="Redis URL for cache and Celery; unset = local memory.")
    celery_eager: bool = Field(True, description="Run Celery tasks in-process (no broker needed).")
    time_zone: str = Field("Asia/Shanghai", description="Local time zone of the market.")

    # Personal data protection (PIPL art. 28)
    field_encryption_keys: CommaList = Field(
        default_factory=list,
        description="Comma-separated Fernet keys for personal data at rest; the first encrypts, all decrypt.",
    )
    blind_index_key: SecretStr | None = Field(None, description="HMAC key for the ID-number blind index.")

    # Identity verification (实名核验)
    identity_verifier: Literal["manual", "fake", "http"] = Field("manual", description="Real-name backend.")
    identity_http_url: str | None = Field(None, description="Provincial identity service URL (http backend).")
    identity_http_key: SecretStr | None = Field(None, description="API key for the identity service.")
    identity_http_timeout: float = Field(5.0, gt=0, description="Seconds before the identity call gives up.")

    # Accident insurance (按单意外险出单)
    insurer_backend: Literal["fake", "http"] = Field(
        "fake", description="fake = policies numbered locally (demos, tests); http = an insurer's policy API."
    )
    insurer_url: str | None = Field(None, description="Insurer policy API base URL (http backend).")
    insurer_key: SecretStr | None = Field(None, description="Key signing requests to and from the insurer.")
    insurer_timeout: float = Field(8.0, gt=0, description="Seconds before an insurer call gives up.")
    insurer_payee_account: str = Field(
        "", description="The insurer's bank account the daily premium remittance is paid to."
    )
    insurer_payee_name: str = Field("", description="The name on the insurer's premium account.")

    # SMS
    sms_backend: Literal["outbox", "console", "aliyun"] = Field(
        "outbox", description="outbox = stored in the database only; console; aliyun-style HTTP gateway."
    )
    sms_sign_name: str = Field("零工市场", description="SMS signature (签名).")
    sms_http_url: str | None = Field(None, description="SMS gateway URL (aliyun backend).")
    sms_access_key_id: str | None = Field(None, description="SMS gateway access key id.")
    sms_access_key_secret: SecretStr | None = Field(None, description="SMS gateway access key secret.")
    sms_rate_per_second: float = Field(
        100.0, gt=0, description="Provider cap: SMS per second, shared by every worker process (Redis)."
    )
    sms_inbound_token: SecretStr | None = Field(
        None, description="Secret path part of the URL the provider pushes SMS replies to (unset = off)."
    )
    # Web Push (叮咚: the installed app chimes with the page closed)
    webpush_vapid_private_key: SecretStr | None = Field(
        None,
        description="VAPID private key (PEM, or the raw key in base64url); unset = one made once and kept in the DB.",
    )
    webpush_contact: str = Field(
        "mailto:admin@localhost",
        pattern=r"^(mailto:\S+@\S+|https://\S+)$",
        description="VAPID subject: how a push service reaches the operator (mailto: or https: URL).",
    )

    # Payment gateway (充值 top-ups and 提现 payouts)
    payment_gateway: Literal["fake", "http"] = Field(
        "fake", description="fake = top-ups paid and payouts made at once (local); http = a real gateway."
    )
    payment_gateway_url: str | None = Field(None, description="Payment gateway base URL (http backend).")
    payment_gateway_merchant_id: str | None = Field(None, description="Our merchant id at the gateway.")
    payment_gateway_key: SecretStr | None = Field(None, description="Merchant key signing both directions.")
    payment_gateway_timeout: float = Field(8.0, gt=0, description="Seconds before a gateway call gives up.")
    payment_notify_url: str | None = Field(
        None, description="Public URL of our payment notification endpoint (default: from the request)."
    )
    site_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+(:\d+)?/?$",
        description="Public address of the site, for links sent by SMS (recommendations, invitations).",
    )

    # Security knobs
    login_failure_limit: int = Field(5, ge=1, description="Failed logins before lock-out.")
    login_cooloff_minutes: int = Field(15, ge=1, description="Minutes a lock-out lasts.")
    kiosk_networks: CommaList = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of the halls' kiosks: higher login limits.",
    )
    upload_max_mb: int = Field(5, ge=1, le=50, description="Largest accepted image upload, in MB.")
    media_root: str | None = Field(None, description="Where uploads are stored (default: ./media).")
    static_root: str | None = Field(None, description="Where collectstatic writes (default: ./staticfiles).")

    # Tests and CI
    require_services: bool = Field(
        False, description="Tests fail (never skip) when PostgreSQL or Redis is unreachable; set by CI."
    )
    test_database_url: str = Field(
        "postgres://postgres@127.0.0.1:5432/gigmarket", description="PostgreSQL used by the test suite."
    )
    test_redis_url: str = Field("redis://127.0.0.1:6379/15", description="Redis used by the test suite.")
    property_scale: float = Field(
        1.0, gt=0, description="Multiplies the examples of the property-based tests (10 = a deeper run)."
    )
    test_processes: int = Field(
        2, ge=0, description="Processes scripts/test runs pytest in (pytest-xdist; 0 = the script's own)."
    )
    # Set by the test suite for the processes it starts (workers, servers), never by hand.
    test_app_name: str | None = Field(None, description="PostgreSQL application_name of a test process.")
    test_key_prefix: str | None = Field(None, description="Redis key prefix of a test worker process.")
    test_health_checks: bool = Field(True, description="CONN_HEALTH_CHECKS in the fault tests' server.")

    @field_validator(
        "allowed_hosts", "csrf_trusted_origins", "field_encryption_keys", "kiosk_networks", mode="before"
    )
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("kiosk_networks")
    @classmethod
    def _networks(cls, value):
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        return value


PREFIX = "GIGMARKET_"


def known_variables() -> set[str]:
    """Every ``GIGMARKET_*`` name :class:`Env` reads."""
    return {PREFIX + name.upper() for name in Env.model_fields}


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``GIGMARKET_*`` names in ``environ`` that no setting reads (a typo, or a README shorthand taken
    literally), each with the closest real name or ``None``. Pydantic ignores them silently
    (``extra="ignore"`` is how environment sources work), so start-up reports them instead
    (:func:`gigmarket.checks.environment_names_are_known`)."""
    known = known_variables()
    names = sorted(n for n in environ if n.upper().startswith(PREFIX) and n.upper() not in known)
    return [
        (n, next(iter(difflib.get_close_matches(n.upper(), known, n=1, cutoff=0.6)), None)) for n in names
    ]


@lru_cache(maxsize=1)
def env() -> Env:
    try:
        return Env()
    except ValidationError as exc:
        problems = "; ".join(
            f"GIGMARKET_{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ImproperlyConfigured(f"Bad environment: {problems}") from exc
