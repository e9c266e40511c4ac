"""The aliyun (Dysmsapi) backend against the fake gateway: signing, SendSms / SendBatchSms, provider errors
mapped to retry or give up, lost answers reconciled through QuerySendDetails, never a second send."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.utils import timezone

from notifications import delivery
from notifications.backends import aliyun_signature
from notifications.models import Message

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def settled(n: int, phone: str | None = None, template: str = "order_settled", params=None) -> Message:
    return Message.objects.create(
        event_key=f"ev:{n}:{phone}",
        phone=phone or f"139{n:08d}",
        template=template,
        params=params if params is not None else {"post": f"岗位{n}", "amount": "250.00"},
        body="…",
    )


def test_signature_matches_the_providers_documented_example():
    params = {
        "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
        "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
    }  # fmt: skip
    assert aliyun_signature(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_one_message_goes_by_sendsms_with_outid(aliyun, settings):
    m = settled(1)
    assert delivery.deliver(first_id=m.pk) == {"sent": 1}
    m.refresh_from_db()
    (got,) = aliyun.received
    assert aliyun.calls["SendSms"] == 1
    assert got["phone"] == m.phone and got["template"] == "SMS_GM_SETTLED"
    assert got["params"] == {"post": "岗位1", "amount": "250.00"} and got["sign"] == settings.SMS_SIGN_NAME
    assert got["out_id"] == f"m{m.pk}" == m.out_id
    assert m.status == Message.Status.SENT and m.provider_id == got["biz_id"] and m.backend == "aliyun"
    assert delivery.deliver(first_id=m.pk) == {}  # already sent: nothing happens
    assert len(aliyun.received) == 1


def test_a_kept_alive_connection_the_gateway_closed_is_replaced_not_a_failed_send(aliyun):
    """One connection per thread is kept between calls; when the gateway has closed it meanwhile (an idle
    timeout, a restart), the next call opens a new one: sent once, not an unknown outcome."""
    first = settled(1)
    assert delivery.deliver(first_id=first.pk) == {"sent": 1}
    aliyun.close_after_answer = True
    for n in (2, 3):
        time.sleep(0.2)  # idle: the gateway's close has arrived
        m = settled(n)
        assert delivery.deliver(first_id=m.pk) == {"sent": 1}
    assert sorted(got["phone"] for got in aliyun.received) == [f"139{n:08d}" for n in (1, 2, 3)]


def test_many_messages_go_by_sendbatchsms_one_number_once_per_call(aliyun):
    rows = [settled(n) for n in range(5)] + [settled(9, phone="13900000001")]  # a number twice
    rows.append(settled(7, template="order_reminder", params={"post": "p", "start": "s", "place": "x"}))
    counts = delivery.deliver()
    assert counts == {"sent": 7}
    assert aliyun.calls["SendBatchSms"] == 1 and aliyun.calls["SendSms"] == 2
    assert sorted(aliyun.per_phone().values()) == [1] * 5 + [2]
    batch = {m["out_id"] for m in aliyun.received if m["template"] == "SMS_GM_SETTLED"}
    assert len(batch) == 2  # the batch's OutId, and the repeated number's own call
    assert Message.objects.filter(status=Message.Status.SENT).count() == 7


@time_machine.travel(NOW, tick=False)
def test_throttling_is_retried_later_with_backoff(aliyun, settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    m = settled(1)
    aliyun.fail_next = ["isv.BUSINESS_LIMIT_CONTROL", "Throttling.User"]
    assert delivery.deliver() == {"retry": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.PENDING and m.attempts == 1
    assert m.send_after == NOW + dt.timedelta(seconds=30) and m.last_error.startswith(
        "isv.BUSINESS_LIMIT_CONTROL"
    )
    assert delivery.deliver() == {}  # not due yet
    with time_machine.travel(NOW + dt.timedelta(seconds=31), tick=False):
        assert delivery.deliver() == {"retry": 1}
    m.refresh_from_db()
    assert m.send_after == NOW + dt.timedelta(seconds=31 + 60)  # doubled
    with time_machine.travel(NOW + dt.timedelta(seconds=100), tick=False):
        assert delivery.deliver() == {"sent": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and m.attempts == 3 and m.last_error == ""
    assert len(aliyun.received) == 1


def test_retries_stop_after_max_attempts(aliyun, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    settings.NOTIFY_RETRY_BASE_SECONDS = 0
    m = settled(1)
    aliyun.fail_next = ["isp.SYSTEM_ERROR"] * 5
    delivery.deliver()
    assert delivery.deliver() == {"retry": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.FAILED and m.attempts == 2 and not aliyun.received


def test_illegal_number_gives_up_at_once_and_spares_the_rest_of_its_batch(aliyun):
    good = [settled(n) for n in range(3)]
    bad = settled(5, phone="13900000005")
    aliyun.fail_numbers["13900000005"] = "isv.MOBILE_NUMBER_ILLEGAL"
    counts = delivery.deliver()
    assert counts == {"sent": 3, "give_up": 1}
    bad.refresh_from_db()
    assert bad.status == Message.Status.FAILED and bad.attempts == 1
    assert bad.last_error.startswith("isv.MOBILE_NUMBER_ILLEGAL")
    assert sorted(aliyun.per_phone()) == sorted(m.phone for m in good)
    assert all(m["out_id"].startswith("m") for m in aliyun.received)  # resent one by one, own OutIds


def test_missing_template_variable_gives_up(aliyun):
    m = settled(1, params={"post": "p"})  # no amount
    assert delivery.deliver() == {"give_up": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.FAILED and "TEMPLATE_MISSING_PARAMETERS" in m.last_error


def test_wrong_secret_is_refused_by_the_gateway_and_kept_for_later(aliyun, settings):
    settings.SMS_ACCESS_KEY_SECRET = "wrong"
    m = settled(1)
    assert delivery.deliver() == {"retry": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.PENDING and "SignatureDoesNotMatch" in m.last_error
    assert not aliyun.received


def test_lost_answer_is_reconciled_with_the_provider_not_resent(aliyun, settings):
    settings.SMS_HTTP_TIMEOUT = 0.3
    aliyun.latency = 0.6  # accepted, but the answer comes after we gave up waiting
    m = settled(1)
    assert delivery.deliver() == {"unknown": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENDING and "SendSms" in m.last_error
    aliyun.latency = 0
    assert delivery.deliver() == {}  # not pending: never sent blindly again
    assert delivery.reconcile() == {}  # the lease still runs: the provider may be working on it
    counts = delivery.reconcile(now=m.lease_until + dt.timedelta(seconds=1))
    assert counts == {"confirmed": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and len(aliyun.received) == 1
    assert aliyun.calls["QuerySendDetails"] >= 1


def test_claimed_but_never_sent_is_sent_once_after_the_lease(aliyun, settings):
    """A worker killed between claim and send: the provider has nothing, so the row goes again."""
    m = settled(1)
    _token, groups = delivery.claim(limit=10, max_batch=100, backend_name="aliyun")
    assert [r.pk for g in groups for r in g] == [m.pk]
    assert delivery.deliver() == {}  # claimed by the dead worker: nobody else sends it
    assert delivery.reconcile() == {}  # lease not over yet
    later = timezone.now() + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS + 1)
    with time_machine.travel(later):
        assert delivery.reconcile() == {"requeued": 1}
        assert delivery.deliver() == {"sent": 1}
    assert len(aliyun.received) == 1


def test_provider_unreachable_keeps_the_row_until_it_can_tell(aliyun, settings):
    m = settled(1)
    aliyun.stop()
    assert delivery.deliver() == {"unknown": 1}
    later = timezone.now() + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS + 1)
    assert delivery.reconcile(now=later) == {"unknown": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENDING


def test_stale_pending_rows_are_picked_up_by_the_sweeper(
    aliyun, settings, django_capture_on_commit_callbacks
):
    """A lost task (broker restart): the row stays pending until the sweeper queues delivery again."""
    m = settled(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.sweep()["tasks"] == 0  # too fresh: its own task is probably on the way
    later = timezone.now() + dt.timedelta(seconds=settings.NOTIFY_STALE_SECONDS + 1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert delivery.sweep()["tasks"] == 1
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and len(aliyun.received) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unbatchable_calls_go_in_parallel_each_once(aliyun, settings):
    """40 messages to one number cannot share a SendBatchSms call; with a 100 ms provider they still go
    out in well under the 4 s one-by-one would take, each exactly once."""
    settings.NOTIFY_SEND_THREADS = 8
    aliyun.latency = 0.1
    for n in range(40):
        settled(n, phone="13900000001")
    started = time.monotonic()
    assert delivery.deliver() == {"sent": 40}
    assert time.monotonic() - started < 2.0
    assert aliyun.calls["SendSms"] == 40
    assert sorted(m["params"]["post"] for m in aliyun.received) == sorted(f"岗位{n}" for n in range(40))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 40


def test_a_marketing_retry_never_lands_in_quiet_hours(aliyun, consenting, settings):
    """Queued at 20:59 (allowed), throttled, retried: the retry falls at night, so it waits for 08:00."""
    from zoneinfo import ZoneInfo

    from notifications.services import message_queue

    sh = ZoneInfo("Asia/Shanghai")
    settings.NOTIFY_RETRY_BASE_SECONDS = 120
    with time_machine.travel(dt.datetime(2026, 11, 23, 20, 59, tzinfo=sh), tick=False):
        m = message_queue(
            event_key="d", template="jobs_digest", params={"count": 2, "post": "p"}, recipient=consenting
        )
        assert m.send_after is None
        aliyun.fail_next = ["Throttling.User"]
        assert delivery.deliver() == {"retry": 1}
    with time_machine.travel(dt.datetime(2026, 11, 23, 21, 5, tzinfo=sh), tick=False):
        assert delivery.deliver() == {}
    with time_machine.travel(dt.datetime(2026, 11, 24, 7, 59, tzinfo=sh), tick=False):
        assert delivery.deliver() == {}
    with time_machine.travel(dt.datetime(2026, 11, 24, 8, 0, tzinfo=sh), tick=False):
        assert delivery.deliver() == {"sent": 1}
    assert len(aliyun.received) == 1


def test_the_gateway_is_reached_through_the_proxy_the_environment_names(aliyun, settings, monkeypatch):
    """A city's servers often reach the provider only through an egress proxy: HTTP_PROXY is honoured (the
    request line then names the whole URL), NO_PROXY exempts a host, as requests did before."""
    settings.SMS_HTTP_URL = "http://dysmsapi.example.invalid/"  # not resolvable: only the proxy can reach it
    monkeypatch.setenv("HTTP_PROXY", aliyun.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert delivery.deliver(first_id=settled(1).pk) == {"sent": 1}
    assert aliyun.targets == ["http://dysmsapi.example.invalid/"]

    settings.SMS_HTTP_URL = aliyun.url
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert delivery.deliver(first_id=settled(2).pk) == {"sent": 1}
    assert aliyun.targets[-1] == "/"
