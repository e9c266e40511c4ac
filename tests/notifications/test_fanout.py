"""Fan-out: ``message_queue_bulk`` writes what ``message_queue`` would (one row per recipient and event, the
same marketing rules), dispatches each new SMS once in batched tasks, and codes go to their own queue."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from gigmarket.celery import app
from notifications import delivery, services
from notifications.models import Message
from notifications.services import Outgoing, message_queue, message_queue_bulk
from tests import factories

pytestmark = pytest.mark.django_db

CODE = {"code": "135790", "minutes": 5, "purpose": "登录"}


@pytest.fixture
def dispatched(monkeypatch):
    """What would go to the broker: (task, argument) per task queued, instead of queueing it."""
    sent: list[tuple[str, object]] = []

    def fake(name, arg):
        sent.append((name.rpartition(".")[2], arg))
        return object()  # a non-None result: "queued"

    monkeypatch.setattr(services, "dispatch", fake)
    return sent


def _settled(i: int, *, phone: str = "") -> Outgoing:
    return Outgoing(
        f"fan:{i}", "order_settled", {"post": f"岗位{i}", "amount": "1.00"}, phone=phone or f"139{i:08d}"
    )


def test_bulk_writes_one_row_per_recipient_and_dispatches_each_once(
    dispatched, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_BATCH_SIZE = 40
    before = message_queue(
        event_key="fan:3", template="order_settled", params={"post": "岗位3", "amount": "1.00"},
        phone="13900000003",
    )  # fmt: skip
    dispatched.clear()
    items = [_settled(i) for i in range(250)]
    items.append(_settled(7))  # the same event for the same number twice in one fan-out
    with django_capture_on_commit_callbacks(execute=True):
        rows = message_queue_bulk(items, chunk=100)

    assert len(rows) == len(items)
    assert rows[3].pk == before.pk  # the row already written is returned, not written again
    assert rows[-1].pk == rows[7].pk
    per_key = Counter(Message.objects.filter(event_key__startswith="fan:").values_list("event_key", "phone"))
    assert len(per_key) == 250 and set(per_key.values()) == {1}
    assert all(r.status == Message.Status.PENDING and r.body for r in rows)

    # Every new row once, one task per chunk; the row written before is not sent again.
    assert {name for name, _ in dispatched} == {"deliver_messages"}
    batches = [ids for _, ids in dispatched]
    assert len(batches) == 3 and max(len(b) for b in batches) <= 100
    flat = [pk for batch in batches for pk in batch]
    assert sorted(flat) == sorted({r.pk for r in rows} - {before.pk})

    # A rerun of the whole fan-out writes and dispatches nothing.
    dispatched.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = message_queue_bulk(items)
    assert [r.pk for r in again] == [r.pk for r in rows]
    assert dispatched == []


def test_a_chunk_task_sends_its_rows_a_batch_at_a_time(settings, monkeypatch):
    """``deliver_messages`` claims NOTIFY_BATCH_SIZE rows at a time (a lease covers one slice's calls), each
    row once; rows already taken by another worker are left to it."""
    settings.NOTIFY_BATCH_SIZE = 40
    rows = [
        Message.objects.create(event_key=f"s:{i}", phone=f"139{i:08d}", template="order_settled",
                               params={"post": "p", "amount": "1"}, body="x")
        for i in range(100)
    ]  # fmt: skip
    Message.objects.filter(pk=rows[5].pk).update(status=Message.Status.SENDING, claim_token="other")
    claims: list[int] = []
    real_claim = delivery.claim

    def counting(**kwargs):
        token, groups = real_claim(**kwargs)
        claims.append(sum(len(g) for g in groups))
        return token, groups

    monkeypatch.setattr(delivery, "claim", counting)
    counts = delivery.deliver_listed([r.pk for r in rows])
    assert len(claims) == 3 and max(claims) <= 40 and sum(claims) == 99 and counts == {"sent": 99}
    assert Message.objects.get(pk=rows[5].pk).status == Message.Status.SENDING  # the other worker's
    assert Message.objects.filter(status=Message.Status.SENT).count() == 99


def test_bulk_rows_equal_one_by_one_rows(dispatched):
    """The one-statement insert writes what ``message_queue`` writes, field for field, secrets included."""
    user = factories.UserFactory(phone="13600000001")
    skip = {"id", "event_key", "created_at", "secret_until"}
    for template, params in (("order_settled", {"post": "岗位", "amount": "1.00"}), ("phone_code", CODE)):
        one = message_queue(event_key=f"one:{template}", template=template, params=params, recipient=user)
        (bulk,) = message_queue_bulk([Outgoing(f"bulk:{template}", template, params, recipient=user)])
        fresh = Message.objects.get(pk=bulk.pk)
        for field in Message._meta.concrete_fields:
            if field.attname not in skip:
                assert getattr(fresh, field.attname) == getattr(one, field.attname), field.attname
                assert getattr(bulk, field.attname) == getattr(fresh, field.attname), field.attname
        assert bulk.recipient == user and (bulk.secret_until is None) == (template != "phone_code")
        if template == "phone_code":  # stored encrypted, as message_queue stores it
            with connection.cursor() as cursor:
                cursor.execute("SELECT secret FROM notifications_message WHERE id = %s", [bulk.pk])
                (stored,) = cursor.fetchone()
            assert stored and "135790" not in stored


def test_bulk_leaves_rows_another_writer_queued_meanwhile(dispatched, django_capture_on_commit_callbacks):
    """A row written by someone else between the look-up and the insert is returned, not written again,
    and not dispatched again; the rest of the chunk is written."""
    from notifications import bulk

    real = bulk.insert_messages

    def racing(rows, **kwargs):
        message_queue(event_key="fan:2", template="order_settled", params={"post": "p", "amount": "1"},
                      phone="13900000002")  # fmt: skip
        return real(rows, **kwargs)

    dispatched.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services_insert = services.insert_messages
        services.insert_messages = racing
        try:
            rows = message_queue_bulk([_settled(i) for i in range(5)])
        finally:
            services.insert_messages = services_insert
    first = Message.objects.get(event_key="fan:2")
    assert rows[2].pk == first.pk and rows[2].params == {"post": "p", "amount": "1"}
    assert Message.objects.filter(event_key__startswith="fan:").count() == 5
    sent = [pk for name, ids in dispatched if name == "deliver_messages" for pk in ids]
    assert sorted(sent) == sorted(r.pk for r in rows if r.pk != first.pk)


def test_bulk_rolled_back_dispatches_nothing(dispatched, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_queue_bulk([_settled(i) for i in range(5)])
        raise RuntimeError("the event failed")
    assert not Message.objects.filter(event_key__startswith="fan:").exists()
    assert dispatched == []


def test_codes_in_a_fan_out_go_one_by_one_to_the_code_task(dispatched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rows = message_queue_bulk(
            [Outgoing(f"code:{i}", "phone_code", CODE, phone=f"1380000000{i}") for i in range(3)]
            + [_settled(1)]
        )
    codes = [r.pk for r in rows[:3]]
    assert sorted(arg for name, arg in dispatched if name == "deliver_code") == sorted(codes)
    assert [arg for name, arg in dispatched if name == "deliver_messages"] == [[rows[3].pk]]
    for row in rows[:3]:  # kept as message_queue keeps them: redacted, secret encrypted, with a life
        assert "135790" not in row.body and "135790" not in str(row.params)
        assert row.secret_until is not None


def test_single_code_is_dispatched_to_the_code_task(dispatched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        code = message_queue(event_key="login:1", template="phone_code", params=CODE, phone="13800000001")
        settled = message_queue(
            event_key="x:1",
            template="order_settled",
            params={"post": "p", "amount": "1"},
            phone="13800000002",
        )
    assert dispatched == [("deliver_code", code.pk), ("deliver_message", settled.pk)]


def test_codes_route_to_the_priority_queue(settings):
    router = app.amqp.Router()
    route = router.route({}, "notifications.tasks.deliver_code", (1,), {})
    assert route["queue"].name == "codes"
    for other in ("notifications.tasks.deliver_messages", "notifications.tasks.deliver_message"):
        assert router.route({}, other, (1,), {})["queue"].name == app.conf.task_default_queue


def test_bulk_keeps_the_marketing_rules(dispatched, settings, django_capture_on_commit_callbacks):
    """Consent, the per-type switch, quiet hours and the daily cap, as message_queue applies them — two
    for one number in the same fan-out both count towards its cap."""
    settings.NOTIFY_QUIET_HOURS = ("00:00", "00:00")  # none
    settings.NOTIFY_MARKETING_DAILY_CAP = 2
    yes, no, off = (factories.UserFactory(phone=f"1370000000{i}") for i in range(3))
    for user, switch in ((yes, True), (off, False)):
        services.preferences_update(user=user, marketing_consent=True, sms_recommendations=switch)
    message_queue(
        event_key="digest:0", template="jobs_digest", params={"count": 1, "post": "p"}, recipient=yes
    )

    def digest(key, user):
        return Outgoing(key, "jobs_digest", {"count": 2, "post": "保洁"}, recipient=user)

    with django_capture_on_commit_callbacks(execute=True):
        rows = message_queue_bulk(
            [
                digest("digest:1", yes),
                digest("digest:2", yes),
                digest("digest:1", no),
                digest("digest:1", off),
            ]
        )
    assert rows[0] is not None and rows[0].marketing
    assert rows[1] is None  # the cap: one already today, one in this batch
    assert rows[2] is None and rows[3] is None  # no consent; switched off
    assert Message.objects.filter(phone=yes.phone, marketing=True).count() == 2

    # In quiet hours: written, held to the end, not dispatched.
    settings.NOTIFY_MARKETING_DAILY_CAP = 5
    settings.NOTIFY_QUIET_HOURS = ("00:00", "23:59")
    dispatched.clear()
    with django_capture_on_commit_callbacks(execute=True):
        (held,) = message_queue_bulk([digest("digest:3", yes)])
    assert held.send_after is not None and dispatched == []


def test_bulk_inapp_rows_are_delivered_by_being_written(dispatched, django_capture_on_commit_callbacks):
    user = factories.UserFactory(phone="13700000009")
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = message_queue_bulk(
            [Outgoing("x:9", "order_settled", {"post": "p", "amount": "1"}, recipient=user)],
            channel=Message.Channel.INAPP,
        )
    assert row.status == Message.Status.SENT and row.sent_at is not None and row.phone == user.phone
    assert dispatched == []


def test_bulk_end_to_end_each_phone_gets_its_message_once(django_capture_on_commit_callbacks):
    """Eager Celery (the test settings): the batched tasks run and the outbox backend delivers."""
    from tests import phones

    with django_capture_on_commit_callbacks(execute=True):
        message_queue_bulk([_settled(i) for i in range(120)])
    assert Message.objects.filter(event_key__startswith="fan:", status=Message.Status.SENT).count() == 120
    got = Counter(sms.phone for sms in phones.received())
    assert len(got) == 120 and set(got.values()) == {1}


def test_code_and_fan_out_tasks_claim_only_their_own_kind():
    now = timezone.now()
    code = Message.objects.create(
        event_key="c", phone="13800000001", template="phone_code", params={}, body="x",
        secret='{"code": "1"}', secret_until=now + dt.timedelta(minutes=5),
    )  # fmt: skip
    other = Message.objects.create(event_key="o", phone="13800000002", template="order_settled", body="x")
    _, groups = delivery.claim(first_ids=[code.pk, other.pk], limit=10, max_batch=100, backend_name="t",
                               codes=False)  # fmt: skip
    assert [r.pk for g in groups for r in g] == [other.pk]
    _, groups = delivery.claim(limit=10, max_batch=100, backend_name="t", codes=True)
    assert [r.pk for g in groups for r in g] == [code.pk]


def test_codes_are_never_batched():
    now = timezone.now()
    rows = [
        Message(pk=i, phone=f"1380000000{i}", template="phone_code", secret_until=now) for i in range(3)
    ] + [Message(pk=10 + i, phone=f"1390000000{i}", template="order_settled") for i in range(3)]
    groups = delivery._groups(rows, 100)
    assert sorted(len(g) for g in groups) == [1, 1, 1, 3]


def test_unbatchable_sends_are_recorded_in_batches_each_once(aliyun, settings):
    """One number many times: one SendSms each, their outcomes written a batch at a time — every row SENT
    with its own receipt, every message at the gateway once."""
    settings.NOTIFY_BATCH_SIZE = 150
    for i in range(130):
        Message.objects.create(
            event_key=f"same:{i}", phone="13900000001", template="order_settled",
            params={"post": f"岗位{i}", "amount": "1.00"}, body="x",
        )  # fmt: skip
    counts = delivery.deliver()
    assert counts == {"sent": 130}
    assert aliyun.calls["SendSms"] == 130
    rows = Message.objects.filter(event_key__startswith="same:")
    assert set(rows.values_list("status", flat=True)) == {Message.Status.SENT}
    assert len(set(rows.values_list("provider_id", flat=True))) == 130
    assert Counter(m["params"]["post"] for m in aliyun.received).most_common(1)[0][1] == 1
