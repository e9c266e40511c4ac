"""Follow-ups (回访): created once per completed order by the beat task, scoped to the worker's station,
worked on a page and through the API, and summed up for the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.console import queues_for
from core.errors import DomainError, InvalidTransition, NotAllowed
from jobs.models import Order
from outreach import selectors, services
from outreach.models import FollowUp, FollowUpCall, TrainingNeed
from outreach.tasks import create_followups
from tests.factories import TradeFactory, verified_seeker

from .conftest import completed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def fu_a(alice_worker):
    completed_order(alice_worker)
    services.followups_create_due()
    return FollowUp.objects.get(worker=alice_worker)


@pytest.fixture
def fu_b(bob_worker):
    completed_order(bob_worker)
    services.followups_create_due()
    return FollowUp.objects.get(worker=bob_worker)


# ----------------------------------------------------------------------------------------- creation


def test_beat_task_creates_one_task_per_completed_order_and_is_idempotent(
    alice_worker, bob_worker, settings, points
):
    order = completed_order(alice_worker)
    completed_order(bob_worker)
    cancelled = completed_order(alice_worker)
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    old = completed_order(alice_worker, completed_at=timezone.now() - dt.timedelta(days=90))

    assert create_followups.delay().get() == 2
    assert create_followups.delay().get() == 0  # a second run finds nothing new
    assert FollowUp.objects.count() == 2
    assert not FollowUp.objects.filter(order__in=[cancelled, old]).exists()

    followup = FollowUp.objects.get(order=order)
    assert followup.service_point == points["a"]
    expected = timezone.localdate(order.completed_at) + dt.timedelta(
        days=settings.OUTREACH_FOLLOWUP_DELAY_DAYS
    )
    assert followup.first_due_on == followup.due_on == expected
    assert followup.status == FollowUp.Status.OPEN


def test_the_beat_entry_is_configured(settings):
    assert settings.CELERY_BEAT_SCHEDULE["outreach-followups"]["task"] == "outreach.tasks.create_followups"


# ------------------------------------------------------------------------------------------- scoping


def test_each_level_of_staff_sees_its_own_followups(fu_a, fu_b, staff_a, staff_b, street_staff, other_street_staff,
                                                    district_staff, alice):  # fmt: skip
    def seen(user):
        return set(selectors.followups_visible_to(user=user).values_list("pk", flat=True))

    assert seen(staff_a) == {fu_a.pk}
    assert seen(staff_b) == {fu_b.pk}
    assert seen(street_staff) == {fu_a.pk, fu_b.pk}
    assert seen(other_street_staff) == set()
    assert seen(district_staff) == {fu_a.pk, fu_b.pk}
    assert seen(alice) == set()


def test_a_worker_without_a_point_is_seen_only_by_district_staff(staff_a, district_staff, points):
    nobody = verified_seeker(phone="13800000019", name="孙无站")
    completed_order(nobody)
    services.followups_create_due()
    followup = FollowUp.objects.get(worker=nobody)
    assert followup.service_point is None
    assert selectors.followups_visible_to(user=district_staff).filter(pk=followup.pk).exists()
    assert not selectors.followups_visible_to(user=staff_a).filter(pk=followup.pk).exists()


def test_station_staff_cannot_open_another_stations_followup_page(client, fu_a, fu_b, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("outreach:staff_followup_detail", args=[fu_a.pk])).status_code == 200
    assert client.get(reverse("outreach:staff_followup_detail", args=[fu_b.pk])).status_code == 404
    response = client.post(reverse("outreach:staff_followup_detail", args=[fu_b.pk]), {"reached": "no"})
    assert response.status_code == 404
    assert FollowUp.objects.get(pk=fu_b.pk).attempts == 0


def test_station_staff_cannot_see_another_stations_followup_in_the_api(fu_a, fu_b, staff_a):
    api = APIClient()
    api.force_authenticate(staff_a)
    listed = api.get("/api/v1/staff/followups/?tab=upcoming").json()["results"]
    assert [row["id"] for row in listed] == [fu_a.pk]
    assert api.get(f"/api/v1/staff/followups/{fu_b.pk}/").status_code == 404
    response = api.post(f"/api/v1/staff/followups/{fu_b.pk}/calls/", {"reached": False}, format="json")
    assert response.status_code == 404
    assert FollowUp.objects.get(pk=fu_b.pk).attempts == 0


def test_workers_and_staff_without_permission_are_refused(client, fu_a, alice_worker, staff):
    api = APIClient()
    api.force_authenticate(alice_worker)
    assert api.get("/api/v1/staff/followups/").status_code == 403
    client.force_login(alice_worker)
    assert client.get(reverse("outreach:staff_followups")).status_code == 403
    client.force_login(staff)  # staff of some point, but without the outreach permissions
    assert client.get(reverse("outreach:staff_followup_detail", args=[fu_a.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        services.followup_record_call(followup=fu_a, actor=staff, reached=False)


def test_the_service_refuses_staff_of_another_station(fu_b, staff_a):
    with pytest.raises(NotAllowed):
        services.followup_record_call(followup=fu_b, actor=staff_a, reached=False)


# -------------------------------------------------------------------------------------------- calls


def test_unreached_calls_are_retried_then_closed(fu_a, staff_a, settings):
    settings.OUTREACH_FOLLOWUP_MAX_ATTEMPTS = 3
    today = timezone.localdate()
    followup = services.followup_record_call(followup=fu_a, actor=staff_a, reached=False, notes="关机")
    assert followup.status == FollowUp.Status.OPEN
    assert followup.attempts == 1
    assert followup.due_on == today + dt.timedelta(days=settings.OUTREACH_FOLLOWUP_RETRY_DAYS)
    services.followup_record_call(followup=fu_a, actor=staff_a, reached=False)
    followup = services.followup_record_call(followup=fu_a, actor=staff_a, reached=False)
    assert followup.status == FollowUp.Status.UNREACHABLE
    assert followup.attempts == 3
    assert list(FollowUpCall.objects.filter(followup=fu_a).values_list("to_status", flat=True)) == [
        "open",
        "open",
        "unreachable",
    ]
    with pytest.raises(InvalidTransition):
        services.followup_record_call(followup=fu_a, actor=staff_a, reached=False)


def test_a_reached_call_records_the_answers_and_the_training_wish(fu_a, staff_a):
    welding = TradeFactory(name="电焊")
    followup = services.followup_record_call(
        followup=fu_a,
        actor=staff_a,
        reached=True,
        outcome="satisfied",
        satisfaction=4,
        wage_paid_in_full=False,
        needs_help=True,
        wants_training=True,
        training_trade=welding,
        notes="工钱还差100元",
    )
    assert followup.status == FollowUp.Status.DONE
    assert (followup.satisfaction, followup.wage_paid_in_full, followup.needs_help) == (4, False, True)
    assert followup.done_by == staff_a
    need = TrainingNeed.objects.get(worker=fu_a.worker)
    assert need.trade == welding and need.source == "followup"
    call = FollowUpCall.objects.get(followup=fu_a)
    assert call.data["satisfaction"] == 4 and call.actor == staff_a


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"outcome": "", "satisfaction": 3, "wage_paid_in_full": True}, "outcome"),
        ({"outcome": "satisfied", "satisfaction": None, "wage_paid_in_full": True}, "satisfaction"),
        ({"outcome": "satisfied", "satisfaction": 6, "wage_paid_in_full": True}, "satisfaction"),
        ({"outcome": "satisfied", "satisfaction": 3, "wage_paid_in_full": None}, "wage_paid_in_full"),
        ({"outcome": "satisfied", "satisfaction": 3, "wage_paid_in_full": True, "wants_training": True}, "training_trade"),
    ],
)  # fmt: skip
def test_a_reached_call_needs_its_answers(fu_a, staff_a, answers, field):
    with pytest.raises(DomainError) as exc:
        services.followup_record_call(followup=fu_a, actor=staff_a, reached=True, **answers)
    assert exc.value.field == field
    fu_a.refresh_from_db()
    assert fu_a.status == FollowUp.Status.OPEN and fu_a.attempts == 0
    assert not FollowUpCall.objects.exists()


def test_the_page_records_a_call_and_shows_field_errors(client, fu_a, staff_a):
    client.force_login(staff_a)
    url = reverse("outreach:staff_followup_detail", args=[fu_a.pk])
    response = client.post(url, {"reached": "yes", "outcome": "satisfied"})
    assert response.status_code == 200
    assert "请选择满意度" in response.content.decode()
    response = client.post(
        url,
        {
            "reached": "yes",
            "outcome": "seeking",
            "satisfaction": "5",
            "wage_paid_in_full": "yes",
            "notes": "想多接活",
        },
    )
    assert response.status_code == 302
    fu_a.refresh_from_db()
    assert (fu_a.status, fu_a.outcome, fu_a.satisfaction, fu_a.wage_paid_in_full) == (
        "done",
        "seeking",
        5,
        True,
    )


def test_the_api_records_a_call(fu_a, staff_a):
    api = APIClient()
    api.force_authenticate(staff_a)
    bad = api.post(
        f"/api/v1/staff/followups/{fu_a.pk}/calls/", {"reached": True, "satisfaction": 9}, format="json"
    )
    assert bad.status_code == 400 and "satisfaction" in bad.json()["fields"]
    response = api.post(
        f"/api/v1/staff/followups/{fu_a.pk}/calls/",
        {"reached": True, "outcome": "satisfied", "satisfaction": 5, "wage_paid_in_full": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "done" and body["satisfaction"] == 5
    assert body["worker_phone"] == "138****0011"  # masked in the API


def test_overdue_tasks_are_listed_and_queued(client, fu_a, fu_b, staff_a, settings):
    later = timezone.now() + dt.timedelta(
        days=settings.OUTREACH_FOLLOWUP_DELAY_DAYS + settings.OUTREACH_FOLLOWUP_OVERDUE_DAYS + 2
    )
    with time_machine.travel(later):
        assert [f.pk for f in selectors.followup_queue(user=staff_a, which="overdue")] == [fu_a.pk]
        assert FollowUp.objects.get(pk=fu_a.pk).is_overdue
        client.force_login(staff_a)
        page = client.get(reverse("outreach:staff_followups") + "?tab=overdue").content.decode()
        assert "逾期" in page and "李爱丽" in page and "王博" not in page
        queue = {q["key"]: q for q in queues_for(staff_a)}["outreach_followups"]
        assert queue["label"] == "待回访" and queue["count"] == 1
    assert {q["key"]: q for q in queues_for(staff_a)}["outreach_followups"]["count"] == 0  # not due yet


def test_followup_figures(alice_worker, bob_worker, staff_a, staff_b, points):
    welding = TradeFactory(name="电焊")
    for worker in (alice_worker, alice_worker, bob_worker):
        completed_order(worker)
    services.followups_create_due()
    a1, a2 = FollowUp.objects.filter(worker=alice_worker).order_by("pk")
    services.followup_record_call(
        followup=a1, actor=staff_a, reached=True, outcome="satisfied", satisfaction=5, wage_paid_in_full=True,
        wants_training=True, training_trade=welding,
    )  # fmt: skip
    services.followup_record_call(
        followup=a2, actor=staff_a, reached=True, outcome="problem", satisfaction=2, wage_paid_in_full=False,
        needs_help=True,
    )  # fmt: skip
    today = timezone.localdate()
    figures = selectors.followup_figures(start=today - dt.timedelta(days=1), end=today)
    assert figures["created"] == 3 and figures["done"] == 2 and figures["open"] == 1
    assert figures["reach_rate"] == 1.0
    assert figures["satisfaction_avg"] == 3.5
    assert figures["paid_in_full_share"] == 0.5
    assert figures["needs_help"] == 1
    assert figures["wants_training"] == [{"trade": "电焊", "count": 1}]
    only_b = selectors.followup_figures(start=today, end=today, service_point=points["b"])
    assert only_b["created"] == 1 and only_b["done"] == 0 and only_b["reach_rate"] is None
    empty = selectors.followup_figures(start=today - dt.timedelta(days=30), end=today - dt.timedelta(days=10))
    assert empty["created"] == 0 and empty["satisfaction_avg"] is None


def test_the_queue_shows_on_the_staff_home(client, fu_a, staff_a, settings):
    later = timezone.now() + dt.timedelta(days=settings.OUTREACH_FOLLOWUP_DELAY_DAYS)
    client.force_login(staff_a)
    with time_machine.travel(later):
        page = client.get(reverse("admin:index")).content.decode()
    assert "待回访" in page and reverse("outreach:staff_followups") in page
