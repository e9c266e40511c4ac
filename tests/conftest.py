"""Shared fixtures: named users (alice, bob, charlie), staff, fresh outbox access, uploaded images."""

from __future__ import annotations

import importlib
import io
import os
import shutil
import struct
import zlib

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from notifications import phone_simulator
from tests import factories, phones


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite, unless CI demands the services (then settings fail)."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (not reachable here)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One PostgreSQL test database per pytest session, named by the process that runs it: two suites on
    one server never meet. ``GIGMARKET_TEST_DB_NAME`` names it instead: scripts/mutation runs one mutant
    at a time against one database it keeps (``--reuse-db``), made once rather than per mutant."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        name = os.environ.get("GIGMARKET_TEST_DB_NAME") or f"test_{db['NAME']}_{os.getpid()}"
        db.setdefault("TEST", {})["NAME"] = name


class SecondFactorClient(Client):
    """The test client whose ``force_login`` of a staff member or mediator also passes their second factor,
    the way the verification page does: a confirmed authenticator (made if they have none) named in the
    session under django-otp's key. The real check is untouched — a device deleted by a reset, another
    user's device or a session without the key still fails — and tests of the second factor itself use
    ``raw_client``."""

    def force_login(self, user, backend=None):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.second_factor import needs_second_factor

        super().force_login(user, backend)
        if not needs_second_factor(user):
            return
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="测试身份验证器", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def client():
    """pytest-django's ``client``, whose ``force_login`` passes the staff second factor (see above)."""
    return SecondFactorClient()


@pytest.fixture
def raw_client():
    """Django's own test client: ``force_login`` is the password/SMS step only."""
    return Client()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache. On Redis only this run's keys go (its KEY_PREFIX): the test
    database is shared with other suites running at the same time, and ``cache.clear()`` would FLUSHDB it
    under them (their rate-limit counters and throttles vanishing mid-test)."""
    from django.core.cache import cache

    from tests.outage import reset_breakers

    reset_breakers()  # a test that took Redis away must not leave the next one skipping it
    cache.clear()  # core.cache: on Redis, only this run's keys
    yield
    reset_breakers()


@pytest.fixture(autouse=True)
def _phones():
    """Every SMS the ``outbox`` backend delivers lands on the tests' phones (tests/phones.py)."""
    phones.clear()
    with phone_simulator.listening(phones.record):
        yield
    phones.clear()


def make_image(
    fmt: str = "PNG", size: tuple[int, int] = (40, 30), name: str | None = None
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    ext = {"PNG": "png", "JPEG": "jpg", "GIF": "gif"}[fmt]
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[fmt]
    return SimpleUploadedFile(name or f"photo.{ext}", buffer.getvalue(), content_type=content_type)


SCRIPT = b"<html><body><script>fetch('/admin/').then(r=>r.text()).then(alert)</script></body></html>"


def polyglot_png(name: str = "poly.html") -> SimpleUploadedFile:
    """A valid PNG with a page appended: what a browser told "text/html" would run."""
    data = make_image("PNG").read() + SCRIPT
    return SimpleUploadedFile(name, data, content_type="text/html")


def bomb_png(width: int = 30000, height: int = 30000, name: str = "bomb.png") -> SimpleUploadedFile:
    """A few hundred bytes whose header declares ``width`` × ``height`` RGB pixels (a decompression bomb):
    IHDR says the size, one small IDAT holds the first rows."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 256, 9)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def image():
    return make_image()


@pytest.fixture
def alice(db):
    return factories.SeekerFactory(phone="13800000001", name="李爱丽")


@pytest.fixture
def bob(db):
    return factories.SeekerFactory(phone="13800000002", name="王博")


@pytest.fixture
def charlie(db):
    return factories.SeekerFactory(phone="13800000003", name="张查理")


@pytest.fixture
def service_point(db):
    """The district market (the hall): its staff see every point's records (core.scoping). Tests of a
    station's or a street market's view make their own points (tests/core/test_staff_scoping.py)."""
    from accounts.models import ServicePoint

    return factories.ServicePointFactory(name="测试区零工市场", kind=ServicePoint.Kind.DISTRICT_MARKET)


@pytest.fixture
def staff(db, service_point):
    """Hall staff with the reviewer and assisted-registration permissions (not the unmask permission)."""
    user = factories.UserFactory(
        phone="13900000009", name="周工作", role="staff", is_staff=True, service_point=service_point
    )
    codenames = [
        "change_realname",
        "view_realname",
        "change_employer",
        "view_employer",
        "change_certificate",
        "view_certificate",
        "register_on_behalf",
        "change_workerprofile",
        "view_workerprofile",
        "view_user",
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # drop the permission cache


@pytest.fixture
def outbox(db):
    """The outbox rows to a number (``outbox.last('138...')``, codes redacted there) and the code as the
    phone received it (``outbox.code(phone)``, see tests/phones.py)."""
    from notifications.models import Message

    class Outbox:
        def messages(self, phone):
            return list(Message.objects.filter(phone=phone).order_by("created_at", "pk"))

        def last(self, phone):
            return Message.objects.filter(phone=phone).order_by("-created_at", "-pk").first()

        def code(self, phone):
            return phones.code(phone)

    return Outbox()


@pytest.fixture(autouse=True)
def _default_premium_table(request):
    """The default premium table is data from a migration (insurance 0002). A transactional test empties
    every table when it ends; in a run split over processes (scripts/test) one can come before tests that
    read the table, so each test that uses the database starts with the migration's table if it is empty."""
    if request.node.get_closest_marker("django_db") is None:
        wanted = {"db", "transactional_db"} & set(request.fixturenames)
        if not wanted:
            return
        request.getfixturevalue("transactional_db" if "transactional_db" in wanted else "db")
    from insurance.models import PremiumRate

    if not PremiumRate.objects.exists():
        defaults = importlib.import_module("insurance.migrations.0002_default_premiums").PREMIUMS
        PremiumRate.objects.bulk_create(
            PremiumRate(risk_class=risk, premium_fen=premium, cover_fen=1_000_000_00)
            for risk, premium in defaults.items()
        )


@pytest.fixture(autouse=True)
def _celery_join_allowed():
    """Celery's "a task is running here" flag (``result.get()`` refuses to wait while it is set) is one
    global per process, set and restored around every eager task. Threads running eager tasks at once
    (the concurrency tests) can restore it in the wrong order and leave it set, and a later test's
    ``.delay().get()`` would then fail; each test starts with it clear, as a fresh process does."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
