"""Shared fixtures: named users (alice, bob, charlie), staff, fresh outbox access, uploaded images."""

from __future__ import annotations

import io
import shutil

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import factories


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite, unless CI demands the services (then settings fail)."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (not reachable here)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from tests.outage import reset_breakers

    reset_breakers()  # a test that took Redis away must not leave the next one skipping it
    cache.clear()
    yield
    reset_breakers()


def make_image(
    fmt: str = "PNG", size: tuple[int, int] = (40, 30), name: str | None = None
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    ext = {"PNG": "png", "JPEG": "jpg", "GIF": "gif"}[fmt]
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}[fmt]
    return SimpleUploadedFile(name or f"photo.{ext}", buffer.getvalue(), content_type=content_type)


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
    return factories.ServicePointFactory()


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
    """The newest SMS body sent to a number: ``outbox.last('138...')``; ``outbox.code(phone)`` the code."""
    from notifications.models import Message

    class Outbox:
        def messages(self, phone):
            return list(Message.objects.filter(phone=phone).order_by("created_at", "pk"))

        def last(self, phone):
            return Message.objects.filter(phone=phone).order_by("-created_at", "-pk").first()

        def code(self, phone):
            return self.last(phone).params["code"]

    return Outbox()
