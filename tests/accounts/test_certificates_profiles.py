import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services
from accounts.models import Certificate, WorkerProfile
from core.errors import DomainError, InvalidTransition, NotAllowed
from tests.conftest import make_image
from tests.factories import CertificateTypeFactory, TradeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def welding():
    return CertificateTypeFactory()


def _submit(user, cert_type, **overrides):
    data = {"number": "T350402197506150012", "image": make_image("JPEG"), "expires_on": dt.date(2030, 6, 1)}
    data.update(overrides)
    return services.certificate_submit(user=user, cert_type=cert_type, **data)


def test_certificate_review_and_validity(alice, staff, welding):
    cert = _submit(alice, welding)
    assert not selectors.valid_certificate_exists(user=alice, cert_type_id=welding.pk)
    services.certificate_approve(certificate=cert, actor=staff)
    assert selectors.valid_certificate_exists(user=alice, cert_type_id=welding.pk)
    with pytest.raises(InvalidTransition):
        services.certificate_reject(certificate=cert, actor=staff, reason="x")


def test_expired_certificate_is_not_valid(alice, staff, welding):
    import time_machine

    cert = _submit(alice, welding, expires_on=dt.date(2027, 1, 1))
    services.certificate_approve(certificate=cert, actor=staff)
    with time_machine.travel(dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC)):
        assert not selectors.valid_certificate_exists(user=alice, cert_type_id=welding.pk)
        assert not Certificate.objects.get(pk=cert.pk).is_valid


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": ""}, "number"),
        ({"expires_on": dt.date(2020, 1, 1)}, "expires_on"),
        ({"issued_on": dt.date(2031, 1, 1)}, "issued_on"),
        ({"image": make_image("GIF")}, "image"),
    ],
)
def test_certificate_bad_input(alice, welding, overrides, field):
    with pytest.raises(ValidationError) as info:
        _submit(alice, welding, **overrides)
    assert field in info.value.message_dict
    assert not Certificate.objects.exists()


def test_certificate_rejection_needs_reason_and_perm(alice, bob, staff, welding):
    cert = _submit(alice, welding)
    with pytest.raises(NotAllowed):
        services.certificate_approve(certificate=cert, actor=bob)
    with pytest.raises(DomainError):
        services.certificate_reject(certificate=cert, actor=staff, reason="")
    services.certificate_reject(certificate=cert, actor=staff, reason="证件过期")
    cert.refresh_from_db()
    assert cert.status == "rejected" and cert.reject_reason == "证件过期"


def test_profile_update(alice):
    trades = [TradeFactory(name="保洁"), TradeFactory(name="搬运")]
    profile = services.worker_profile_update(
        user=alice,
        wanted_trades=trades,
        skills=["开荒保洁", " 擦玻璃 ", "开荒保洁", ""],
        expected_pay_fen=200_00,
        expected_pay_unit="day",
        availability=["weekdays", "mornings"],
    )
    assert profile.skills == ["开荒保洁", "擦玻璃"]
    assert set(profile.wanted_trades.values_list("name", flat=True)) == {"保洁", "搬运"}
    with pytest.raises(ValidationError):
        services.worker_profile_update(user=alice, availability=["sometimes"])
    with pytest.raises(ValidationError):
        services.worker_profile_update(user=alice, expected_pay_unit="week")
    with pytest.raises(DomainError):
        services.worker_profile_update(user=alice, help_tier=3)  # staff-only field
    profile.refresh_from_db()
    assert profile.expected_pay_unit == "day" and profile.help_tier == 0


def test_help_flag_staff_only(alice, bob, staff):
    profile = alice.worker_profile
    with pytest.raises(NotAllowed):
        services.worker_help_flag_set(profile=profile, actor=bob, tier=2, reasons=["older"])
    services.worker_help_flag_set(profile=profile, actor=staff, tier=2, reasons=["older", "low_income"])
    profile.refresh_from_db()
    assert profile.help_tier == WorkerProfile.HelpTier.FOCUS and profile.help_reasons == [
        "low_income",
        "older",
    ]
    with pytest.raises(DomainError):
        services.worker_help_flag_set(profile=profile, actor=staff, tier=9, reasons=[])


def test_certificate_number_encrypted_at_rest(alice, welding):
    from django.db import connection

    cert = _submit(alice, welding, number="110105194912310021")
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, number_masked FROM accounts_certificate WHERE id = %s", [cert.pk])
        stored, masked = cursor.fetchone()
    assert "110105194912310021" not in stored and masked == "1****************1"
    assert Certificate.objects.get(pk=cert.pk).number == "110105194912310021"
