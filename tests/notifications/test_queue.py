"""Queueing: the outbox row is written with the event (or not at all), consent, per-type switches, quiet
hours and the per-number marketing cap; transactional messages are never suppressed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from core.errors import DomainError
from notifications.models import Message, Preference, PreferenceEvent
from notifications.services import message_queue, preferences_update, quiet_hours_end
from notifications.templates_registry import OPT_OUT_TEXT

SH = ZoneInfo("Asia/Shanghai")
DAYTIME = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)
NIGHT = dt.datetime(2026, 11, 23, 22, 30, tzinfo=SH)

pytestmark = pytest.mark.django_db


def digest(user, key="d1", channel="sms"):
    return message_queue(
        event_key=f"digest:{key}",
        template="jobs_digest",
        params={"count": 3, "post": "工地小工"},
        recipient=user,
        channel=channel,
    )


@time_machine.travel(DAYTIME)
def test_marketing_needs_consent_and_writes_nothing_without_it(alice):
    assert digest(alice) is None
    assert digest(alice, channel="inapp") is None
    assert not Message.objects.exists()
    preferences_update(user=alice, marketing_consent=True)
    sms = digest(alice)
    assert sms.status == Message.Status.PENDING and sms.marketing
    assert sms.body.endswith(OPT_OUT_TEXT)
    inapp = digest(alice, channel="inapp")
    assert inapp.status == Message.Status.SENT and OPT_OUT_TEXT not in inapp.body


@time_machine.travel(DAYTIME)
def test_marketing_to_a_bare_number_is_refused(db):
    assert (
        message_queue(
            event_key="x", template="jobs_digest", params={"count": 1, "post": "p"}, phone="13800000009"
        )
        is None
    )


@time_machine.travel(DAYTIME)
def test_per_type_switch_opts_out_of_one_channel_only(consenting):
    preferences_update(user=consenting, sms_recommendations=False)
    assert digest(consenting) is None
    assert digest(consenting, channel="inapp") is not None


@time_machine.travel(DAYTIME)
def test_activity_switch_is_separate_from_recommendations(consenting):
    preferences_update(user=consenting, sms_activities=False)
    news = {"course": "电工培训"}
    assert message_queue(event_key="t1", template="training_news", params=news, recipient=consenting) is None
    assert digest(consenting) is not None
    m = message_queue(
        event_key="t1", template="training_news", params=news, recipient=consenting, channel="inapp"
    )
    assert m is not None


@time_machine.travel(DAYTIME)
def test_transactional_messages_ignore_preferences(alice, django_capture_on_commit_callbacks):
    preferences_update(
        user=alice, marketing_consent=False, sms_recommendations=False, inapp_recommendations=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        m = message_queue(event_key="order:1:confirmed", template="claim_confirmed",
                          params={"post": "p", "start": "s", "place": "x"}, recipient=alice)  # fmt: skip
    m.refresh_from_db()
    assert m.status == Message.Status.SENT  # eager Celery, outbox backend


@time_machine.travel(NIGHT)
def test_quiet_hours_delay_marketing_until_morning_and_not_transactional(
    consenting, django_capture_on_commit_callbacks
):
    sms = digest(consenting)
    assert sms.status == Message.Status.PENDING
    assert sms.send_after == dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH)
    inapp = digest(consenting, channel="inapp")
    assert inapp.status == Message.Status.PENDING  # not in the inbox yet
    from notifications.selectors import unread_count

    assert unread_count(user=consenting) == 0
    with django_capture_on_commit_callbacks(execute=True):
        code = message_queue(event_key="c", template="phone_code",
                             params={"code": "123456", "minutes": 5, "purpose": "登录"}, phone=consenting.phone)  # fmt: skip
    code.refresh_from_db()
    assert code.send_after is None and code.status == Message.Status.SENT


def test_quiet_hours_window_edges(settings):
    settings.NOTIFY_QUIET_HOURS = ("21:00", "08:00")
    at = lambda h, m=0: dt.datetime(2026, 11, 23, h, m, tzinfo=SH)  # noqa: E731
    assert quiet_hours_end(at=at(20, 59)) is None
    assert quiet_hours_end(at=at(21, 0)) == dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH)
    assert quiet_hours_end(at=at(3, 0)) == at(8, 0)
    assert quiet_hours_end(at=at(8, 0)) is None
    settings.NOTIFY_QUIET_HOURS = ("12:00", "14:00")  # a window inside one day works too
    assert quiet_hours_end(at=at(13, 0)) == at(14, 0)
    assert quiet_hours_end(at=at(14, 30)) is None


def test_sweeper_delivers_after_quiet_hours_never_during(consenting, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    from notifications.delivery import sweep

    with time_machine.travel(NIGHT, tick=False) as traveller:
        sms, inapp = digest(consenting), digest(consenting, channel="inapp")
        with capture(execute=True):  # on_commit runs the (eager) tasks
            sweep()
        traveller.move_to(dt.datetime(2026, 11, 24, 7, 59, tzinfo=SH))
        with capture(execute=True):
            sweep()
        sms.refresh_from_db(), inapp.refresh_from_db()
        assert sms.status == inapp.status == Message.Status.PENDING
        traveller.move_to(dt.datetime(2026, 11, 24, 8, 0, 5, tzinfo=SH))
        with capture(execute=True):
            counts = sweep()
        assert counts["tasks"] == 1 and counts["inapp_released"] == 1
        sms.refresh_from_db(), inapp.refresh_from_db()
        assert sms.status == inapp.status == Message.Status.SENT
        assert sms.sent_at >= dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH)


def test_withdrawing_consent_cancels_waiting_marketing(consenting):
    with time_machine.travel(NIGHT):
        sms = digest(consenting)
        preferences_update(user=consenting, marketing_consent=False)
    sms.refresh_from_db()
    assert sms.status == Message.Status.FAILED and "退订" in sms.last_error


@time_machine.travel(DAYTIME)
def test_daily_marketing_cap_per_number(consenting, settings):
    settings.NOTIFY_MARKETING_DAILY_CAP = 2
    assert digest(consenting, "a") and digest(consenting, "b")
    assert digest(consenting, "c") is None
    assert digest(consenting, "c", channel="inapp") is not None  # the cap is on SMS to a number
    assert Message.objects.filter(channel="sms").count() == 2
    with time_machine.travel(DAYTIME + dt.timedelta(days=1)):
        assert digest(consenting, "d") is not None


@time_machine.travel(DAYTIME)
def test_outbox_row_is_written_with_the_event_or_not_at_all(alice, django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), transaction.atomic():
        message_queue(event_key="e1", template="order_settled", params={"post": "p", "amount": "250.00"},
                      recipient=alice)  # fmt: skip
        raise RuntimeError("the event failed")
    assert not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        m = message_queue(event_key="e1", template="order_settled", params={"post": "p", "amount": "250.00"},
                          recipient=alice)  # fmt: skip
    assert len(callbacks) == 1 and Message.objects.get().pk == m.pk


@time_machine.travel(DAYTIME)
def test_same_event_twice_is_one_message(alice):
    first = message_queue(
        event_key="e2", template="order_settled", params={"post": "p", "amount": "1"}, recipient=alice
    )
    again = message_queue(
        event_key="e2", template="order_settled", params={"post": "p", "amount": "1"}, recipient=alice
    )
    assert first.pk == again.pk and Message.objects.count() == 1


def test_preferences_update_records_consent_and_refuses_bad_input(alice):
    with time_machine.travel(DAYTIME, tick=False):
        pref = preferences_update(user=alice, marketing_consent=True, source="web")
    assert pref.marketing_consent_at == DAYTIME
    assert PreferenceEvent.objects.get(user=alice).changes == {"marketing_consent": True}
    preferences_update(user=alice, marketing_consent=True)  # no change, no event
    assert PreferenceEvent.objects.filter(user=alice).count() == 1
    with pytest.raises(DomainError) as exc:
        preferences_update(user=alice, shout=True)
    assert exc.value.field == "shout"
    with pytest.raises(DomainError) as exc:
        preferences_update(user=alice, marketing_consent="yes")
    assert exc.value.field == "marketing_consent"
    pref = preferences_update(user=alice, marketing_consent=False)
    assert pref.marketing_consent_at is None
    assert Preference.objects.count() == 1


def test_marketing_cap_counts_the_day_a_message_is_sent_not_written(consenting, settings):
    """Three recommendations written late at night wait for 08:00; three more the next morning would make
    six SMS that day against a cap of three. The cap counts by the day each one reaches the phone."""
    settings.NOTIFY_MARKETING_DAILY_CAP = 3
    with time_machine.travel(NIGHT):
        held = [digest(consenting, f"night{i}") for i in range(3)]
    assert all(m is not None and m.send_after.astimezone(SH).hour == 8 for m in held)
    with time_machine.travel(NIGHT + dt.timedelta(hours=11)):  # 09:30 the next morning
        assert digest(consenting, "morning") is None
    assert Message.objects.filter(channel="sms").count() == 3
    with time_machine.travel(NIGHT + dt.timedelta(days=1, hours=11)):  # the day after: a fresh cap
        assert digest(consenting, "later") is not None
