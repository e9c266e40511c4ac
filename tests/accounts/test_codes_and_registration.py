import datetime as dt

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.db import transaction
from django.test import RequestFactory

from accounts import services
from accounts.models import PhoneCode, User
from core.errors import Conflict, DomainError, NotAllowed, RateLimited
from notifications.models import Message

pytestmark = pytest.mark.django_db
PHONE = "13912345678"
T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def test_code_goes_through_outbox_and_is_stored_hashed(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = services.phone_code_send(phone="+86 139 1234 5678", purpose="register")
    message = outbox.last(PHONE)
    assert message.template == "phone_code"
    assert message.status == Message.Status.SENT  # eager Celery delivered it through the outbox backend
    code = outbox.code(PHONE)  # as the phone received it
    assert len(code) == 6 and code.isdigit()
    # The row keeps it redacted, and the secret column is wiped once sent.
    assert "验证码为******" in message.body and code not in message.body
    assert "code" not in message.params and message.secret == ""
    assert code not in record.code_hash


@time_machine.travel(T0, tick=False)
def test_code_limits_per_number_minute_hour_day(outbox):
    services.phone_code_send(phone=PHONE, purpose="register")
    with pytest.raises(RateLimited, match="1分钟"):
        services.phone_code_send(phone=PHONE, purpose="register")
    # another number is not affected
    services.phone_code_send(phone="13912345679", purpose="register")

    with time_machine.travel(T0, tick=False) as traveller:
        for _ in range(4):
            traveller.shift(dt.timedelta(seconds=61))
            services.phone_code_send(phone=PHONE, purpose="register")
        traveller.shift(dt.timedelta(seconds=61))
        with pytest.raises(RateLimited, match="1小时"):
            services.phone_code_send(phone=PHONE, purpose="register")
        for _ in range(5):
            traveller.shift(dt.timedelta(minutes=61))
            services.phone_code_send(phone=PHONE, purpose="register")
        traveller.shift(dt.timedelta(minutes=61))
        with pytest.raises(RateLimited, match="明天"):
            services.phone_code_send(phone=PHONE, purpose="register")
        assert PhoneCode.objects.filter(phone=PHONE).count() == 10
        traveller.shift(dt.timedelta(days=1))
        services.phone_code_send(phone=PHONE, purpose="register")


def test_code_refused_for_malformed_phone():
    with pytest.raises(DomainError) as info:
        services.phone_code_send(phone="12345", purpose="register")
    assert info.value.field == "phone"
    assert not PhoneCode.objects.exists()


def test_register_with_code_is_single_use(outbox):
    services.phone_code_send(phone=PHONE, purpose="register")
    code = outbox.code(PHONE)
    user = services.user_register(phone=PHONE, code=code, name="赵洪亮", password="Weld-2026-ok")
    assert user.phone == PHONE and user.role == User.Role.SEEKER and user.worker_profile
    assert user.check_password("Weld-2026-ok")
    with pytest.raises(Conflict):
        services.user_register(phone=PHONE, code=code, name="赵洪亮")


def test_code_cannot_be_reused_for_another_purpose(outbox, alice):
    services.phone_code_send(phone=alice.phone, purpose="login")
    code = outbox.code(alice.phone)
    with pytest.raises(DomainError):
        services.phone_code_check(phone=alice.phone, purpose="reset", code=code)
    services.phone_code_check(phone=alice.phone, purpose="login", code=code)
    with pytest.raises(DomainError, match="过期或未发送"):
        services.phone_code_check(phone=alice.phone, purpose="login", code=code)


def test_code_expires(outbox):
    with time_machine.travel(T0, tick=False) as traveller:
        services.phone_code_send(phone=PHONE, purpose="register")
        code = outbox.code(PHONE)
        traveller.shift(dt.timedelta(minutes=5, seconds=1))
        with pytest.raises(DomainError) as info:
            services.user_register(phone=PHONE, code=code, name="赵洪亮")
    assert info.value.code == "code_expired"
    assert not User.objects.filter(phone=PHONE).exists()


def test_wrong_code_attempts_spoil_the_code(outbox, settings):
    services.phone_code_send(phone=PHONE, purpose="register")
    code = outbox.code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(settings.PHONE_CODE_MAX_ATTEMPTS):
        with pytest.raises(DomainError, match="不正确"):
            services.phone_code_check(phone=PHONE, purpose="register", code=wrong)
    with pytest.raises(DomainError) as info:
        services.phone_code_check(phone=PHONE, purpose="register", code=code)
    assert info.value.code == "code_spoiled"


def test_weak_password_refused_before_code_is_spent(outbox):
    services.phone_code_send(phone=PHONE, purpose="register")
    code = outbox.code(PHONE)
    with pytest.raises(DomainError) as info:
        services.user_register(phone=PHONE, code=code, name="赵洪亮", password="12345678")
    assert info.value.field == "password"
    user = services.user_register(phone=PHONE, code=code, name="赵洪亮")  # the code still works
    assert not user.has_usable_password()


def test_register_rolled_back_sends_nothing():
    """The code's SMS is written in the same transaction: a rolled-back request leaves no message."""
    with pytest.raises(RuntimeError), transaction.atomic():
        services.phone_code_send(phone=PHONE, purpose="register")
        raise RuntimeError("boom")
    assert not Message.objects.exists()
    assert not PhoneCode.objects.exists()


def test_password_reset_by_code(outbox, alice):
    services.phone_code_send(phone=alice.phone, purpose="reset")
    services.password_reset(phone=alice.phone, code=outbox.code(alice.phone), new_password="New-pass-2026")
    alice.refresh_from_db()
    assert alice.check_password("New-pass-2026")


def test_login_code_only_for_registered_numbers():
    with pytest.raises(DomainError) as info:
        services.phone_code_send(phone=PHONE, purpose="login")
    assert info.value.code == "not_registered"


def _request():
    request = RequestFactory().post("/login/", {"phone": "13800000001"})
    request.session = {}
    return request


def test_authenticate_by_password_and_by_code(outbox, alice):
    assert authenticate(_request(), phone="13800000001", password="Gig-pass-2026") == alice
    services.phone_code_send(phone=alice.phone, purpose="login")
    assert authenticate(_request(), phone=alice.phone, code=outbox.code(alice.phone)) == alice


def test_lockout_after_repeated_failures(alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert authenticate(_request(), phone=alice.phone, password="wrong-password") is None
    request = _request()
    assert authenticate(request, phone=alice.phone, password="Gig-pass-2026") is None
    assert getattr(request, "axes_locked_out", False)
    # another number is not locked
    assert authenticate(_request(), phone="13800000002", password="x") is None


def test_lockout_counts_failed_codes_too(alice, settings, outbox):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert authenticate(_request(), phone=alice.phone, code="000000") is None
    services.phone_code_send(phone=alice.phone, purpose="login")
    request = _request()
    assert authenticate(request, phone=alice.phone, code=outbox.code(alice.phone)) is None
    assert request.axes_locked_out


def test_assisted_registration_needs_villager_code(staff, outbox):
    villager = "13655556666"
    user = services.user_register_assisted(staff=staff, phone=villager, name="林阿婆")
    assert not user.is_active
    assert user.service_point == staff.service_point and user.registered_by == staff
    message = outbox.last(villager)
    assert message.template == "assisted_registration" and staff.service_point.name in message.body
    with pytest.raises(DomainError):
        services.user_confirm_assisted(staff=staff, phone=villager, code="000000")
    user = services.user_confirm_assisted(staff=staff, phone=villager, code=outbox.code(villager))
    assert user.is_active and user.phone_confirmed_at
    from core.models import AuditLog

    assert AuditLog.objects.filter(action="assisted_registration", target_id=str(user.pk)).exists()


def test_assisted_registration_refused_for_non_staff_and_existing(alice, staff):
    with pytest.raises(NotAllowed):
        services.user_register_assisted(staff=alice, phone="13655556666", name="林阿婆")
    with pytest.raises(Conflict):
        services.user_register_assisted(staff=staff, phone=alice.phone, name="林阿婆")
    assert not User.objects.filter(phone="13655556666").exists()


def test_assisted_confirm_only_by_same_point(staff, outbox):
    from tests.factories import ServicePointFactory, UserFactory

    other = UserFactory(role="staff", is_staff=True, service_point=ServicePointFactory())
    services.user_register_assisted(staff=staff, phone="13655556666", name="林阿婆")
    with pytest.raises(NotAllowed):
        services.user_confirm_assisted(staff=other, phone="13655556666", code=outbox.code("13655556666"))


def test_password_reset_revokes_api_tokens(outbox, alice):
    from knox.models import AuthToken

    AuthToken.objects.create(user=alice)
    services.phone_code_send(phone=alice.phone, purpose="reset")
    services.password_reset(phone=alice.phone, code=outbox.code(alice.phone), new_password="New-pass-2026")
    assert not AuthToken.objects.filter(user=alice).exists()


def test_codes_limited_per_client_address_too(settings):
    settings.PHONE_CODE_IP_LIMIT = (dt.timedelta(hours=1), 3)
    for i in range(3):
        services.phone_code_send(phone=f"1391234000{i}", purpose="register", ip_address="203.0.113.9")
    with pytest.raises(RateLimited):
        services.phone_code_send(phone="13912340009", purpose="register", ip_address="203.0.113.9")
    services.phone_code_send(phone="13912340009", purpose="register", ip_address="203.0.113.10")


def test_password_reset_lifts_a_lockout(alice, settings, outbox):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        authenticate(_request(), phone=alice.phone, password="wrong-password")
    services.phone_code_send(phone=alice.phone, purpose="reset")
    services.password_reset(phone=alice.phone, code=outbox.code(alice.phone), new_password="New-pass-2026")
    assert authenticate(_request(), phone=alice.phone, password="New-pass-2026") == alice
