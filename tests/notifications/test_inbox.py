"""In-app inbox, unread count, mark read, preferences: pages and API, each user sees only their own."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from notifications.models import PreferenceEvent
from notifications.selectors import unread_count
from notifications.services import message_queue, preferences_update

pytestmark = pytest.mark.django_db
DAYTIME = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


def notice(user, key, template="order_settled"):
    return message_queue(event_key=key, template=template, params={"post": f"岗位{key}", "amount": "250.00"},
                         recipient=user, channel="inapp")  # fmt: skip


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_unread_count_and_api_list_are_own_messages_only(alice, bob):
    a1, a2 = notice(alice, "a1"), notice(alice, "a2")
    notice(bob, "b1")
    message_queue(
        event_key="sms", template="order_settled", params={"post": "x", "amount": "1"}, recipient=alice
    )
    assert unread_count(user=alice) == 2
    res = api(alice).get("/api/v1/notifications/")
    assert res.status_code == 200
    assert [m["id"] for m in res.json()["results"]] == [a2.pk, a1.pk]  # newest first, no SMS, no bob
    assert res.json()["results"][0]["unread"] is True
    assert api(alice).get("/api/v1/notifications/unread-count/").json() == {"unread": 2}


def test_api_pages_with_a_cursor(alice):
    for i in range(25):
        notice(alice, f"n{i}")
    first = api(alice).get("/api/v1/notifications/").json()
    assert len(first["results"]) == 20 and first["next"]
    second = api(alice).get(first["next"]).json()
    assert len(second["results"]) == 5
    assert not {m["id"] for m in first["results"]} & {m["id"] for m in second["results"]}


def test_mark_read_refuses_someone_elses_message(alice, bob, charlie):
    mine = notice(alice, "a1")
    assert api(bob).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    assert api(charlie).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None
    res = api(alice).post(f"/api/v1/notifications/{mine.pk}/read/")
    assert res.status_code == 200 and res.json()["unread"] is False
    assert unread_count(user=alice) == 0


def test_mark_all_read_touches_only_own(alice, bob):
    notice(alice, "a1"), notice(alice, "a2")
    b = notice(bob, "b1")
    assert api(alice).post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    b.refresh_from_db()
    assert b.read_at is None and unread_count(user=bob) == 1


def test_api_needs_login(client):
    assert client.get("/api/v1/notifications/").status_code in (401, 403)
    assert client.get("/api/v1/notifications/preferences/").status_code in (401, 403)


@time_machine.travel(DAYTIME)
def test_api_preferences_get_and_patch(alice):
    res = api(alice).get("/api/v1/notifications/preferences/")
    assert res.status_code == 200 and res.json()["marketing_consent"] is False
    res = api(alice).patch("/api/v1/notifications/preferences/", {"marketing_consent": True}, format="json")
    assert res.status_code == 200 and res.json()["marketing_consent"] is True
    assert res.json()["marketing_consent_at"]
    assert PreferenceEvent.objects.get(user=alice).source == "api"
    bad = api(alice).patch("/api/v1/notifications/preferences/", {"shout": True}, format="json")
    assert bad.status_code == 400 and "shout" in bad.json()["fields"]
    bad = api(alice).patch(
        "/api/v1/notifications/preferences/", {"sms_recommendations": "maybe"}, format="json"
    )
    assert bad.status_code == 400 and "sms_recommendations" in bad.json()["fields"]
    assert api(alice).patch("/api/v1/notifications/preferences/", {}, format="json").status_code == 400


def test_inbox_page_mark_read_and_nav_count(client, alice, bob):
    mine, theirs = notice(alice, "a1"), notice(bob, "b1")
    message_queue(
        event_key="s", template="order_settled", params={"post": "x", "amount": "1"}, recipient=alice
    )
    client.force_login(alice)
    page = client.get(reverse("notifications:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert mine.body in html and theirs.body not in html
    assert page.context["unread_notifications"] == 1
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[mine.pk])).status_code == 302
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.read_at and theirs.read_at is None
    assert client.get(reverse("notifications:inbox")).context["unread_notifications"] == 0


def test_inbox_needs_login(client):
    res = client.get(reverse("notifications:inbox"))
    assert res.status_code == 302 and "login" in res["Location"]


def test_context_processor_costs_nothing_for_anonymous(client, django_assert_num_queries):
    from django.test import RequestFactory

    from notifications.context_processors import unread

    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread(request) == {"unread_notifications": 0}


@time_machine.travel(DAYTIME)
def test_preferences_page_opts_in_and_out(client, alice, bob):
    client.force_login(alice)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200 and "岗位推荐" in page.content.decode()
    res = client.post(reverse("notifications:preferences"),
                      {"marketing_consent": "on", "sms_recommendations": "on", "inapp_recommendations": "on"})  # fmt: skip
    assert res.status_code == 302
    alice.notification_preference.refresh_from_db()
    pref = alice.notification_preference
    assert pref.marketing_consent and pref.sms_recommendations and not pref.sms_activities
    assert "您于" in client.get(reverse("notifications:preferences")).content.decode()
    client.post(reverse("notifications:preferences"), {})
    pref.refresh_from_db()
    assert not pref.marketing_consent and not pref.sms_recommendations
    assert PreferenceEvent.objects.filter(user=alice, source="web").count() == 2

    preferences_update(user=alice, marketing_consent=True)
    client.force_login(bob)  # bob sees his own (default) settings, not alice's
    form = client.get(reverse("notifications:preferences")).context["form"]
    assert form.initial["marketing_consent"] is False


@time_machine.travel(DAYTIME)
def test_replying_t_withdraws_consent(client, alice, bob, settings):
    settings.SMS_INBOUND_TOKEN = "inbound-secret"
    preferences_update(user=alice, marketing_consent=True)
    preferences_update(user=bob, marketing_consent=True)
    url = reverse("notifications:sms_inbound", args=["inbound-secret"])
    body = [
        {"phone_number": "+86" + alice.phone, "content": " t ", "send_time": "2026-11-23 10:00:00"},
        {"phone_number": bob.phone, "content": "好的谢谢", "send_time": "2026-11-23 10:00:01"},
    ]
    res = client.post(url, body, content_type="application/json")
    assert res.status_code == 200 and res.json()["code"] == 0
    alice.notification_preference.refresh_from_db()
    bob.notification_preference.refresh_from_db()
    assert not alice.notification_preference.marketing_consent
    assert bob.notification_preference.marketing_consent
    assert PreferenceEvent.objects.filter(user=alice, source="sms_reply").count() == 1


def test_inbound_needs_the_secret_and_well_formed_json(client, settings):
    settings.SMS_INBOUND_TOKEN = ""
    assert (
        client.post("/notifications/sms/inbound/x/", "[]", content_type="application/json").status_code == 404
    )
    settings.SMS_INBOUND_TOKEN = "inbound-secret"
    assert (
        client.post("/notifications/sms/inbound/wrong/", "[]", content_type="application/json").status_code
        == 404
    )
    bad = client.post("/notifications/sms/inbound/inbound-secret/", "{oops", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == 1
    no_phone = client.post(
        "/notifications/sms/inbound/inbound-secret/", [{"content": "T"}], content_type="application/json"
    )
    assert no_phone.status_code == 400
