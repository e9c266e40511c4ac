"""The human-facing account pages: every page renders, every form shows the services' errors on its fields,
and nobody sees another user's things."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image
from stdnum.cn import uscc as uscc_lib

from accounts import services
from accounts.models import Certificate, Employer, EmployerMember, PhoneCode, RealName, User, WorkerProfile
from core.masking import mask_phone
from notifications.models import Message
from tests.conftest import make_image
from tests.factories import (
    CertificateTypeFactory,
    EmployerFactory,
    RealNameFactory,
    TradeFactory,
    id_number,
)

pytestmark = pytest.mark.django_db

NEW_PHONE = "13912345678"
PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password
USCC = "91110000600037341L"


def valid_uscc(seq: int) -> str:
    base = f"91350100M{seq:08d}"
    return base + uscc_lib.calc_check_digit(base)


def html(response) -> str:
    return response.content.decode()


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def send_code(client, purpose: str, phone: str, *, htmx: bool = False, **fields):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("accounts:send_code", args=[purpose]), {"phone": phone, **fields}, headers=headers
    )


def noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


# -------------------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/", "免费"),
        ("/register/", "获取验证码"),
        ("/login/", "短信验证码登录"),
        ("/login/?way=password", "忘记密码"),
        ("/password/reset/", "找回密码"),
    ],
)
def test_public_pages_render(client, url, expected):
    response = client.get(url)
    assert response.status_code == 200
    page = html(response)
    assert expected in page
    assert 'lang="zh-Hans"' in page and "/static/css/site.css" in page


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "accounts:profile",
        "accounts:realname",
        "accounts:employer_list",
        "accounts:employer_create",
        "accounts:certificates",
    ],
)
def test_member_pages_render_with_login_state(client, alice, name):
    client.force_login(alice)
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = html(response)
    assert "李爱丽" in page and "求职者" in page and "退出" in page


@pytest.mark.parametrize(
    "name",
    [
        "accounts:profile",
        "accounts:realname",
        "accounts:employer_list",
        "accounts:employer_create",
        "accounts:certificates",
        "accounts:assisted_register",
        "accounts:assisted_confirm",
    ],
)
def test_member_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_status_card_follows_realname(client, alice, staff):
    client.force_login(alice)
    assert "未实名" in html(client.get("/"))
    record = services.realname_submit(user=alice, name="李爱丽", id_number=id_number(11))
    page = html(client.get("/"))
    assert "审核中" in page and "请携带身份证到服务网点核验" in page
    services.realname_reject(realname=record, actor=staff, reason="照片看不清")
    page = html(client.get("/"))
    assert "未通过" in page and "照片看不清" in page


# ---------------------------------------------------------------------------------------- register


def test_register_end_to_end_without_javascript(client, outbox):
    response = send_code(client, "register", "+86 139 1234 5678", name="赵洪亮", role="seeker")
    assert response.status_code == 200
    page = html(response)
    assert f"验证码已发到 {mask_phone(NEW_PHONE)}" in page
    assert 'value="赵洪亮"' in page  # what was typed survives the round trip
    code = outbox.code(NEW_PHONE)
    assert code not in page

    response = client.post(
        reverse("accounts:register"),
        {"phone": NEW_PHONE, "code": code, "name": "赵洪亮", "role": "seeker", "password": ""},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(phone=NEW_PHONE)
    assert str(user.pk) == logged_in_user_id(client)
    assert user.role == "seeker" and not user.has_usable_password()
    assert WorkerProfile.objects.filter(user=user).exists()
    page = html(client.get("/"))
    assert "赵洪亮" in page and "未实名" in page


def test_register_as_employer_with_password(client, outbox):
    send_code(client, "register", NEW_PHONE)
    response = client.post(
        reverse("accounts:register"),
        {
            "phone": NEW_PHONE,
            "code": outbox.code(NEW_PHONE),
            "name": "陈老板",
            "role": "employer",
            "password": "Strong-pass-99",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(phone=NEW_PHONE)
    assert user.role == "employer" and user.check_password("Strong-pass-99")


def test_send_code_by_htmx_returns_only_the_status_line(client, outbox):
    response = send_code(client, "register", NEW_PHONE, htmx=True)
    assert response.status_code == 200
    page = html(response)
    assert "验证码已发到" in page and "<html" not in page
    assert PhoneCode.objects.filter(phone=NEW_PHONE, purpose="register").count() == 1

    again = html(send_code(client, "register", NEW_PHONE, htmx=True))
    assert "太频繁" in again and "<html" not in again
    assert PhoneCode.objects.filter(phone=NEW_PHONE).count() == 1


@pytest.mark.parametrize("phone", ["12345", "1381234567", "23812345678", "+1 650 253 0000", "abc"])
def test_send_code_to_malformed_phone_is_a_field_error(client, phone):
    response = send_code(client, "register", phone)
    assert response.status_code == 200
    assert 'id="id_phone_error"' in html(response)
    assert not PhoneCode.objects.exists() and not Message.objects.exists()


def test_send_code_for_registered_number(client, alice):
    page = html(send_code(client, "register", alice.phone))
    assert "该手机号已注册" in page and 'id="id_phone_error"' in page
    assert not PhoneCode.objects.exists()


def test_send_code_unknown_purpose_is_404(client):
    assert send_code(client, "assisted", NEW_PHONE).status_code == 404
    assert client.get(reverse("accounts:send_code", args=["register"])).status_code == 405


def test_register_wrong_code_is_a_field_error_and_creates_nobody(client, outbox):
    send_code(client, "register", NEW_PHONE)
    code = outbox.code(NEW_PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = client.post(
        reverse("accounts:register"), {"phone": NEW_PHONE, "code": wrong, "name": "赵洪亮", "role": "seeker"}
    )
    assert response.status_code == 200
    page = html(response)
    assert "验证码不正确" in page and 'id="id_code_error"' in page
    assert not User.objects.filter(phone=NEW_PHONE).exists()
    assert logged_in_user_id(client) is None


def test_register_weak_password_is_a_field_error(client, outbox):
    send_code(client, "register", NEW_PHONE)
    response = client.post(
        reverse("accounts:register"),
        {
            "phone": NEW_PHONE,
            "code": outbox.code(NEW_PHONE),
            "name": "赵洪亮",
            "role": "seeker",
            "password": "12345678",
        },
    )
    assert 'id="id_password_error"' in html(response)
    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_register_missing_fields(client):
    response = client.post(
        reverse("accounts:register"), {"phone": "", "code": "", "name": "", "role": "boss"}
    )
    page = html(response)
    for field in ("phone", "code", "name", "role"):
        assert f'id="id_{field}_error"' in page
    assert "请输入手机号" in page


# ------------------------------------------------------------------------------------------- login


def test_login_by_password_with_country_code(client, alice):
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": "+86 138-0000-0001", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_user_id(client) == str(alice.pk)


def test_login_follows_safe_next_only(client, alice):
    data = {"way": "password", "phone": alice.phone, "password": PASSWORD}
    response = client.post(reverse("accounts:login") + "?next=/me/profile/", data)
    assert response["Location"] == "/me/profile/"
    client.logout()
    response = client.post(reverse("accounts:login"), {**data, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_login_by_code(client, alice, outbox):
    response = send_code(client, "login", "0086 13800000001")
    assert "验证码已发到" in html(response)
    response = client.post(
        reverse("accounts:login"), {"way": "code", "phone": alice.phone, "code": outbox.code(alice.phone)}
    )
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(alice.pk)


def test_login_code_for_unregistered_number(client):
    page = html(send_code(client, "login", NEW_PHONE))
    assert "还没有注册" in page
    assert not PhoneCode.objects.exists()


def test_wrong_password_and_wrong_code_are_refused(client, alice, outbox):
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": alice.phone, "password": "nope"}
    )
    assert response.status_code == 200 and "手机号或密码不正确" in html(response)
    send_code(client, "login", alice.phone)
    wrong = f"{(int(outbox.code(alice.phone)) + 1) % 10**6:06d}"
    response = client.post(reverse("accounts:login"), {"way": "code", "phone": alice.phone, "code": wrong})
    assert response.status_code == 200 and "验证码不正确" in html(response)
    assert logged_in_user_id(client) is None


def test_lockout_after_failure_limit_refuses_even_the_right_password(client, alice):
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit + 1):
        response = client.post(
            reverse("accounts:login"),
            {"way": "password", "phone": alice.phone, "password": f"wrong-{attempt}"},
        )
        assert response.status_code == (429 if attempt == limit else 200)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"密码登录暂停{minutes}分钟" in html(response)
    assert "用短信验证码登录" in html(response) and "找回密码" in html(response)

    # The same number typed another way is the same number.
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": "+86 13800000001", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "密码登录暂停" in html(response)
    assert logged_in_user_id(client) is None

    # Another number is not locked.
    bob = User.objects.create_user("13800000002", PASSWORD, name="王博")
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": bob.phone, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_logout_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert logged_in_user_id(client) == str(alice.pk)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert logged_in_user_id(client) is None


# ---------------------------------------------------------------------------------- password reset


def test_password_reset_by_code(client, alice, outbox):
    assert "验证码已发到" in html(send_code(client, "reset", alice.phone))
    response = client.post(
        reverse("accounts:password_reset"),
        {
            "phone": alice.phone,
            "code": outbox.code(alice.phone),
            "new_password": "Fresh-pass-2027",
            "new_password2": "Fresh-pass-2027",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?way=password"
    alice.refresh_from_db()
    assert alice.check_password("Fresh-pass-2027") and not alice.check_password(PASSWORD)
    response = client.post(
        reverse("accounts:login"), {"way": "password", "phone": alice.phone, "password": "Fresh-pass-2027"}
    )
    assert logged_in_user_id(client) == str(alice.pk)


def test_password_reset_errors_change_nothing(client, alice, outbox):
    send_code(client, "reset", alice.phone)
    code = outbox.code(alice.phone)
    url = reverse("accounts:password_reset")
    base = {"phone": alice.phone, "code": code, "new_password": "Fresh-pass-2027"}
    page = html(client.post(url, {**base, "new_password2": "Other-pass-2027"}))
    assert "两次输入的密码不一样" in page
    page = html(client.post(url, {**base, "new_password": "12345678", "new_password2": "12345678"}))
    assert 'id="id_new_password_error"' in page
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = html(client.post(url, {**base, "code": wrong, "new_password2": "Fresh-pass-2027"}))
    assert "验证码不正确" in page
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_reset_code_cannot_be_guessed_through_the_page(client, alice, outbox):
    """Wrong guesses count even though password_reset rolls back: five spoil the code."""
    send_code(client, "reset", alice.phone)
    code = outbox.code(alice.phone)
    url = reverse("accounts:password_reset")
    base = {"phone": alice.phone, "new_password": "Fresh-pass-2027", "new_password2": "Fresh-pass-2027"}
    for n in range(1, settings.PHONE_CODE_MAX_ATTEMPTS + 1):
        client.post(url, {**base, "code": f"{(int(code) + n) % 10**6:06d}"})
    page = html(client.post(url, {**base, "code": code}))
    assert "错误次数过多" in page
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# ------------------------------------------------------------------------------------------ profile


def test_profile_saves_trades_skills_pay_in_fen(client, alice):
    mason = TradeFactory(name="瓦工", category="construction")
    cleaner = TradeFactory(name="保洁", category="housekeeping")
    TradeFactory(name="停用工种", is_active=False)
    client.force_login(alice)
    page = html(client.get(reverse("accounts:profile")))
    assert "建筑装修" in page and "家政保洁" in page and "瓦工" in page
    assert "停用工种" not in page and "帮扶" not in page  # the staff-only help flag is not shown

    response = client.post(
        reverse("accounts:profile"),
        {
            "wanted_trades": [mason.pk, cleaner.pk],
            "skills": "砌墙，贴瓷砖 砌墙、开叉车",
            "expected_pay": "180.5",
            "expected_pay_unit": "day",
            "availability": ["weekdays", "mornings"],
            "available_from": "2030-03-01",
            "max_distance_km": "15",
            "about": "干过10年瓦工",
        },
    )
    assert response.status_code == 302
    profile = WorkerProfile.objects.get(user=alice)
    assert set(profile.wanted_trades.all()) == {mason, cleaner}
    assert profile.skills == ["砌墙", "贴瓷砖", "开叉车"]
    assert profile.expected_pay_fen == 18050
    assert profile.availability == ["weekdays", "mornings"]
    assert profile.available_from == dt.date(2030, 3, 1) and profile.max_distance_km == 15
    page = html(client.get(reverse("accounts:profile")))
    assert 'value="180.5"' in page and "砌墙 贴瓷砖 开叉车" in page


def test_profile_bad_input_is_field_level(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {"expected_pay": "-5", "expected_pay_unit": "day", "max_distance_km": "0", "availability": ["never"]},
    )
    page = html(response)
    for field in ("expected_pay", "max_distance_km", "availability"):
        assert f'id="id_{field}_error"' in page
    profile = WorkerProfile.objects.get(user=alice)
    assert profile.expected_pay_fen is None and profile.max_distance_km == 20


# ---------------------------------------------------------------------------------------- real-name


@pytest.mark.parametrize(
    ("name", "number", "field", "message"),
    [
        (
            "李爱丽",
            id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1"),
            "id_number",
            "校验码不对",
        ),
        ("李爱丽", "350402194902311234", "id_number", "出生日期"),
        ("李爱丽", "35040219750615123", "id_number", "应为18位"),
        ("李爱丽", id_number(1, region="999999"), "id_number", "地区代码不存在"),
        ("李爱丽", id_number(1, birth=dt.date(1899, 5, 5)), "id_number", "早于1900年"),
        ("李爱丽", "", "id_number", "请填写身份证号"),
        ("X", id_number(1), "name", "身份证上的姓名"),
        ("张" * 31, id_number(1), "name", "请填写身份证上的姓名（2–30个字）"),
        # past the form field's own cap: still a field error
        ("张" * 41, id_number(1), "name", "不超过 40 字符"),
    ],
)
def test_realname_bad_input_is_field_level_and_saves_nothing(client, alice, name, number, field, message):
    client.force_login(alice)
    response = client.post(reverse("accounts:realname"), {"name": name, "id_number": number})
    assert response.status_code == 200
    page = html(response)
    assert f'id="id_{field}_error"' in page and message in page
    assert not RealName.objects.exists()


def test_realname_name_of_exactly_30_characters_is_accepted(client, alice):
    client.force_login(alice)
    response = client.post(reverse("accounts:realname"), {"name": "张" * 30, "id_number": id_number(1)})
    assert response.status_code == 302
    assert RealName.objects.get(user=alice).name == "张" * 30


def test_realname_submit_shows_pending_and_only_the_masked_number(client, alice):
    number = id_number(7)
    client.force_login(alice)
    response = client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": number.lower()})
    assert response.status_code == 302
    record = RealName.objects.get(user=alice)
    assert record.status == "pending"
    page = html(client.get(reverse("accounts:realname")))
    assert "审核中" in page and "请携带身份证到服务网点核验" in page
    assert record.id_masked in page and number[0] + "*" * 16 + number[-1] in page
    assert number not in page and number[6:14] not in page
    assert 'name="id_number"' not in page  # no second submission while pending


def test_realname_resubmit_while_pending_is_refused(client, alice):
    client.force_login(alice)
    client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": id_number(7)})
    page = html(client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": id_number(8)}))
    assert "正在审核中" in page
    assert RealName.objects.get(user=alice).id_number == id_number(7)


def test_realname_verified_and_rejected_pages(client, alice, staff):
    client.force_login(alice)
    client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": id_number(7)})
    record = RealName.objects.get(user=alice)
    services.realname_reject(realname=record, actor=staff, reason="姓名与证件不符")
    page = html(client.get(reverse("accounts:realname")))
    assert "未通过" in page and "姓名与证件不符" in page and 'name="id_number"' in page

    response = client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": id_number(9)})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "pending"
    services.realname_approve(realname=record, actor=staff)
    page = html(client.get(reverse("accounts:realname")))
    assert "已实名" in page and "审核中" not in page and 'name="id_number"' not in page


def test_realname_number_of_another_account_is_refused(client, alice, bob):
    RealNameFactory(user=bob, id_number=id_number(5))
    client.force_login(alice)
    page = html(client.post(reverse("accounts:realname"), {"name": "李爱丽", "id_number": id_number(5)}))
    assert "已绑定其他账户" in page and 'id="id_id_number_error"' in page
    assert not RealName.objects.filter(user=alice).exists()


# ---------------------------------------------------------------------------------------- employers


def company_data(**overrides):
    data = {
        "kind": "company",
        "name": "永康市马架龙建筑劳务有限公司",
        "uscc": USCC,
        "legal_representative": "陈世林",
        "licence_image": make_image("JPEG"),
        "licence_expires_on": "2031-01-01",
        "contact_name": "陈经理",
        "address": "永康市经济开发区",
    }
    data.update(overrides)
    return data


def test_employer_register_company(client, alice):
    client.force_login(alice)
    response = client.post(reverse("accounts:employer_create"), company_data())
    employer = Employer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:employer_detail", args=[employer.pk])
    assert employer.status == "pending" and employer.uscc == USCC and employer.licence_image
    assert EmployerMember.objects.filter(employer=employer, user=alice, role="owner").exists()
    page = html(client.get(response["Location"]))
    assert "待审核" in page and "永康市马架龙建筑劳务有限公司" in page and "查看照片" in page
    assert "永康市马架龙建筑劳务有限公司" in html(client.get(reverse("accounts:employer_list")))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"uscc": "91110000600037341A"}, "uscc", "校验码不对"),
        ({"uscc": "9111000060003"}, "uscc", "应为18位"),
        ({"uscc": ""}, "uscc", "18位"),
        ({"licence_image": None}, "licence_image", "请上传图片"),
        ({"licence_expires_on": "2001-01-01"}, "licence_expires_on", "已过期"),
        ({"kind": "castle"}, "kind", ""),
    ],
)
def test_employer_bad_input_is_field_level_and_saves_nothing(client, alice, overrides, field, message):
    client.force_login(alice)
    data = {k: v for k, v in company_data(**overrides).items() if v is not None}
    response = client.post(reverse("accounts:employer_create"), data)
    assert response.status_code == 200
    page = html(response)
    assert f'id="id_{field}_error"' in page and message in page
    assert not Employer.objects.exists()


def test_employer_licence_that_is_not_an_image(client, alice, tmp_path):
    client.force_login(alice)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("licence.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    page = html(client.post(reverse("accounts:employer_create"), company_data(licence_image=fake)))
    assert 'id="id_licence_image_error"' in page and "不是有效的图片" in page
    assert not Employer.objects.exists()
    assert not list((tmp_path / "media").glob("**/*.*"))


def test_employer_oversized_licence(client, alice, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("licence.png", noise_png(640), content_type="image/png")
    assert big.size > settings.UPLOAD_MAX_BYTES
    client.force_login(alice)
    page = html(client.post(reverse("accounts:employer_create"), company_data(licence_image=big)))
    assert 'id="id_licence_image_error"' in page and "不能超过1MB" in page
    assert not Employer.objects.exists()


def test_household_needs_realname_first(client, alice):
    client.force_login(alice)
    page = html(client.post(reverse("accounts:employer_create"), {"kind": "household"}))
    assert "需先完成实名认证" in page and 'id="id_kind_error"' in page
    assert not Employer.objects.exists()
    RealNameFactory(user=alice, name="李爱丽")
    response = client.post(reverse("accounts:employer_create"), {"kind": "household"})
    assert response.status_code == 302
    assert Employer.objects.get().name == "李爱丽（居民）"


def test_other_users_employer_is_404(client, alice, charlie):
    employer = EmployerFactory(created_by=alice, status="rejected", reject_reason="执照模糊")
    client.force_login(charlie)
    assert client.get(reverse("accounts:employer_detail", args=[employer.pk])).status_code == 404
    assert client.get(reverse("accounts:employer_resubmit", args=[employer.pk])).status_code == 404
    response = client.post(
        reverse("accounts:employer_member_add", args=[employer.pk]), {"phone": charlie.phone}
    )
    assert response.status_code == 404
    assert not EmployerMember.objects.filter(user=charlie).exists()
    assert employer.name not in html(client.get(reverse("accounts:employer_list")))
    client.force_login(alice)
    assert client.get(reverse("accounts:employer_detail", args=[employer.pk])).status_code == 200


def test_rejected_employer_shows_reason_and_can_be_resubmitted(client, alice, staff):
    client.force_login(alice)
    client.post(reverse("accounts:employer_create"), company_data())
    employer = Employer.objects.get()
    services.employer_reject(employer=employer, actor=staff, reason="营业执照照片看不清")
    page = html(client.get(reverse("accounts:employer_detail", args=[employer.pk])))
    assert "未通过" in page and "营业执照照片看不清" in page and "修改后重新提交" in page

    url = reverse("accounts:employer_resubmit", args=[employer.pk])
    assert 'value="永康市马架龙建筑劳务有限公司"' in html(client.get(url))
    page = html(
        client.post(
            url, {"name": "永康市马架龙建筑劳务有限公司", "uscc": "123", "legal_representative": "陈世林"}
        )
    )
    assert 'id="id_uscc_error"' in page
    employer.refresh_from_db()
    assert employer.status == "rejected"

    response = client.post(
        url,
        {
            "name": "永康市马架龙建筑劳务有限公司",
            "uscc": USCC,
            "legal_representative": "陈世林",
            "licence_image": make_image("PNG"),
        },
    )
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.status == "pending" and employer.reject_reason == ""
    # Not rejected any more: the resubmit page sends the user back.
    assert client.get(url).status_code == 302


def test_owner_adds_member_and_phones_are_masked_for_others(client, alice, bob):
    employer = EmployerFactory(created_by=alice)
    client.force_login(alice)
    url = reverse("accounts:employer_member_add", args=[employer.pk])
    page = html(client.post(url, {"phone": "13700009999"}))
    assert "还没有注册" in page and 'id="id_phone_error"' in page
    response = client.post(url, {"phone": bob.phone})
    assert response.status_code == 302
    assert EmployerMember.objects.filter(employer=employer, user=bob, role="member").exists()
    page = html(client.post(url, {"phone": bob.phone}))
    assert "已是成员" in page

    client.force_login(bob)
    page = html(client.get(reverse("accounts:employer_detail", args=[employer.pk])))
    assert mask_phone(alice.phone) in page and alice.phone not in page
    assert "添加成员" not in page
    # A plain member cannot add people either, even by posting directly.
    page = html(client.post(url, {"phone": "13800000003"}))
    assert "只有负责人" in page
    assert employer.memberships.count() == 2


# ------------------------------------------------------------------------------------- certificates


def certificate_data(**overrides):
    cert_type = CertificateTypeFactory()
    data = {
        "cert_type": cert_type.pk,
        "number": "T350402197506151234",
        "image": make_image("JPEG"),
        "issued_on": "2024-01-01",
        "expires_on": "2030-01-01",
    }
    data.update(overrides)
    return data


def test_certificate_upload_and_list(client, alice, charlie):
    client.force_login(alice)
    response = client.post(reverse("accounts:certificates"), certificate_data())
    assert response.status_code == 302
    cert = Certificate.objects.get(user=alice)
    assert cert.status == "pending" and cert.expires_on == dt.date(2030, 1, 1)
    page = html(client.get(reverse("accounts:certificates")))
    assert "特种作业操作证" in page and "待审核" in page and "T*****************4" in page
    client.force_login(charlie)
    assert "T350402197506151234" not in html(client.get(reverse("accounts:certificates")))
    assert client.get(cert.image.url).status_code == 404  # another user's photo


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"image": "not-a-file"}, "image", "请上传证书照片"),
        ({"expires_on": "2001-01-01"}, "expires_on", "已过期"),
        ({"issued_on": "2031-01-01", "expires_on": "2030-01-01"}, "issued_on", "不能晚于"),
        ({"number": "12"}, "number", "证书编号"),
        ({"cert_type": "999999"}, "cert_type", "请选择证书类型"),
    ],
)
def test_certificate_bad_input(client, alice, overrides, field, message):
    client.force_login(alice)
    data = certificate_data(**overrides)
    if data["image"] == "not-a-file":
        del data["image"]
    page = html(client.post(reverse("accounts:certificates"), data))
    assert f'id="id_{field}_error"' in page and message in page
    assert not Certificate.objects.exists()


def test_certificate_non_image(client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    fake = SimpleUploadedFile("cert.png", b"GIF89a...nope", content_type="image/png")
    page = html(client.post(reverse("accounts:certificates"), certificate_data(image=fake)))
    assert "不是有效的图片" in page
    assert not Certificate.objects.exists()


# ---------------------------------------------------------------------------- assisted registration


def test_assisted_registration_and_confirmation(client, staff, outbox):
    trade = TradeFactory(name="采茶", category="agriculture")
    client.force_login(staff)
    response = client.post(
        reverse("accounts:assisted_register"),
        {"phone": NEW_PHONE, "name": "王秀英", "id_number": id_number(21), "wanted_trades": [trade.pk]},
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:assisted_confirm")
    villager = User.objects.get(phone=NEW_PHONE)
    assert not villager.is_active and villager.registered_by == staff
    assert list(villager.worker_profile.wanted_trades.all()) == [trade]
    assert RealName.objects.get(user=villager).status == "pending"
    assert outbox.last(NEW_PHONE).template == "assisted_registration"

    page = html(client.get(reverse("accounts:assisted_confirm")))
    assert f'value="{NEW_PHONE}"' in page  # the number carried over for the staff member

    wrong = f"{(int(outbox.code(NEW_PHONE)) + 1) % 10**6:06d}"
    page = html(client.post(reverse("accounts:assisted_confirm"), {"phone": NEW_PHONE, "code": wrong}))
    assert "验证码不正确" in page
    villager.refresh_from_db()
    assert not villager.is_active

    response = client.post(
        reverse("accounts:assisted_confirm"), {"phone": NEW_PHONE, "code": outbox.code(NEW_PHONE)}
    )
    assert response.status_code == 302
    villager.refresh_from_db()
    assert villager.is_active and villager.phone_confirmed_at
    assert "代注册完成" in html(client.get(response["Location"]))


def test_assisted_registration_errors_are_field_level(client, staff, alice):
    client.force_login(staff)
    url = reverse("accounts:assisted_register")
    page = html(client.post(url, {"phone": alice.phone, "name": "李爱丽"}))
    assert "已注册" in page and 'id="id_phone_error"' in page
    page = html(client.post(url, {"phone": NEW_PHONE, "name": "王秀英", "id_number": "350402194902311234"}))
    assert 'id="id_id_number_error"' in page
    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_assisted_staff_without_service_point_gets_a_form_error(client, staff):
    staff.service_point = None
    staff.save()
    client.force_login(staff)
    page = html(client.post(reverse("accounts:assisted_register"), {"phone": NEW_PHONE, "name": "王秀英"}))
    assert "只有网点工作人员可以代注册" in page
    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_assisted_pages_refuse_non_staff(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:assisted_register")).status_code == 403
    response = client.post(reverse("accounts:assisted_register"), {"phone": NEW_PHONE, "name": "王秀英"})
    assert response.status_code == 403
    assert "没有权限" in html(response)
    assert client.get(reverse("accounts:assisted_confirm")).status_code == 403
    assert not User.objects.filter(phone=NEW_PHONE).exists()
    assert "代注册" not in html(client.get("/"))
