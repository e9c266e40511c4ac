"""Staff home (admin index): today's queues scoped to the staff member's service points, and the hall links
(数据看板, each point's 大屏 and 求职机)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Employer, RealName
from core.console import queues_for
from tests.factories import EmployerFactory, RealNameFactory, UserFactory

from .conftest import DASH, hall_staff, seeker

pytestmark = pytest.mark.django_db
REVIEW = ("view_realname", "change_realname", "view_employer", "change_employer", *DASH)


def pending_realname(phone, point=None):
    user = seeker(phone, "待审", verified=False)
    if point is not None:
        user.service_point = point
        user.save(update_fields=["service_point"])
    return RealNameFactory(user=user, status=RealName.Status.PENDING)


@pytest.fixture
def queue_data(east_point, west_point):
    pending_realname("13800000201", east_point)
    pending_realname("13800000202", west_point)
    pending_realname("13800000203", west_point)
    pending_realname("13800000204")  # online, no point: the district market's
    EmployerFactory(
        status=Employer.Status.PENDING, service_point=west_point, created_by=UserFactory(role="employer")
    )


def counts(user):
    return {q["key"]: q["count"] for q in queues_for(user)}


def test_station_staff_count_their_own_point_only(queue_data, east_point, west_point, market):
    east = hall_staff("13900000301", "东", east_point, *REVIEW)
    west = hall_staff("13900000302", "西", west_point, *REVIEW)
    district = hall_staff("13900000303", "区", market, *REVIEW)
    assert counts(east)["realnames"] == 1 and counts(east)["employers"] == 0
    assert counts(west)["realnames"] == 2 and counts(west)["employers"] == 1
    assert counts(district)["realnames"] == 4 and counts(district)["employers"] == 1


def test_staff_home_links_to_dashboard_and_each_visible_points_screens(
    client, queue_data, east_point, west_point
):
    east = hall_staff("13900000301", "东", east_point, *REVIEW)
    client.force_login(east)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'data-queue="realnames">1<' in html
    assert reverse("hall:dashboard") in html
    assert reverse("hall:screen", args=[east_point.pk]) in html
    assert reverse("hall:kiosk", args=[east_point.pk]) in html
    assert reverse("hall:screen", args=[west_point.pk]) not in html


def test_no_dashboard_link_without_the_permission(client, east_point):
    clerk = hall_staff("13900000304", "新人", east_point, "view_realname")
    client.force_login(clerk)
    html = client.get(reverse("admin:index")).content.decode()
    assert reverse("hall:dashboard") not in html
    assert reverse("hall:screen", args=[east_point.pk]) in html
