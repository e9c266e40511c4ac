"""Trainings: sign-up and cancel (services, pages, API), attendance and certificates by the course's staff
only, the certificate PDF (Chinese text extracts back) and its public verification, training needs, and
the dashboard figures."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from notifications.models import Message
from outreach import selectors, services
from outreach.models import Course, Enrollment, EnrollmentEvent, TrainingNeed
from tests.factories import TradeFactory, UserFactory

from .conftest import make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(points, trade, staff_a):
    return make_course(points["a"], trade=trade, seats=2, creator=staff_a)


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


# ---------------------------------------------------------------------------------------- sign-up


def test_signup_takes_a_seat_and_sends_an_sms(course, alice):
    enrollment = services.training_signup(course=course, worker=alice)
    course.refresh_from_db()
    assert course.seats_left == 1
    assert enrollment.status == Enrollment.Status.SIGNED_UP
    assert EnrollmentEvent.objects.filter(enrollment=enrollment, to_status="signed_up").exists()
    message = Message.objects.get(phone=alice.phone, template="outreach_training_signup")
    assert course.title in message.body


def test_signup_refusals_leave_nothing_behind(course, alice, bob, charlie, staff_a):
    services.training_signup(course=course, worker=alice)
    with pytest.raises(Conflict) as exc:
        services.training_signup(course=course, worker=alice)
    assert exc.value.code == "duplicate"
    services.training_signup(course=course, worker=bob)
    with pytest.raises(Conflict) as exc:
        services.training_signup(course=course, worker=charlie)
    assert exc.value.code == "full"
    assert not Enrollment.objects.filter(worker=charlie).exists()
    with pytest.raises(NotAllowed):
        services.training_signup(course=course, worker=staff_a)
    course.refresh_from_db()
    assert course.seats_left == 0 and course.enrollments.count() == 2


def test_closed_started_and_unpublished_courses_refuse_signup(points, trade, alice):
    cancelled = make_course(points["a"], trade=trade, status=Course.Status.CANCELLED)
    started = make_course(points["a"], trade=trade, starts_in=-1)
    with pytest.raises(InvalidTransition):
        services.training_signup(course=cancelled, worker=alice)
    with pytest.raises(InvalidTransition):
        services.training_signup(course=started, worker=alice)


def test_cancel_returns_the_seat_and_allows_signing_up_again(course, alice, bob):
    enrollment = services.training_signup(course=course, worker=alice)
    with pytest.raises(NotAllowed):
        services.training_cancel(enrollment=enrollment, actor=bob)
    services.training_cancel(enrollment=enrollment, actor=alice)
    course.refresh_from_db()
    assert course.seats_left == 2
    with pytest.raises(InvalidTransition):
        services.training_cancel(enrollment=enrollment, actor=alice)
    again = services.training_signup(course=course, worker=alice)
    assert again.pk != enrollment.pk
    course.refresh_from_db()
    assert course.seats_left == 1


def test_cancel_is_refused_once_the_course_started(course, alice):
    enrollment = services.training_signup(course=course, worker=alice)
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)), pytest.raises(InvalidTransition):
        services.training_cancel(enrollment=enrollment, actor=alice)


# ------------------------------------------------------------------------------- attendance, certificate


def test_attendance_and_certificate_by_the_courses_staff_only(
    course, alice, bob, staff_a, staff_b, street_staff
):
    e1 = services.training_signup(course=course, worker=alice)
    e2 = services.training_signup(course=course, worker=bob)
    with pytest.raises(InvalidTransition):  # not started yet
        services.attendance_record(enrollment=e1, actor=staff_a, attended=True)
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, hours=1)):
        with pytest.raises(NotAllowed):
            services.attendance_record(enrollment=e1, actor=staff_b, attended=True)
        services.attendance_record(enrollment=e1, actor=staff_a, attended=True)
        services.attendance_record(enrollment=e2, actor=street_staff, attended=False)
        with pytest.raises(InvalidTransition):  # the course has not ended
            services.certificate_issue(enrollment=e1, actor=staff_a)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        with pytest.raises(InvalidTransition):
            services.certificate_issue(enrollment=e2, actor=staff_a)  # absent: no certificate
        with pytest.raises(NotAllowed):
            services.certificate_issue(enrollment=e1, actor=staff_b)
        e1 = services.certificate_issue(enrollment=e1, actor=staff_a)
    assert e1.status == Enrollment.Status.COMPLETED
    assert re.fullmatch(r"PX[A-Z2-9]{10}", e1.certificate_code)
    assert Message.objects.filter(phone=alice.phone, template="outreach_training_certificate").exists()
    assert Enrollment.objects.get(pk=e2.pk).status == Enrollment.Status.ABSENT


@pytest.fixture
def certified(course, alice, staff_a):
    enrollment = services.training_signup(course=course, worker=alice)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        services.attendance_record(enrollment=enrollment, actor=staff_a, attended=True)
        return services.certificate_issue(enrollment=enrollment, actor=staff_a)


def test_certificate_pdf_is_the_workers_only_and_shows_chinese(client, certified, alice, bob):
    url = reverse("outreach:certificate_pdf", args=[certified.pk])
    client.force_login(bob)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    for expected in ("结业证书", "李爱丽", "保洁培训班", "东岭村零工驿站", certified.certificate_code):
        assert expected in text, expected


def test_certificate_verification_is_public_and_masks_the_name(client, certified):
    page = client.get(reverse("outreach:certificate_verify"), {"code": certified.certificate_code.lower()})
    body = page.content.decode()
    assert "证书有效" in body and "李**" in body and "李爱丽" not in body
    page = client.get(reverse("outreach:certificate_verify"), {"code": "PXNOTACODE00"})
    assert "查无此证书" in page.content.decode()


def test_staff_roster_page_is_scoped(client, course, alice, staff_a, staff_b):
    enrollment = services.training_signup(course=course, worker=alice)
    client.force_login(staff_b)
    assert client.get(reverse("outreach:staff_course_detail", args=[course.pk])).status_code == 404
    response = client.post(reverse("outreach:staff_attendance", args=[enrollment.pk]), {"attended": "yes"})
    assert response.status_code == 404
    client.force_login(staff_a)
    page = client.get(reverse("outreach:staff_course_detail", args=[course.pk])).content.decode()
    assert "李爱丽" in page and "138****0001" in page


# ------------------------------------------------------------------------------------------- pages


def test_pages_list_sign_up_and_cancel(client, course, alice):
    page = client.get(reverse("outreach:course_list")).content.decode()
    assert course.title in page and "免费" in page
    client.force_login(alice)
    response = client.post(reverse("outreach:course_signup", args=[course.pk]))
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(worker=alice)
    page = client.get(reverse("outreach:my_trainings")).content.decode()
    assert course.title in page and "取消报名" in page
    client.post(reverse("outreach:enrollment_cancel", args=[enrollment.pk]))
    assert Enrollment.objects.get(pk=enrollment.pk).status == Enrollment.Status.CANCELLED


def test_a_full_course_says_so(client, course, alice, bob, charlie):
    services.training_signup(course=course, worker=alice)
    services.training_signup(course=course, worker=bob)
    client.force_login(charlie)
    response = client.post(reverse("outreach:course_signup", args=[course.pk]), follow=True)
    assert "名额已满" in response.content.decode()


def test_nobody_cancels_someone_elses_signup(client, course, alice, bob):
    enrollment = services.training_signup(course=course, worker=alice)
    client.force_login(bob)
    assert client.post(reverse("outreach:enrollment_cancel", args=[enrollment.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(bob)
    assert api.post(f"/api/v1/enrollments/{enrollment.pk}/cancel/").status_code == 404
    assert Enrollment.objects.get(pk=enrollment.pk).status == Enrollment.Status.SIGNED_UP


# --------------------------------------------------------------------------------------------- API


def test_api_courses_signup_my_trainings_cancel(course, alice, bob):
    api = APIClient()
    listed = api.get("/api/v1/courses/").json()["results"]
    assert [c["id"] for c in listed] == [course.pk] and listed[0]["seats_left"] == 2
    assert api.post(f"/api/v1/courses/{course.pk}/enrollments/").status_code in (401, 403)
    api.force_authenticate(alice)
    created = api.post(f"/api/v1/courses/{course.pk}/enrollments/")
    assert created.status_code == 201
    again = api.post(f"/api/v1/courses/{course.pk}/enrollments/")
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    mine = api.get("/api/v1/me/trainings/").json()["results"]
    assert [e["id"] for e in mine] == [created.json()["id"]]
    api.force_authenticate(bob)
    assert api.get("/api/v1/me/trainings/").json()["results"] == []
    api.force_authenticate(alice)
    cancelled = api.post(f"/api/v1/enrollments/{created.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.get("/api/v1/courses/999999/").status_code == 404


def test_api_training_needs(alice):
    welding, cooking = TradeFactory(name="电焊"), TradeFactory(name="中式烹调")
    api = APIClient()
    api.force_authenticate(alice)
    response = api.put("/api/v1/me/training-needs/", {"trades": [welding.pk, cooking.pk]}, format="json")
    assert response.status_code == 200
    assert {n["trade"] for n in response.json()} == {"电焊", "中式烹调"}
    response = api.put("/api/v1/me/training-needs/", {"trades": [cooking.pk]}, format="json")
    assert [n["trade"] for n in response.json()] == ["中式烹调"]
    bad = api.put("/api/v1/me/training-needs/", {"trades": [999999]}, format="json")
    assert bad.status_code == 400 and "trades" in bad.json()["fields"]


def test_training_needs_page_limits_to_five(client, alice):
    trades = [TradeFactory(name=f"技能{i}") for i in range(6)]
    client.force_login(alice)
    response = client.post(reverse("outreach:training_needs"), {"trades": [t.pk for t in trades]})
    assert response.status_code == 200 and "最多选5项" in response.content.decode()
    assert not TrainingNeed.objects.exists()
    response = client.post(reverse("outreach:training_needs"), {"trades": [trades[0].pk]})
    assert response.status_code == 302
    assert TrainingNeed.objects.get(worker=alice).source == "survey"


# ------------------------------------------------------------------------------------ course seats


def test_course_save_moves_seats_left_and_refuses_less_than_taken(course, alice, bob, staff_a):
    services.training_signup(course=course, worker=alice)
    course.refresh_from_db()
    course.seats = 5
    course = services.course_save(course=course, actor=staff_a)
    assert (course.seats, course.seats_left) == (5, 4)
    services.training_signup(course=course, worker=bob)
    course.seats = 1
    with pytest.raises(Conflict):
        services.course_save(course=course, actor=staff_a)
    course.refresh_from_db()
    assert (course.seats, course.seats_left) == (5, 3)
    new = Course(
        title="电工上岗培训", trade=course.trade, starts_on=course.starts_on, ends_on=course.starts_on - dt.timedelta(days=1),
        place="大厅", service_point=course.service_point, seats=3,
    )  # fmt: skip
    with pytest.raises(DomainError):
        services.course_save(course=new, actor=staff_a)
    new.ends_on = new.starts_on
    assert services.course_save(course=new, actor=staff_a).seats_left == 3
    with pytest.raises(NotAllowed):
        services.course_save(course=new, actor=UserFactory(role="seeker"))


# ------------------------------------------------------------------------------------------- figures


def test_training_needs_figures(course, points, trade, alice, bob, charlie, staff_a):
    welding = TradeFactory(name="电焊")
    alice.service_point = points["a"]
    alice.save(update_fields=["service_point"])
    services.training_needs_set(worker=alice, trades=[welding, trade])
    services.training_needs_set(worker=bob, trades=[welding])
    e1 = services.training_signup(course=course, worker=alice)
    e2 = services.training_signup(course=course, worker=bob)
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, hours=1)):
        services.attendance_record(enrollment=e1, actor=staff_a, attended=True)
        services.attendance_record(enrollment=e2, actor=staff_a, attended=False)
    today = timezone.localdate()
    figures = selectors.training_needs_figures(start=today, end=today + dt.timedelta(days=30))
    assert figures["skills_wanted"] == [{"trade": "电焊", "count": 2}, {"trade": "保洁", "count": 1}]
    assert (figures["courses"], figures["seats"], figures["signups"]) == (1, 2, 2)
    assert (figures["attended"], figures["absent"], figures["attendance_rate"]) == (1, 1, 0.5)
    only_a = selectors.training_needs_figures(
        start=today, end=today + dt.timedelta(days=30), service_point=points["a"]
    )
    assert only_a["needs"] == 2  # bob registered at no point
    assert only_a["courses"] == 1
    none = selectors.training_needs_figures(start=today, end=today, service_point=points["b"])
    assert none["courses"] == 0 and none["attendance_rate"] is None


def test_courses_open_for_signup_puts_wanted_trades_first_and_skips_mine(points, trade, alice, bob):
    welding = TradeFactory(name="电焊")
    soon = make_course(points["a"], trade=trade, starts_in=3)
    later = make_course(points["a"], trade=welding, starts_in=9)
    full = make_course(points["a"], trade=welding, starts_in=4, seats=1)
    services.training_signup(course=full, worker=bob)
    alice.worker_profile.wanted_trades.set([welding])
    assert list(selectors.courses_open_for_signup(worker=alice)) == [later, soon]
    services.training_signup(course=later, worker=alice)
    assert list(selectors.courses_open_for_signup(worker=alice)) == [soon]


def test_a_long_course_title_wraps_inside_the_page(points, trade, alice, staff_a):
    from outreach.pdf import render_certificate_pdf

    title = (
        "农村转移劳动力家政服务与养老护理技能提升及职业素养综合培训班（第三期）暨育婴员中级技能与母婴护理培训"
    )
    assert len(title) >= 50
    course = make_course(points["a"], trade=trade, title=title[:60])
    enrollment = services.training_signup(course=course, worker=alice)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        services.attendance_record(enrollment=enrollment, actor=staff_a, attended=True)
        enrollment = services.certificate_issue(enrollment=enrollment, actor=staff_a)
    data = render_certificate_pdf(enrollment, verify_url="https://example.org/outreach/certificates/verify/")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    assert title[:60] in _text(data)
    lines = reader.pages[0].extract_text().splitlines()
    assert not any(title[:60] in line for line in lines), "the title should wrap onto a second line"


def test_staff_pages_mark_attendance_and_issue_the_certificate(client, course, alice, staff_a):
    enrollment = services.training_signup(course=course, worker=alice)
    client.force_login(staff_a)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        client.post(reverse("outreach:staff_attendance", args=[enrollment.pk]), {"attended": "yes"})
        response = client.post(reverse("outreach:staff_certificate", args=[enrollment.pk]), follow=True)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert f"核验码 {enrollment.certificate_code}" in response.content.decode()
