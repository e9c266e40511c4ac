import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Employer, EmployerMember, ReviewEvent
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from notifications.models import Message
from tests.conftest import make_image
from tests.factories import EmployerFactory, RealNameFactory

pytestmark = pytest.mark.django_db
USCC = "91110000600037341L"


def _register(user, **overrides):
    data = {
        "kind": "company",
        "name": "永康市马架龙建筑劳务有限公司",
        "uscc": USCC,
        "legal_representative": "陈世林",
        "licence_image": make_image("JPEG"),
        "licence_expires_on": dt.date(2030, 1, 1),
    }
    data.update(overrides)
    return services.employer_register(user=user, **data)


def test_company_registration_pending_with_owner(alice):
    employer = _register(alice)
    assert employer.status == "pending" and employer.uscc == USCC
    assert EmployerMember.objects.get(employer=employer).role == "owner"
    assert employer.licence_image.name.startswith("licences/")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uscc": "91110000600037341A"}, "uscc"),
        ({"uscc": ""}, "uscc"),
        ({"legal_representative": ""}, "legal_representative"),
        ({"licence_image": None}, "licence_image"),
        ({"licence_image": make_image("GIF")}, "licence_image"),
        ({"licence_expires_on": dt.date(2020, 1, 1)}, "licence_expires_on"),
        ({"kind": "alien"}, "kind"),
    ],
)
def test_bad_company_input_is_field_level_and_saves_nothing(alice, overrides, field):
    with pytest.raises(ValidationError) as info:
        _register(alice, **overrides)
    assert field in info.value.message_dict
    assert not Employer.objects.exists() and not EmployerMember.objects.exists()


def test_oversized_licence_refused(alice, settings):
    settings.UPLOAD_MAX_BYTES = 200
    with pytest.raises(ValidationError) as info:
        _register(alice, licence_image=make_image("PNG", size=(300, 300)))
    assert "licence_image" in info.value.message_dict


def test_same_uscc_twice_refused(alice, bob):
    _register(alice)
    with pytest.raises(ValidationError) as info:
        _register(bob)
    assert "uscc" in info.value.message_dict


def test_household_needs_verified_realname(alice):
    with pytest.raises(ValidationError) as info:
        services.employer_register(user=alice, kind="household")
    assert "kind" in info.value.message_dict
    RealNameFactory(user=alice, name="李爱丽")
    alice.refresh_from_db()
    employer = services.employer_register(user=alice, kind="household")
    assert employer.name == "李爱丽（居民）" and employer.uscc is None


def test_full_status_lifecycle_with_sms_and_events(alice, staff):
    employer = _register(alice)
    with pytest.raises(InvalidTransition):
        services.employer_suspend(employer=employer, actor=staff, reason="投诉")
    services.employer_reject(employer=employer, actor=staff, reason="执照照片不清晰")
    employer.refresh_from_db()
    assert employer.status == "rejected" and employer.reject_reason == "执照照片不清晰"
    services.employer_resubmit(
        employer=employer,
        actor=alice,
        name=employer.name,
        uscc=USCC,
        legal_representative="陈世林",
        licence_image=make_image(),
    )
    services.employer_approve(employer=employer, actor=staff)
    services.employer_suspend(employer=employer, actor=staff, reason="多次欠薪投诉")
    services.employer_reinstate(employer=employer, actor=staff)
    employer.refresh_from_db()
    assert employer.status == "approved"
    transitions = [(e.from_status, e.to_status) for e in ReviewEvent.objects.filter(subject="employer")]
    assert transitions == [
        ("", "pending"),
        ("pending", "rejected"),
        ("rejected", "pending"),
        ("pending", "approved"),
        ("approved", "suspended"),
        ("suspended", "approved"),
    ]
    sms = Message.objects.filter(phone=alice.phone, template="employer_decided").order_by("pk")
    assert len(sms) == 4
    assert "执照照片不清晰" in sms[0].body and "多次欠薪投诉" in sms[2].body


