"""One-time codes are readable by their phone only: the outbox row keeps them redacted, the gateway gets them,
the secret is wiped once sent or expired, and no page, API response, export or log line shows one — not even
to another superuser who asks for a code for the owner's number and then reads everything the console offers."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.contrib.admin import site
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import PhoneCode
from notifications import delivery
from notifications.models import Message
from notifications.services import message_queue
from tests import phones
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OWNER = "13500000000"
T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def _raw_row(pk: int) -> str:
    """Every column of the stored row, as the database holds it (what a dump or a DBA would see)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM notifications_message WHERE id = %s", [pk])
        return " ".join(str(value) for value in cursor.fetchone())


def _contains(text: str, code: str) -> bool:
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


def test_code_row_is_redacted_and_the_code_is_stored_only_encrypted(alice):
    message = message_queue(
        event_key="t:1",
        template="phone_code",
        params={"code": "482916", "minutes": 5, "purpose": "登录"},
        phone=alice.phone,
    )
    message.refresh_from_db()
    assert message.body == "您的验证码为******，5分钟内有效，用于登录。请勿告诉他人。"
    assert message.params == {"minutes": 5, "purpose": "登录"}
    assert message.secret_until is not None
    assert not _contains(_raw_row(message.pk), "482916")  # not in any column, the secret included
    # The delivery path alone puts it back.
    assert message.delivery_params()["code"] == "482916"
    assert "您的验证码为482916" in message.delivery_text()


def test_other_messages_keep_their_params(alice):
    message = message_queue(
        event_key="t:2",
        template="outreach_training_certificate",
        params={"course": "电工", "code": "ABC123"},
        phone=alice.phone,
    )
    assert message.params["code"] == "ABC123" and "ABC123" in message.body  # a public verification code
    assert message.secret == "" and message.secret_until is None


def test_gateway_gets_the_code_and_the_secret_is_wiped_once_sent(aliyun, alice):
    record = account_services.phone_code_send(phone=alice.phone, purpose="login")
    message = Message.objects.get(phone=alice.phone, template="phone_code")
    assert message.secret_until == record.expires_at and message.secret
    assert delivery.deliver(first_id=message.pk) == {"sent": 1}
    (got,) = aliyun.received
    code = got["params"]["code"]
    assert re.fullmatch(r"\d{6}", code)
    account_services.phone_code_check(phone=alice.phone, purpose="login", code=code)  # the real code
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.secret == ""
    assert not _contains(_raw_row(message.pk), code)


def test_a_given_up_message_loses_its_secret(aliyun, alice):
    aliyun.fail_numbers[alice.phone] = "isv.MOBILE_NUMBER_ILLEGAL"
    account_services.phone_code_send(phone=alice.phone, purpose="login")
    message = Message.objects.get(phone=alice.phone, template="phone_code")
    delivery.deliver(first_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.secret == ""


def test_a_retried_message_keeps_its_secret_until_sent(aliyun, alice):
    aliyun.fail_next = ["Throttling.User"]
    account_services.phone_code_send(phone=alice.phone, purpose="login")
    message = Message.objects.get(phone=alice.phone, template="phone_code")
    delivery.deliver(first_id=message.pk)
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.secret  # needed for the next attempt


def test_an_expired_code_is_never_sent_and_the_sweep_wipes_it(aliyun, alice, bob):
    with time_machine.travel(T0, tick=False) as traveller:
        account_services.phone_code_send(phone=alice.phone, purpose="login")
        late = Message.objects.get(phone=alice.phone, template="phone_code")
        # A row stuck SENDING (its worker died) past the code's life also loses its secret.
        account_services.phone_code_send(phone=bob.phone, purpose="login")
        stuck = Message.objects.get(phone=bob.phone, template="phone_code")
        Message.objects.filter(pk=stuck.pk).update(
            status=Message.Status.SENDING, lease_until=timezone.now() + dt.timedelta(hours=1)
        )
        traveller.shift(dt.timedelta(minutes=6))
        assert delivery.deliver(first_id=late.pk) == {}  # a code past its life is not sent
        counts = delivery.sweep()
    assert counts["secrets_wiped"] == 1  # the stuck one; the late one was given up (and wiped) with it
    late.refresh_from_db()
    stuck.refresh_from_db()
    assert late.status == Message.Status.FAILED and late.secret == "" and "过期" in late.last_error
    assert stuck.status == Message.Status.SENDING and stuck.secret == ""
    assert aliyun.received == []


def test_the_local_simulated_phone_prints_the_code_on_the_terminal_only(settings, alice, capsys, caplog):
    """Local development: the terminal is the phone. The admin row stays redacted, no log record has it."""
    from notifications import phone_simulator

    settings.SMS_PHONE_SIMULATOR = True
    caplog.set_level(logging.DEBUG)
    account_services.phone_code_send(phone=alice.phone, purpose="login")
    message = Message.objects.get(phone=alice.phone, template="phone_code")
    phones.clear()
    # Without a listener (the tests' phones) the simulator writes to the server's terminal.
    phone_simulator._listeners.clear()
    try:
        delivery.deliver(first_id=message.pk)
    finally:
        phone_simulator._listeners.append(phones.record)
    printed = capsys.readouterr().err
    code = re.search(r"验证码为(\d{6})", printed).group(1)
    assert "138****0001" in printed and alice.phone not in printed
    assert not any(_contains(r.getMessage(), code) for r in caplog.records)
    message.refresh_from_db()
    assert message.secret == "" and not _contains(_raw_row(message.pk), code)


def test_production_settings_force_the_simulated_phone_off():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "gigmarket/settings/production.py").read_text()
    assert "\nSMS_PHONE_SIMULATOR = False\n" in source


