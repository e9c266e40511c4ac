"""The data migrations that give every existing account, employer, post and case a service point."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.models import Employer, ServicePoint, User
from disputes.models import Case
from jobs.models import Post
from tests import factories

pytestmark = pytest.mark.django_db


def _run(app: str, name: str) -> None:
    importlib.import_module(f"{app}.migrations.{name}").backfill(apps, None)


def test_rows_without_a_point_are_given_the_closest_one():
    district = factories.ServicePointFactory(kind=ServicePoint.Kind.DISTRICT_MARKET, name="区市场")
    station = factories.ServicePointFactory(name="驿站", parent=district)
    online = factories.UserFactory(phone="13611110001")  # signed up online: no point
    clerk = factories.UserFactory(phone="13611110002", is_staff=True, role="staff", service_point=station)
    lost_staff = factories.UserFactory(phone="13611110003", is_staff=True, role="staff")
    villager = factories.UserFactory(phone="13611110004", service_point=station)
    by_villager = factories.EmployerFactory(created_by=villager, service_point=None)
    by_online = factories.EmployerFactory(created_by=online, service_point=None)
    on_behalf = factories.PostFactory(employer=by_online)
    own = factories.PostFactory(employer=by_villager)
    Post.objects.filter(pk=on_behalf.pk).update(service_point=None, on_behalf_by=clerk)
    Post.objects.filter(pk=own.pk).update(service_point=None)
    case = Case.objects.create(
        category="wage_arrears", channel="oral", complainant_side="worker", complainant_name="甲", respondent_name="乙",
        description="欠薪", post=own,
    )  # fmt: skip
    orphan = Case.objects.create(
        category="wage_arrears", channel="oral", complainant_side="worker", complainant_name="甲", respondent_name="乙",
        description="欠薪",
    )  # fmt: skip

    _run("accounts", "0005_user_view_full_phone_and_point_backfill")
    _run("jobs", "0007_post_service_point_backfill")
    _run("disputes", "0002_case_service_point_backfill")

    assert User.objects.get(pk=online.pk).service_point == district
    assert User.objects.get(pk=lost_staff.pk).service_point is None  # staff are placed by a superuser
    assert Employer.objects.get(pk=by_villager.pk).service_point == station
    assert Employer.objects.get(pk=by_online.pk).service_point == district
    assert Post.objects.get(pk=on_behalf.pk).service_point == station  # the posting clerk's
    assert Post.objects.get(pk=own.pk).service_point == station  # the employer's
    assert Case.objects.get(pk=case.pk).service_point == station  # the post's
    assert Case.objects.get(pk=orphan.pk).service_point == district
