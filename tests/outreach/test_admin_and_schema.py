"""The staff console: courses are created through the service (seats left set), lists are scoped to the
staff member's points; the outreach endpoints are in the OpenAPI schema without warnings."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from outreach import services
from outreach.models import Course, FollowUp

from .conftest import completed_order, make_course

pytestmark = pytest.mark.django_db


def test_course_added_in_the_admin_gets_its_seats(client, staff_a, points, trade):
    client.force_login(staff_a)
    start = timezone.localdate() + dt.timedelta(days=5)
    response = client.post(
        reverse("admin:outreach_course_add"),
        {"title": "家政服务员培训", "trade": trade.pk, "description": "", "starts_on": start, "ends_on": start,
         "schedule": "9:00-16:00", "place": "驿站二楼", "service_point": points["a"].pk, "seats": 12,
         "is_free": "on", "fee_note": "", "status": "open", "is_published": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    course = Course.objects.get(title="家政服务员培训")
    assert (course.seats, course.seats_left, course.created_by) == (12, 12, staff_a)


def test_the_admin_refuses_another_point_and_fewer_seats_than_taken(
    client, staff_a, points, trade, alice, bob
):
    client.force_login(staff_a)
    start = timezone.localdate() + dt.timedelta(days=5)
    data = {"title": "育婴培训", "trade": trade.pk, "starts_on": start, "ends_on": start, "place": "大厅",
            "service_point": points["b"].pk, "seats": 2, "status": "open"}  # fmt: skip
    response = client.post(reverse("admin:outreach_course_add"), data)
    assert response.status_code == 200 and not Course.objects.exists()  # station B is not staff A's
    course = make_course(points["a"], trade=trade, seats=2)
    services.training_signup(course=course, worker=alice)
    services.training_signup(course=course, worker=bob)
    data.update(service_point=points["a"].pk, seats=1)
    response = client.post(reverse("admin:outreach_course_change", args=[course.pk]), data)
    assert response.status_code == 200 and "名额不能少于报名人数" in response.content.decode()
    course.refresh_from_db()
    assert (course.seats, course.seats_left) == (2, 0)
    data.update(seats=4)
    assert client.post(reverse("admin:outreach_course_change", args=[course.pk]), data).status_code == 302
    course.refresh_from_db()
    assert (course.seats, course.seats_left) == (4, 2)


def test_admin_followup_list_is_scoped(client, staff_a, alice_worker, bob_worker):
    completed_order(alice_worker)
    completed_order(bob_worker)
    services.followups_create_due()
    client.force_login(staff_a)
    page = client.get(reverse("admin:outreach_followup_changelist"))
    assert page.status_code == 200
    shown = page.context["cl"].queryset
    assert list(shown.values_list("worker", flat=True)) == [alice_worker.pk]
    assert FollowUp.objects.count() == 2


def test_outreach_endpoints_are_documented(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path, method in [
        ("/api/v1/courses/", "get"),
        ("/api/v1/courses/{id}/enrollments/", "post"),
        ("/api/v1/me/trainings/", "get"),
        ("/api/v1/me/training-needs/", "put"),
        ("/api/v1/enrollments/{id}/cancel/", "post"),
        ("/api/v1/articles/", "get"),
        ("/api/v1/articles/{id}/", "get"),
        ("/api/v1/staff/followups/", "get"),
        ("/api/v1/staff/followups/{id}/calls/", "post"),
    ]:
        assert method in paths[path], path
    assert "409" in paths["/api/v1/courses/{id}/enrollments/"]["post"]["responses"]
