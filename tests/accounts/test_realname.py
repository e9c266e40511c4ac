import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.identity import FakeVerifier
from accounts.models import RealName, ReviewEvent
from core.errors import Conflict, InvalidTransition, NotAllowed
from core.models import AuditLog
from notifications.models import Message
from tests.factories import id_number

pytestmark = pytest.mark.django_db
ID = id_number(7)


def test_submit_is_pending_for_manual_review_and_encrypted_at_rest(alice):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID.lower())
    assert record.status == RealName.Status.PENDING and record.method == "manual"
    assert record.id_masked == ID[0] + "*" * 16 + ID[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, id_index, id_masked FROM accounts_realname WHERE id = %s", [record.pk]
        )
        stored, index, masked = cursor.fetchone()
    assert ID not in stored and ID[6:14] not in stored
    assert ID not in index and masked == record.id_masked
    assert RealName.objects.get(pk=record.pk).id_number == ID  # decrypts for the service


def test_one_verified_account_per_person(alice, bob, staff):
    services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    with pytest.raises(Conflict) as info:
        services.realname_submit(user=bob, name="李爱丽", id_number=ID)
    assert info.value.field == "id_number"
    assert not RealName.objects.filter(user=bob).exists()
    # after alice's record is rejected, the number is free again
    services.realname_reject(realname=alice.realname, actor=staff, reason="证件照片不清晰")
    services.realname_submit(user=bob, name="李爱丽", id_number=ID)


def test_invalid_input_changes_nothing(alice):
    with pytest.raises(ValidationError) as info:
        services.realname_submit(user=alice, name="李", id_number="110105194902310028")
    assert set(info.value.message_dict) == {"name", "id_number"}
    assert not RealName.objects.exists()


def test_staff_approve_and_reject_with_events_and_sms(alice, bob, staff):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    services.realname_approve(realname=record, actor=staff)
    record.refresh_from_db()
    assert record.status == RealName.Status.VERIFIED and record.decided_by == staff
    alice.refresh_from_db()
    assert alice.is_verified
    events = ReviewEvent.objects.filter(subject="realname", object_id=record.pk)
    assert [(e.from_status, e.to_status) for e in events] == [("", "pending"), ("pending", "verified")]
    assert Message.objects.filter(phone=alice.phone, template="realname_decided").count() == 1
    with pytest.raises(InvalidTransition):
        services.realname_reject(realname=record, actor=staff, reason="x")

    other = services.realname_submit(user=bob, name="王博", id_number=id_number(8))
    with pytest.raises(Exception, match="原因"):
        services.realname_reject(realname=other, actor=staff, reason="  ")
    services.realname_reject(realname=other, actor=staff, reason="姓名与证件不符")
    other.refresh_from_db()
    assert other.status == "rejected" and other.reject_reason == "姓名与证件不符"
    assert "姓名与证件不符" in Message.objects.filter(phone=bob.phone).last().body


def test_resubmission_only_after_rejection(alice, staff):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    with pytest.raises(InvalidTransition):
        services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    services.realname_reject(realname=record, actor=staff, reason="照片模糊")
    again = services.realname_submit(user=alice, name="李爱丽", id_number=id_number(9))
    assert again.pk == record.pk and again.status == "pending" and again.reject_reason == ""


def test_non_staff_cannot_decide(alice, bob):
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    with pytest.raises(NotAllowed):
        services.realname_approve(realname=record, actor=bob)
    record.refresh_from_db()
    assert record.status == "pending"


def test_unmask_needs_explicit_permission_and_is_audited(alice, staff):
    from django.contrib.auth.models import Permission

    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    with pytest.raises(NotAllowed):
        services.realname_unmask(realname=record, actor=staff)
    assert not AuditLog.objects.exists()
    staff.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    staff = type(staff).objects.get(pk=staff.pk)
    assert services.realname_unmask(realname=record, actor=staff, ip_address="10.0.0.8", reason="核对") == ID
    log = AuditLog.objects.get()
    assert log.actor == staff and log.action == "unmask_id" and log.target_id == str(record.pk)
    assert log.ip_address == "10.0.0.8"


def test_fake_verifier_decides_at_once(alice, bob, settings, monkeypatch):
    settings.IDENTITY_VERIFIER = "fake"
    monkeypatch.setattr(FakeVerifier, "registry", {id_number(11): "王博"})
    record = services.realname_submit(user=alice, name="李爱丽", id_number=ID)
    assert record.status == "verified" and record.method == "fake"
    mismatch = services.realname_submit(user=bob, name="王小博", id_number=id_number(11))
    assert mismatch.status == "rejected" and "不一致" in mismatch.reject_reason