# ---------------------------------------------------------------------- the staff console, swept whole


def _api_urls() -> list[str]:
    """Every API route under /api/v1/ that takes no argument (lists, 'me', schema...)."""
    urls: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and "<" not in route and "(?P" not in route:
                full = "/" + (prefix + route).lstrip("^").rstrip("$").replace("\\", "")
                if full.startswith("/api/v1/") and "format" not in full:
                    urls.append(full)

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


@pytest.mark.parametrize("who", ["other_superuser", "station_staff"])
def test_no_page_api_export_or_log_shows_a_live_code_to_staff(
    who, client, aliyun, caplog, django_capture_on_commit_callbacks, service_point
):
    """The attack of issue 22: a staff member asks for a login code for the owner's number and reads the
    outbox, every console list, the message itself, the API and the exports. The gateway got the code;
    nobody else may see it anywhere, and the owner's account cannot be taken."""
    owner = UserFactory(phone=OWNER, name="超级管理员", role="staff", is_staff=True, is_superuser=True)
    if who == "other_superuser":
        attacker = UserFactory(phone="13500000009", role="staff", is_staff=True, is_superuser=True)
    else:
        from django.contrib.auth.models import Permission

        attacker = UserFactory(phone="13500000005", role="staff", is_staff=True, service_point=service_point)
        attacker.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    caplog.set_level(logging.DEBUG)
    client.force_login(attacker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:send_code", args=["login"]), {"phone": OWNER})
    assert response.status_code == 200
    (got,) = [m for m in aliyun.received if m["phone"] == OWNER]
    code = got["params"]["code"]
    message = Message.objects.get(phone=OWNER, template="phone_code")

    pages = [
        reverse("admin:index"),
        reverse("admin:notifications_message_changelist") + f"?q={OWNER}",
        reverse("admin:notifications_message_change", args=[message.pk]),
        reverse("hall:dashboard_export", args=["csv"]),
    ]
    for model in site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model in (Message, PhoneCode):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + f"?q={OWNER}")
    pages += _api_urls()
    seen = 0
    for url in pages:
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        assert not _contains(body.decode("utf-8", "replace"), code), url
        seen += response.status_code == 200
    assert seen >= 30  # the sweep really read pages (superuser: all of them; station staff: what it may)

    logged = [r.getMessage() for r in caplog.records]
    assert logged and not any(_contains(line, code) for line in logged)
    assert not _contains(_raw_row(message.pk), code)
    from core.models import AuditLog

    assert not any(_contains(str(row), code) for row in AuditLog.objects.values_list())
    # And it was a live code all along: it works (for its phone's owner).
    account_services.phone_code_check(phone=OWNER, purpose="login", code=code)
    assert owner.is_superuser
