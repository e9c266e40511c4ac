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


def test_common_tasks_link_the_staff_pages_each_to_who_may_use_them(client, east_point):
    """代注册 and the other staff pages outside the admin are reached from the home, shown by permission."""
    clerk = hall_staff("13900000305", "驿站", east_point, "view_realname", "register_on_behalf")
    client.force_login(clerk)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="staff-actions"' in html and reverse("accounts:assisted_register") in html
    assert reverse("jobs:post_on_behalf") not in html  # no jobs.post_on_behalf permission
    assert reverse("outreach:import_upload") in html  # either register_on_behalf or post_on_behalf
    assert client.get(reverse("accounts:assisted_register")).status_code == 200
    plain = hall_staff("13900000306", "新人", east_point, "view_realname")
    client.force_login(plain)
    assert reverse("accounts:assisted_register") not in client.get(reverse("admin:index")).content.decode()


def test_the_other_points_are_folded_below_the_queues(client, market, east_point, west_point):
    """A district clerk sees their own point's screens at once and the others inside a closed <details>,
    after the queues, so 60+ points never push the queues down."""
    clerk = hall_staff("13900000307", "区", market, *REVIEW)
    client.force_login(clerk)
    html = client.get(reverse("admin:index")).content.decode()
    queues, own = html.index('id="review-queues"'), html.index(reverse("hall:screen", args=[market.pk]))
    folded = html.index('<details id="other-points">')
    assert queues < own < folded < html.index(reverse("hall:screen", args=[east_point.pk]))
    assert '<details id="other-points" open' not in html