def test_resubmit_only_by_owner_and_only_when_rejected(alice, bob, staff):
    employer = _register(alice)
    with pytest.raises(InvalidTransition):
        services.employer_resubmit(
            employer=employer, actor=alice, name="x公司", uscc=USCC, legal_representative="陈"
        )
    services.employer_reject(employer=employer, actor=staff, reason="缺材料")
    with pytest.raises(NotAllowed):
        services.employer_resubmit(
            employer=employer, actor=bob, name="x公司", uscc=USCC, legal_representative="陈"
        )
    # keeps the licence on file when none is uploaded again
    services.employer_resubmit(
        employer=employer, actor=alice, name="新名称公司", uscc=USCC, legal_representative="陈"
    )
    employer.refresh_from_db()
    assert employer.status == "pending" and employer.name == "新名称公司" and employer.licence_image


def test_only_approved_member_employers_publish(alice, bob, staff):
    employer = _register(alice)
    with pytest.raises(NotAllowed) as info:
        services.employer_assert_can_publish(employer=employer, user=alice)
    assert info.value.code == "employer_not_approved"
    services.employer_approve(employer=employer, actor=staff)
    services.employer_assert_can_publish(employer=employer, user=alice)
    with pytest.raises(NotAllowed):
        services.employer_assert_can_publish(employer=employer, user=bob)
    services.employer_member_add(employer=employer, actor=alice, phone="+86 " + bob.phone)
    services.employer_assert_can_publish(employer=employer, user=bob)
    services.employer_suspend(employer=employer, actor=staff, reason="调查中")
    with pytest.raises(NotAllowed):
        services.employer_assert_can_publish(employer=employer, user=bob)


def test_expired_licence_blocks_publishing(alice):
    employer = EmployerFactory(created_by=alice, licence_expires_on=dt.date(2020, 1, 1))
    with pytest.raises(NotAllowed) as info:
        services.employer_assert_can_publish(employer=employer, user=alice)
    assert info.value.code == "licence_expired"


def test_members_managed_by_owner_only(alice, bob, charlie):
    employer = EmployerFactory(created_by=alice)
    with pytest.raises(NotAllowed):
        services.employer_member_add(employer=employer, actor=bob, phone=charlie.phone)
    member = services.employer_member_add(employer=employer, actor=alice, phone=bob.phone)
    with pytest.raises(Conflict):
        services.employer_member_add(employer=employer, actor=alice, phone=bob.phone)
    with pytest.raises(DomainError):
        services.employer_member_add(employer=employer, actor=alice, phone="13011112222")
    with pytest.raises(NotAllowed):
        services.employer_member_remove(employer=employer, actor=bob, member=member)
    owner = EmployerMember.objects.get(employer=employer, role="owner")
    with pytest.raises(DomainError):
        services.employer_member_remove(employer=employer, actor=alice, member=owner)
    services.employer_member_remove(employer=employer, actor=alice, member=member)
    assert list(employer.members.all()) == [alice]


def test_staff_without_permission_cannot_decide(alice):
    from tests.factories import UserFactory

    clerk = UserFactory(role="staff", is_staff=True)
    employer = _register(alice)
    with pytest.raises(NotAllowed):
        services.employer_approve(employer=employer, actor=clerk)
    employer.refresh_from_db()
    assert employer.status == "pending"


def test_reinstate_only_from_suspended_and_approve_only_from_pending(alice, staff):
    employer = _register(alice)
    with pytest.raises(InvalidTransition):
        services.employer_reinstate(employer=employer, actor=staff)
    services.employer_approve(employer=employer, actor=staff)
    services.employer_suspend(employer=employer, actor=staff, reason="调查")
    with pytest.raises(InvalidTransition):
        services.employer_approve(employer=employer, actor=staff)
    employer.refresh_from_db()
    assert employer.status == "suspended"


def test_member_count_counts_everyone(alice, bob):
    from accounts.selectors import employers_for_user

    employer = EmployerFactory(created_by=alice)
    services.employer_member_add(employer=employer, actor=alice, phone=bob.phone)
    assert [e.member_count for e in employers_for_user(user=bob)] == [2]
