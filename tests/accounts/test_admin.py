"""The staff console: queues on the home page, review actions through the services, masked personal data,
audited unmasking, search by full ID number through the blind index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc as uscc_code

from accounts import services
from accounts.models import Certificate, Employer, RealName, ReviewEvent, User, WorkerProfile
from core.crypto import blind_index
from core.models import AuditLog
from notifications.models import Message
from tests import factories
from tests.conftest import make_image
from tests.factories import id_number

pytestmark = pytest.mark.django_db

ALICE_ID = id_number(101)
BOB_ID = id_number(102)
REALNAME_LIST = reverse("admin:accounts_realname_changelist")
EMPLOYER_LIST = reverse("admin:accounts_employer_changelist")
CERT_LIST = reverse("admin:accounts_certificate_changelist")


def _staff_with(*codenames: str, phone: str = "13900000077") -> User:
    user = factories.UserFactory(phone=phone, name="吴只读", role="staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)


def _grant(user: User, codename: str) -> User:
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("13900000099", "Admin-pass-2026", name="管理员")


@pytest.fixture
def pending_alice(alice):
    return services.realname_submit(user=alice, name="李爱丽", id_number=ALICE_ID)


@pytest.fixture
def pending_bob(bob):
    return services.realname_submit(user=bob, name="王博", id_number=BOB_ID)


@pytest.fixture
def pending_employer(bob):
    return factories.EmployerFactory(
        name="青溪市顺达搬家有限公司", status=Employer.Status.PENDING, created_by=bob, owner=bob
    )


@pytest.fixture
def cert_type(db):
    return factories.CertificateTypeFactory()


@pytest.fixture
def pending_certificate(alice, cert_type):
    return services.certificate_submit(
        user=alice,
        cert_type=cert_type,
        number="T110105197506150011",
        image=make_image(),
        expires_on=timezone.localdate() + dt.timedelta(days=365),
    )


def _action(client, url, action, objs, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objs], **extra}
    return client.post(url, data)


# ------------------------------------------------------------------------------------------- index


def test_index_shows_todays_queues_with_counts_and_links(
    client, staff, pending_alice, pending_bob, pending_employer, pending_certificate
):
    services.user_register_assisted(staff=staff, phone="13700000123", name="陈大山")
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "今日待办" in html
    assert 'data-queue="realnames">2<' in html
    assert 'data-queue="employers">1<' in html
    assert 'data-queue="certificates">1<' in html
    assert 'data-queue="assisted_unconfirmed">1<' in html
    assert f"{REALNAME_LIST}?status__exact=pending" in html

    # the links lead to the filtered lists
    listing = client.get(reverse("admin:accounts_user_changelist"), {"assisted": "unconfirmed"})
    assert listing.status_code == 200 and "137****0123" in listing.content.decode()


def test_index_hides_queues_the_staff_member_cannot_open(client, pending_alice):
    clerk = _staff_with("view_employer")
    client.force_login(clerk)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-queue="employers">0<' in html
    assert 'data-queue="realnames"' not in html


# ------------------------------------------------------------------------------------- real-names


def test_approve_action_verifies_writes_event_and_queues_sms(client, staff, alice, pending_alice):
    client.force_login(staff)
    response = _action(client, REALNAME_LIST, "approve_selected", [pending_alice])
    assert response.status_code == 302
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.VERIFIED and pending_alice.decided_by == staff
    event = ReviewEvent.objects.filter(subject="realname", object_id=pending_alice.pk).last()
    assert (event.actor, event.from_status, event.to_status) == (staff, "pending", "verified")
    sms = Message.objects.get(phone=alice.phone, template="realname_decided")
    assert "已通过" in sms.body


def test_approve_action_label_and_refusals_are_messages_not_errors(client, staff, pending_alice):
    client.force_login(staff)
    page = client.get(REALNAME_LIST).content.decode()
    assert "通过所选实名认证" in page
    services.realname_approve(realname=pending_alice, actor=staff)
    response = _action(client, REALNAME_LIST, "approve_selected", [pending_alice])
    assert response.status_code == 302
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("只能审核待审核的实名信息" in m for m in shown)


def test_reject_asks_for_a_reason_and_refuses_an_empty_one(client, staff, alice, pending_alice):
    client.force_login(staff)
    ask = _action(client, REALNAME_LIST, "reject_selected", [pending_alice])
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode() and 'name="post" value="yes"' in ask.content.decode()

    empty = _action(client, REALNAME_LIST, "reject_selected", [pending_alice], post="yes", reason="   ")
    assert empty.status_code == 200 and "请填写原因" in empty.content.decode()
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.PENDING
    assert not ReviewEvent.objects.filter(subject="realname", to_status="rejected").exists()
    assert not Message.objects.filter(template="realname_decided").exists()

    done = _action(
        client, REALNAME_LIST, "reject_selected", [pending_alice], post="yes", reason="证件照片不清晰"
    )
    assert done.status_code == 302
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.REJECTED
    assert pending_alice.reject_reason == "证件照片不清晰"
    event = ReviewEvent.objects.filter(subject="realname", object_id=pending_alice.pk).last()
    assert (event.actor, event.to_status, event.reason) == (staff, "rejected", "证件照片不清晰")
    assert "证件照片不清晰" in Message.objects.get(phone=alice.phone, template="realname_decided").body


def test_staff_without_change_permission_cannot_approve(client, pending_alice):
    viewer = _staff_with("view_realname")
    client.force_login(viewer)
    assert "通过所选实名认证" not in client.get(REALNAME_LIST).content.decode()
    _action(client, REALNAME_LIST, "approve_selected", [pending_alice])
    _action(client, REALNAME_LIST, "reject_selected", [pending_alice], post="yes", reason="不行")
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.PENDING
    assert ReviewEvent.objects.filter(subject="realname").count() == 1  # only the submission
    assert not Message.objects.filter(template="realname_decided").exists()


def test_non_staff_cannot_reach_the_console(client, charlie, pending_alice):
    client.force_login(charlie)
    response = _action(client, REALNAME_LIST, "approve_selected", [pending_alice])
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.PENDING


def test_record_page_is_read_only_review_with_history_and_buttons(client, staff, pending_alice):
    client.force_login(staff)
    url = reverse("admin:accounts_realname_change", args=[pending_alice.pk])
    page = client.get(url).content.decode()
    assert "审核记录" in page and "待审核" in page
    assert 'name="id_number"' not in page and 'name="status"' not in page
    assert 'value="approve_selected"' in page and 'value="reject_selected"' in page
    assert client.post(url, {"status": "verified"}).status_code == 403
    pending_alice.refresh_from_db()
    assert pending_alice.status == RealName.Status.PENDING

    # the button on the page goes through the action and back to the record
    response = _action(client, REALNAME_LIST, "approve_selected", [pending_alice], _from_change="1")
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "待审核 → 已实名" in page and "周**" in page  # who (masked), from → to
    assert 'value="approve_selected"' not in page


def test_list_and_record_pages_never_contain_the_full_id(client, superuser, pending_alice, pending_bob):
    client.force_login(superuser)  # even a superuser sees the number only on the audited page
    pages = [
        client.get(REALNAME_LIST),
        client.get(REALNAME_LIST, {"status__exact": "pending"}),
        client.get(reverse("admin:accounts_realname_change", args=[pending_alice.pk])),
        client.get(reverse("admin:accounts_realname_change", args=[pending_bob.pk])),
        client.get(REALNAME_LIST, {"q": ALICE_ID}, follow=True),
        client.get(reverse("admin:accounts_reviewevent_changelist")),
        client.get(reverse("admin:accounts_user_changelist")),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert ALICE_ID not in html and BOB_ID not in html
        assert "13800000001" not in html  # phones are masked in lists
    assert pending_alice.id_masked in pages[0].content.decode()
    assert "138****0001" in pages[0].content.decode()


def test_search_by_full_id_uses_the_blind_index(client, staff, pending_alice, pending_bob):
    client.force_login(staff)
    # the search box posts; the number comes back as its keyed hash, never in the URL
    response = client.post(reverse("admin:accounts_realname_search"), {"q": ALICE_ID.lower()})
    assert response.status_code == 302
    assert ALICE_ID not in response["Location"] and ALICE_ID.lower() not in response["Location"]
    assert blind_index(ALICE_ID, purpose="id_number") in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert pending_alice.id_masked in html and pending_bob.id_masked not in html
    assert ALICE_ID not in html

    # a GET with the number (bookmark, hand-made link) is swapped for the hash at once
    response = client.get(REALNAME_LIST, {"q": BOB_ID})
    assert response.status_code == 302 and BOB_ID not in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert pending_bob.id_masked in html and pending_alice.id_masked not in html


def test_search_by_an_id_typed_full_width_with_spaces(client, staff, pending_alice):
    client.force_login(staff)
    typed = " ".join([ALICE_ID[:6], ALICE_ID[6:14], ALICE_ID[14:]]).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}
    )
    response = client.post(reverse("admin:accounts_realname_search"), {"q": typed})
    assert blind_index(ALICE_ID, purpose="id_number") in response["Location"]


def test_search_by_phone_and_name(client, staff, pending_alice, pending_bob):
    client.force_login(staff)
    by_phone = client.post(reverse("admin:accounts_realname_search"), {"q": "+86 138-0000-0002"}, follow=True)
    html = by_phone.content.decode()
    assert pending_bob.id_masked in html and pending_alice.id_masked not in html
    by_name = client.get(REALNAME_LIST, {"q": "李爱丽"}).content.decode()
    assert pending_alice.id_masked in by_name and pending_bob.id_masked not in by_name


def test_unmask_without_permission_is_403_and_not_logged(client, staff, pending_alice):
    client.force_login(staff)
    url = reverse("admin:accounts_realname_unmask", args=[pending_alice.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"reason": "核对"})
    assert response.status_code == 403 and ALICE_ID not in response.content.decode()
    assert not AuditLog.objects.exists()
    record_page = client.get(reverse("admin:accounts_realname_change", args=[pending_alice.pk]))
    assert "查看完整证件号" not in record_page.content.decode()


def test_unmask_with_permission_shows_number_and_writes_audit_log(client, staff, pending_alice):
    staff = _grant(staff, "view_full_id_number")
    client.force_login(staff)
    record_page = client.get(reverse("admin:accounts_realname_change", args=[pending_alice.pk]))
    assert "查看完整证件号" in record_page.content.decode()

    url = reverse("admin:accounts_realname_unmask", args=[pending_alice.pk])
    ask = client.get(url)
    assert ask.status_code == 200 and ALICE_ID not in ask.content.decode()
    assert not AuditLog.objects.exists()  # looking at the form reveals nothing

    shown = client.post(url, {"reason": "与身份证原件核对"}, REMOTE_ADDR="10.1.2.3")
    assert shown.status_code == 200 and ALICE_ID in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    log = AuditLog.objects.get()
    assert (log.actor, log.action, log.target_type, log.target_id) == (
        staff,
        "unmask_id",
        "accounts.realname",
        str(pending_alice.pk),
    )
    assert log.reason == "与身份证原件核对" and log.ip_address == "10.1.2.3"


# --------------------------------------------------------------------------------------- employers


def test_employer_approve_reject_suspend_reinstate(client, staff, bob, pending_employer):
    client.force_login(staff)
    ask = _action(client, EMPLOYER_LIST, "reject_selected", [pending_employer], post="yes", reason="")
    assert ask.status_code == 200
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.PENDING

    _action(client, EMPLOYER_LIST, "approve_selected", [pending_employer])
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.APPROVED

    assert _action(client, EMPLOYER_LIST, "suspend_selected", [pending_employer]).status_code == 200
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.APPROVED  # not without a reason
    _action(
        client, EMPLOYER_LIST, "suspend_selected", [pending_employer], post="yes", reason="拖欠工资投诉核查中"
    )
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.SUSPENDED
    assert pending_employer.reject_reason == "拖欠工资投诉核查中"

    _action(client, EMPLOYER_LIST, "reinstate_selected", [pending_employer])
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.APPROVED
    events = ReviewEvent.objects.filter(subject="employer", object_id=pending_employer.pk)
    assert [e.to_status for e in events] == ["approved", "suspended", "approved"]
    assert all(e.actor == staff for e in events)
    assert Message.objects.filter(phone=bob.phone, template="employer_decided").count() == 3


def test_employer_reject_with_reason_and_page_shows_members_masked(client, staff, bob, pending_employer):
    member = factories.UserFactory(phone="13700000456", name="吴淑芬", role="employer")
    services.employer_member_add(employer=pending_employer, actor=bob, phone=member.phone)
    client.force_login(staff)
    _action(client, EMPLOYER_LIST, "reject_selected", [pending_employer], post="yes", reason="执照照片模糊")
    pending_employer.refresh_from_db()
    assert pending_employer.status == Employer.Status.REJECTED
    page = client.get(reverse("admin:accounts_employer_change", args=[pending_employer.pk])).content.decode()
    assert "138****0002" in page and bob.phone not in page
    assert "137****0456" in page and "吴**" in page and member.phone not in page  # members inline
    assert "待审核 → 未通过" in page and "执照照片模糊" in page


def test_employer_list_search_by_uscc_and_expired_licence_flag(client, staff, bob):
    body = "92350186MA2Y3K7L0"
    code = body + uscc_code.calc_check_digit(body)
    expired = factories.EmployerFactory(
        name="老执照五金店",
        kind=Employer.Kind.INDIVIDUAL_BUSINESS,
        uscc=code,
        licence_expires_on=timezone.localdate() - dt.timedelta(days=3),
    )
    factories.EmployerFactory(name="别家公司")
    client.force_login(staff)
    html = client.get(EMPLOYER_LIST, {"q": code}).content.decode()
    assert "老执照五金店" in html and "别家公司" not in html
    assert "已过期" in html
    filtered = client.get(EMPLOYER_LIST, {"licence": "expired"}).content.decode()
    assert "老执照五金店" in filtered and "别家公司" not in filtered
    assert expired.pk


def test_licence_image_is_served_only_inside_the_console(client, staff, charlie, bob):
    employer = factories.EmployerFactory(name="有执照的公司", licence_image=make_image(name="licence.png"))
    url = reverse("admin:accounts_employer_licence", args=[employer.pk])
    client.force_login(charlie)
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert url in client.get(EMPLOYER_LIST).content.decode()


# ------------------------------------------------------------------------------------ certificates


def test_certificate_approve_and_reject(client, staff, alice, cert_type, pending_certificate):
    other = services.certificate_submit(
        user=alice,
        cert_type=cert_type,
        number="T110105197506150022",
        image=make_image(),
        expires_on=timezone.localdate() + dt.timedelta(days=20),
    )
    client.force_login(staff)
    _action(client, CERT_LIST, "approve_selected", [pending_certificate])
    _action(client, CERT_LIST, "reject_selected", [other], post="yes", reason="")
    other.refresh_from_db()
    assert other.status == Certificate.Status.PENDING
    _action(client, CERT_LIST, "reject_selected", [other], post="yes", reason="照片与编号不符")
    pending_certificate.refresh_from_db()
    other.refresh_from_db()
    assert pending_certificate.status == Certificate.Status.APPROVED
    assert other.status == Certificate.Status.REJECTED and other.reject_reason == "照片与编号不符"
    assert Message.objects.filter(phone=alice.phone, template="certificate_decided").count() == 2

    soon = client.get(CERT_LIST, {"expiry": "soon"}).content.decode()
    # the number is masked; only the 20-day one is expiring
    assert other.number_masked in soon and other.number not in soon
    assert pending_certificate.number_masked not in soon
    image = client.get(reverse("admin:accounts_certificate_image", args=[other.pk]))
    assert image.status_code == 200


# -------------------------------------------------------------------------------- users, profiles


def test_user_admin_add_form_uses_phone_and_password(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "phone": "+86 139-1234-5678",
            "name": "新同事",
            "role": "staff",
            "usable_password": "true",
            "password1": "Hall-staff-2026",
            "password2": "Hall-staff-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(phone="13912345678")
    assert user.check_password("Hall-staff-2026") and user.role == "staff"
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "139****5678" in listing and "13912345678" not in listing


def test_non_superuser_cannot_edit_staff_accounts_or_grant_permissions(client, staff, alice):
    colleague = factories.UserFactory(phone="13900000088", role="staff", is_staff=True)
    clerk = _grant(_grant(staff, "change_user"), "view_user")
    client.force_login(clerk)
    url = reverse("admin:accounts_user_change", args=[colleague.pk])
    assert 'name="phone"' not in client.get(url).content.decode()  # view only
    assert client.post(url, {"phone": "13700000000"}).status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[colleague.pk])
    assert (
        client.post(password_url, {"password1": "Taken-over-1", "password2": "Taken-over-1"}).status_code
        == 403
    )
    colleague.refresh_from_db()
    assert colleague.phone == "13900000088" and not colleague.check_password("Taken-over-1")
    page = client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()
    assert 'name="user_permissions"' not in page and 'name="is_superuser"' not in page


def test_help_flag_is_set_through_the_service(client, staff, alice):
    client.force_login(staff)
    profile = alice.worker_profile
    url = reverse("admin:accounts_workerprofile_change", args=[profile.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"help_tier": "2", "help_reasons": []})
    assert bad.status_code == 200
    response = client.post(url, {"help_tier": "2", "help_reasons": ["older", "long_unemployed"]})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.help_tier == WorkerProfile.HelpTier.FOCUS
    assert profile.help_reasons == ["long_unemployed", "older"]
    event = ReviewEvent.objects.get(subject="account", object_id=alice.pk)
    assert (event.actor, event.from_status, event.to_status, event.data) == (staff, "0", "2", {"help": True})


def test_other_console_pages_render(client, superuser, staff, pending_alice, pending_certificate):
    district = factories.AreaFactory(name="青溪市", code="350186000000", level="district")
    factories.ServicePointFactory(name="青溪市零工市场", kind="district_market", area=district, parent=None)
    client.force_login(superuser)
    for name in [
        "admin:accounts_servicepoint_changelist",
        "admin:accounts_area_changelist",
        "admin:accounts_certificatetype_changelist",
        "admin:accounts_reviewevent_changelist",
        "admin:accounts_workerprofile_changelist",
        "admin:accounts_employer_changelist",
        "admin:accounts_certificate_changelist",
        "admin:jobs_trade_changelist",
        "admin:core_auditlog_changelist",
        "admin:notifications_message_changelist",
        "admin:accounts_user_add",
    ]:
        assert client.get(reverse(name)).status_code == 200, name
    event = ReviewEvent.objects.first()
    assert client.get(reverse("admin:accounts_reviewevent_change", args=[event.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_area_change", args=[district.pk])).status_code == 200
