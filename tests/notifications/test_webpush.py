"""Web Push (叮咚): subscriptions (owner only, validated, encrypted at rest), the delivery protocol against
the local fake push service (VAPID verified, payload decrypted), expiry (404/410 delete), retries
(429/5xx), consent and quiet hours, sign-out, and the VAPID key made once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from notifications import push, webpush
from notifications.models import Message, PushSubscription, VapidKey
from notifications.services import preferences_update
from notifications.testing import FakePushService, verify_vapid

pytestmark = pytest.mark.django_db
CHINA = dt.timezone(dt.timedelta(hours=8))
NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=CHINA)
NIGHT = dt.datetime(2026, 11, 23, 23, 0, tzinfo=CHINA)
PARAMS = {
    "post": "安装公司办公桌",
    "pay": "300元/天",
    "place": "西城街道",
    "start": "11月25日 08:00",
    "reason": "想干木工",
    "link": "http://127.0.0.1:8000/matching/r/abc/",
}


@pytest.fixture
def service():
    webpush.forget_cached_key()
    fake = FakePushService().start()
    yield fake
    fake.stop()
    webpush.forget_cached_key()


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def subscribe(user, service, label="测试手机"):
    phone = service.browser()
    sub = push.subscription_save(user=user, endpoint=phone.endpoint, p256dh=phone.p256dh, auth=phone.auth,
                                 label=label)  # fmt: skip
    return phone, sub


@pytest.fixture
def recommend(django_capture_on_commit_callbacks):
    """Queue a pushed recommendation and run what waits for the commit (the delivery task, eager)."""

    def run(user, key="match:1:1"):
        with django_capture_on_commit_callbacks(execute=True):
            return push.push_recommendation(recipient=user, event_key=key, params=PARAMS)

    return run


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The periodic sweep, with the deliveries it queues run (eager) as after its commit."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return webpush.sweep()

    return run


# ------------------------------------------------------------------------------------- subscriptions


def test_subscribe_through_the_api_and_the_keys_are_encrypted_at_rest(alice, service):
    phone = service.browser()
    res = api(alice).post(
        "/api/v1/notifications/push/subscriptions/",
        {**phone.subscription_json(), "label": "安卓手机"},
        format="json",
    )
    assert res.status_code == 201, res.json()
    assert set(res.json()) == {"id", "label", "created_at", "last_success_at"}  # no endpoint, no keys back
    sub = PushSubscription.objects.get(pk=res.json()["id"])
    assert sub.user == alice and sub.endpoint == phone.endpoint and sub.auth == phone.auth
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT endpoint, p256dh, auth FROM notifications_pushsubscription WHERE id = %s", [sub.pk]
        )
        stored = cursor.fetchone()
    for clear, column in zip((phone.endpoint, phone.p256dh, phone.auth), stored, strict=True):
        assert clear not in column and phone.id not in column
    status = api(alice).get("/api/v1/notifications/push/").json()
    assert [s["id"] for s in status["subscriptions"]] == [sub.pk]
    assert status["vapid_public_key"] == webpush.vapid_public_key() and len(status["vapid_public_key"]) == 87


def test_another_users_subscription_is_not_found_and_stays(alice, bob, service):
    _, alices = subscribe(alice, service)
    assert api(bob).delete(f"/api/v1/notifications/push/subscriptions/{alices.pk}/").status_code == 404
    assert api(bob).get("/api/v1/notifications/push/").json()["subscriptions"] == []
    client = APIClient()
    client.force_login(bob)
    assert client.post(f"/notifications/push/{alices.pk}/off/").status_code == 404
    phone_endpoint = alices.endpoint
    assert api(bob).delete("/api/v1/notifications/push/subscriptions/", {"endpoint": phone_endpoint},
                           format="json").status_code == 204  # fmt: skip
    assert PushSubscription.objects.filter(pk=alices.pk).exists()  # bob's delete by endpoint touched nothing
    assert api(alice).delete(f"/api/v1/notifications/push/subscriptions/{alices.pk}/").status_code == 204
    assert not PushSubscription.objects.filter(pk=alices.pk).exists()


def test_a_session_needs_the_csrf_token_to_subscribe(alice, service):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    res = client.post(
        "/api/v1/notifications/push/subscriptions/", service.browser().subscription_json(), format="json"
    )
    assert res.status_code == 403 and not PushSubscription.objects.exists()


def test_the_page_lists_own_devices_and_turns_one_off(alice, bob, service):
    subscribe(alice, service, label="安卓手机")
    _, bobs = subscribe(bob, service, label="王博的手机")
    client = APIClient()
    client.force_login(bob)
    page = client.get("/notifications/settings/").content.decode()
    assert "手机推送（叮咚）" in page and "王博的手机" in page and "安卓手机" not in page
    assert "用手机推送（叮咚）发岗位推荐" in page
    response = client.post(f"/notifications/push/{bobs.pk}/off/")
    assert response.status_code == 302 and not PushSubscription.objects.filter(user=bob).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"endpoint": ""}, "endpoint", "该字段不能为空。"),
        ({"endpoint": "ftp://push.example.com/x"}, "endpoint", "推送地址必须是 https 地址"),
        ({"endpoint": "https://user:pw@push.example.com/x"}, "endpoint", "推送地址不正确"),
        ({"keys": {"p256dh": "not-a-key", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh", "加密公钥不正确"),
        ({"keys": {"p256dh": "BAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh", "加密公钥不正确"),
        ({"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "p256dh", "加密公钥不正确"),
        ({"keys": "x"}, "keys", None),
    ],
)
def test_bad_subscriptions_get_a_field_error(alice, service, change, field, message):
    phone = service.browser()
    body = {**phone.subscription_json(), **change}
    res = api(alice).post("/api/v1/notifications/push/subscriptions/", body, format="json")
    assert res.status_code == 400
    assert field in res.json()["fields"]
    if message:
        assert res.json()["fields"][field] == [message]
    assert not PushSubscription.objects.exists()


def test_a_short_auth_secret_is_refused(alice, service):
    phone = service.browser()
    body = {**phone.subscription_json(), "keys": {"p256dh": phone.p256dh, "auth": "AAAA"}}
    res = api(alice).post("/api/v1/notifications/push/subscriptions/", body, format="json")
    assert res.status_code == 400 and res.json()["fields"] == {"auth": ["认证密钥不正确"]}


def test_outside_tests_only_https_push_service_domains_are_taken(settings, alice):
    settings.WEBPUSH_ALLOW_LOCAL_ENDPOINTS = False
    key = "BNc" + "A" * 84
    for endpoint in ("http://push.example.com/x", "https://127.0.0.1/x", "https://10.0.0.8/x",
                     "https://localhost/x", "https://intranet/x", "https://db.internal/x"):  # fmt: skip
        with pytest.raises(push.DomainError) as refused:
            push.subscription_save(user=alice, endpoint=endpoint, p256dh=key, auth="A" * 22)
        assert refused.value.field == "endpoint"


def test_a_phone_signed_in_by_someone_else_becomes_theirs(alice, bob, service):
    phone, first = subscribe(alice, service)
    again = push.subscription_save(user=bob, endpoint=phone.endpoint, p256dh=phone.p256dh, auth=phone.auth)
    assert again.pk == first.pk and again.user == bob
    assert PushSubscription.objects.count() == 1


def test_signing_out_stops_the_pushes_this_browser_turned_on(alice, service):
    client = APIClient()
    client.force_login(alice)
    phone = service.browser()
    res = client.post("/api/v1/notifications/push/subscriptions/", phone.subscription_json(), format="json")
    assert res.status_code == 201
    _, other_device = subscribe(alice, service, label="另一台手机")
    client.post("/logout/")
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [other_device.pk]


# ----------------------------------------------------------------------------------------- delivery


@time_machine.travel(NOON, tick=False)
def test_a_push_reaches_every_device_decrypted_with_a_valid_vapid_token(alice, service, recommend):
    preferences_update(user=alice, marketing_consent=True)
    phone1, sub1 = subscribe(alice, service)
    phone2, _ = subscribe(alice, service, label="平板")
    message = recommend(alice)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.channel == "webpush"
    for phone in (phone1, phone2):
        [data] = service.messages_for(phone)
        assert data == {
            "title": "叮咚！新活：安装公司办公桌",
            "body": "300元/天，西城街道，11月25日 08:00开工",
            "url": "/matching/r/abc/",  # a path on this site: the worker opens it on the site it serves
            "tag": webpush.topic("match:1:1"),
            "grab": True,
        }
    claims = service.received[0]["claims"]
    assert claims["k"] == webpush.vapid_public_key()
    sub1.refresh_from_db()
    assert sub1.last_success_at is not None and sub1.failures == 0
    assert service.refused == []
    assert webpush.deliver(message_id=message.pk) == {"skipped": 1}  # sent once, never again
    assert len(service.received) == 2


@time_machine.travel(NOON, tick=False)
def test_410_and_404_delete_the_subscription(alice, service, recommend):
    preferences_update(user=alice, marketing_consent=True)
    gone, _ = subscribe(alice, service)
    missing, _ = subscribe(alice, service)
    kept, kept_sub = subscribe(alice, service)
    service.gone.add(gone.id)
    service.browsers.pop(missing.id)  # the service never heard of it: 404
    message = recommend(alice)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [kept_sub.pk]
    assert len(service.messages_for(kept)) == 1


@time_machine.travel(NOON, tick=False)
def test_when_every_device_is_gone_the_row_fails(alice, service, recommend):
    preferences_update(user=alice, marketing_consent=True)
    phone, _ = subscribe(alice, service)
    service.gone.add(phone.id)
    message = recommend(alice)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and not PushSubscription.objects.exists()


def test_429_is_retried_later_and_skips_the_device_that_already_has_it(alice, service, recommend, sweep):
    with time_machine.travel(NOON, tick=False):
        preferences_update(user=alice, marketing_consent=True)
        busy, busy_sub = subscribe(alice, service)
        fine, _ = subscribe(alice, service)
        service.answers[busy.id] = [429]
        message = recommend(alice)
        message.refresh_from_db()
        assert message.status == Message.Status.PENDING and message.send_after > NOON
        assert len(service.messages_for(fine)) == 1 and service.messages_for(busy) == []
        assert sweep()["push_due"] == 0  # the back-off is not over
    with time_machine.travel(message.send_after + dt.timedelta(seconds=1), tick=False):
        assert sweep()["push_due"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.attempts == 2
    assert len(service.messages_for(busy)) == 1
    assert len(service.messages_for(fine)) == 1  # not sent twice
    busy_sub.refresh_from_db()
    assert busy_sub.failures == 0


@time_machine.travel(NOON, tick=False)
def test_other_refusals_count_failures_and_drop_the_device_after_the_limit(
    settings, alice, service, recommend
):
    settings.WEBPUSH_MAX_FAILURES = 2
    preferences_update(user=alice, marketing_consent=True)
    phone, sub = subscribe(alice, service)
    service.answers[phone.id] = [400, 400]
    recommend(alice, key="match:1:1")
    sub.refresh_from_db()
    assert sub.failures == 1
    recommend(alice, key="match:2:1")
    assert not PushSubscription.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_a_worker_that_died_mid_send_is_swept_back(alice, service, recommend, sweep):
    preferences_update(user=alice, marketing_consent=True)
    phone, _ = subscribe(alice, service)
    service.answers[phone.id] = [500]  # the first attempt is retried...
    message = recommend(alice)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, lease_until=NOON - dt.timedelta(seconds=1), send_after=None
    )  # ...and as if a worker had claimed it and died
    counts = sweep()
    assert counts["push_requeued"] == 1 and counts["push_due"] == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(service.messages_for(phone)) == 1


# --------------------------------------------------------------------------------- consent, quiet hours


@time_machine.travel(NOON, tick=False)
def test_no_consent_or_the_switch_off_means_no_push(alice, bob, service, recommend):
    subscribe(alice, service)  # never consented
    assert recommend(alice) is None
    preferences_update(user=bob, marketing_consent=True, push_recommendations=False)
    subscribe(bob, service)
    assert recommend(bob, key="match:1:2") is None
    assert service.received == [] and not Message.objects.filter(channel="webpush").exists()


@time_machine.travel(NOON, tick=False)
def test_no_subscription_no_row(alice, service, recommend):
    preferences_update(user=alice, marketing_consent=True)
    assert recommend(alice) is None
    assert not Message.objects.filter(channel="webpush").exists()


def test_quiet_hours_hold_the_push_and_withdrawing_consent_cancels_it(alice, service, recommend, sweep):
    with time_machine.travel(NIGHT, tick=False):
        preferences_update(user=alice, marketing_consent=True)
        subscribe(alice, service)
        message = recommend(alice)
        assert message.status == Message.Status.PENDING and message.send_after is not None
        assert webpush.deliver(message_id=message.pk) == {"skipped": 1}
        assert sweep()["push_due"] == 0
        preferences_update(user=alice, push_recommendations=False)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False):
        sweep()
    assert service.received == []


# ------------------------------------------------------------------------------------------ VAPID key


def test_the_vapid_key_is_made_once_and_kept_encrypted(service):
    webpush.forget_cached_key()
    first = webpush.vapid_public_key()
    webpush.forget_cached_key()
    assert webpush.vapid_public_key() == first and VapidKey.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_pem FROM notifications_vapidkey")
        (stored,) = cursor.fetchone()
    assert "PRIVATE KEY" not in stored


def test_a_configured_key_is_used(settings, alice, service):
    from py_vapid import Vapid

    signer = Vapid()
    signer.generate_keys()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = signer.private_pem().decode()
    webpush.forget_cached_key()
    assert webpush.vapid_public_key() == webpush.b64url(
        signer.public_key.public_bytes(
            webpush.serialization.Encoding.X962, webpush.serialization.PublicFormat.UncompressedPoint
        )
    )
    assert not VapidKey.objects.exists()


def test_the_fake_service_refuses_a_token_for_another_audience_or_a_forged_one():
    webpush.forget_cached_key()
    signer = webpush.vapid()
    header = signer.sign({"sub": "mailto:ops@example.com", "aud": "http://127.0.0.1:1"})["Authorization"]
    assert verify_vapid(header, audience="http://127.0.0.1:1")["sub"] == "mailto:ops@example.com"
    with pytest.raises(ValueError, match="audience"):
        verify_vapid(header, audience="http://127.0.0.1:2")
    token = header.split("t=")[1].split(",")[0]
    claims = token.split(".")[1]
    forged_claims = webpush.b64url(json.dumps({"aud": "http://127.0.0.1:1", "exp": 9999999999,
                                                "sub": "mailto:x@y.z"}).encode())  # fmt: skip
    with pytest.raises(ValueError, match="signature"):
        verify_vapid(header.replace(claims, forged_claims), audience="http://127.0.0.1:1")
    webpush.forget_cached_key()
