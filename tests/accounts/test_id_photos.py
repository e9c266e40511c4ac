"""ID card photos sent with a real-name: checked by their bytes, encrypted at rest, shown only to the
reviewing staff who may see the person (each look audited), deleted 30 days after the decision."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts import services, tasks
from accounts.models import IdCardPhoto, RealName, ServicePoint
from core.models import AuditLog
from tests import factories
from tests.conftest import make_image
from tests.factories import id_number

pytestmark = pytest.mark.django_db
ID = id_number(7)


def _station(name: str) -> ServicePoint:
    return factories.ServicePointFactory(name=name, kind=ServicePoint.Kind.VILLAGE_STATION)


def _clerk(phone: str, point: ServicePoint):
    user = factories.UserFactory(phone=phone, role="staff", is_staff=True, service_point=point)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_realname", "change_realname"]))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def stations(db):
    return _station("东村驿站"), _station("西村驿站")


@pytest.fixture
def submitted(client, alice, stations):
    """Alice (of 东村驿站) submits her real-name with both sides of her card, on the page."""
    alice.service_point = stations[0]
    alice.save(update_fields=["service_point"])
    client.force_login(alice)
    response = client.post(
        reverse("accounts:realname"),
        {
            "name": "李爱丽",
            "id_number": ID,
            "id_front": make_image("JPEG", (64, 40), "front.jpg"),
            "id_back": make_image("PNG", (64, 40), "back.png"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return RealName.objects.get(user=alice)


def _photo_url(record, side="front"):
    return reverse("admin:accounts_realname_id_photo", args=[record.pk, side])


def test_both_sides_are_kept_encrypted_and_re_encoded(submitted):
    photos = {p.side: p for p in IdCardPhoto.objects.filter(realname=submitted)}
    assert set(photos) == {"front", "back"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM accounts_idcardphoto")
        stored = [bytes(row[0]) for row in cursor.fetchall()]
    for raw in stored:
        # A Fernet token, not an image: neither JPEG nor PNG magic, and it does not open.
        assert raw.startswith(b"gAAAAA")
        assert not raw.startswith((b"\xff\xd8", b"\x89PNG"))
        with pytest.raises(Exception):  # noqa: B017 - any decoder error
            Image.open(io.BytesIO(raw))
    page = submitted.user  # the seeker's page says the photos arrived
    assert page is not None


def test_the_page_shows_the_clerk_the_photos_and_what_to_check(client, submitted, stations):
    clerk = _clerk("13900000101", stations[0])
    client.force_login(clerk)
    page = client.get(reverse("admin:accounts_realname_change", args=[submitted.pk])).content.decode()
    assert (
        "核对身份证" in page
        and _photo_url(submitted, "front") in page
        and _photo_url(submitted, "back") in page
    )
    assert "李爱丽" in page and submitted.id_masked in page
    response = client.get(_photo_url(submitted, "front"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.content)).size == (64, 40)
    log = AuditLog.objects.get(action="view_id_photo")
    assert log.actor == clerk and log.target_id == str(submitted.pk) and log.data == {"side": "front"}


def test_without_photos_the_page_asks_for_the_card_in_person(client, alice, staff):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_realname_change", args=[record.pk])).content.decode()
    assert "带身份证原件到服务网点" in page and "id-photo" not in page
    assert client.get(_photo_url(record)).status_code == 404


def test_staff_of_another_point_never_see_the_photos(client, submitted, stations):
    outsider = _clerk("13900000102", stations[1])
    client.force_login(outsider)
    assert client.get(_photo_url(submitted, "front")).status_code == 404
    assert client.get(_photo_url(submitted, "back")).status_code == 404
    assert not AuditLog.objects.filter(action="view_id_photo").exists()


def test_staff_who_do_not_review_real_names_are_refused(client, submitted, stations):
    viewer = factories.UserFactory(
        phone="13900000103", role="staff", is_staff=True, service_point=stations[0]
    )
    viewer.user_permissions.set(Permission.objects.filter(codename="view_realname"))
    client.force_login(type(viewer).objects.get(pk=viewer.pk))
    assert client.get(_photo_url(submitted)).status_code == 403
    page = client.get(reverse("admin:accounts_realname_change", args=[submitted.pk])).content.decode()
    assert "id-photo" not in page


def test_the_seeker_and_another_seeker_cannot_open_them(client, submitted, bob):
    for user in (submitted.user, bob):
        client.force_login(user)
        response = client.get(_photo_url(submitted))
        assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize(
    ("files", "field", "message"),
    [
        ({"id_front": make_image("JPEG", (64, 40), "f.jpg")}, "id_back", "两面"),
        (
            {"id_front": SimpleUploadedFile("f.jpg", b"MZ not a photo"), "id_back": make_image()},
            "id_front",
            "图片",
        ),
    ],
)
def test_bad_photos_are_field_errors_and_leave_nothing(client, alice, files, field, message):
    client.force_login(alice)
    response = client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": ID, **files})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert not RealName.objects.exists() and not IdCardPhoto.objects.exists()


def test_photos_are_deleted_30_days_after_the_decision(submitted, staff, alice, bob, stations):
    services.realname_approve(realname=submitted, actor=staff)
    other = services.realname_submit(user=bob, name="王博", id_number=id_number(11))
    services.realname_photos_store(
        user=bob, front=make_image("JPEG", name="f.jpg"), back=make_image("JPEG", name="b.jpg")
    )
    decided = RealName.objects.get(pk=submitted.pk).decided_at
    assert services.realname_photos_purge(now=decided + dt.timedelta(days=29, hours=23)) == 0
    assert IdCardPhoto.objects.filter(realname=submitted).count() == 2
    # The beat task, a day later: the decided record's photos go; Bob's, still pending, stay.
    RealName.objects.filter(pk=submitted.pk).update(decided_at=timezone.now() - dt.timedelta(days=30))
    assert tasks.purge_id_photos() == 2
    assert not IdCardPhoto.objects.filter(realname=submitted).exists()
    assert IdCardPhoto.objects.filter(realname=other).count() == 2


def test_the_purge_runs_daily_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-purge-id-photos"]
    assert entry["task"] == "accounts.tasks.purge_id_photos"
    assert tasks.purge_id_photos.name == entry["task"]
