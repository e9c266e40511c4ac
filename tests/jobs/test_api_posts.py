"""Employers' posts over the API: create (draft or published), edit drafts, publish, close, cancel, the
applicants list, and staff posting for a walk-in employer. Bad input is a structured 400 with nothing
written; another employer's posts are 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import EmployerMember
from jobs import services
from jobs.models import Order, Post, WorkerStats
from tests.factories import EmployerFactory, PostFactory, verified_seeker

pytestmark = pytest.mark.django_db

MY_POSTS = reverse("api:my-post-list")


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def url(name: str, obj) -> str:
    return reverse(f"api:{name}", args=[obj.pk])


@pytest.fixture
def payload(trade, street):
    start = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    return {
        "trade": trade.pk,
        "title": "工地招小工2名",
        "description": "搬砖、清理建筑垃圾",
        "pay_fen": 25000,
        "pay_unit": "day",
        "slots": 2,
        "area": street.pk,
        "address": "工业区8号",
        "lat": 28.90,
        "lng": 120.03,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=9)).isoformat(),
        "mode": "grab",
    }


@pytest.fixture
def alices(alice):
    """Alice's employer; charlie belongs to none of hers."""
    return EmployerFactory(created_by=alice, name="爱丽家政")


# ------------------------------------------------------------------------------------------ create


def test_create_a_draft_with_the_poster_as_contact(boss, employer, payload, street):
    response = api_as(boss).post(MY_POSTS, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["employer"]["id"] == employer.pk
    assert body["contact_name"] == boss.name and body["contact_phone"] == boss.phone
    assert body["on_behalf"] is False
    assert body["pay_fen"] == 25000 and body["quantity"] == "1.00"
    post = Post.objects.get(pk=body["id"])
    assert post.created_by == boss and post.slots_left == 2 and post.district == street.parent
    assert APIClient().get(reverse("api:post-list")).json()["results"] == []  # drafts are not on the board


def test_create_and_publish_at_once_puts_it_on_the_board(boss, employer, payload):
    response = api_as(boss).post(MY_POSTS, {**payload, "publish": True, "mode": "apply"}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "open" and response.json()["published_at"]
    board = APIClient().get(reverse("api:post-list")).json()["results"]
    assert [row["id"] for row in board] == [response.json()["id"]]
    assert board[0]["mode"] == "apply"


def test_an_unapproved_employer_cannot_publish_and_nothing_is_left(alice, payload):
    EmployerFactory(created_by=alice, status="pending")

    response = api_as(alice).post(MY_POSTS, {**payload, "publish": True}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "employer_not_approved"
    assert not Post.objects.exists()


def test_posting_for_someone_elses_employer_is_forbidden(charlie, employer, payload):
    response = api_as(charlie).post(MY_POSTS, {**payload, "employer": employer.pk}, format="json")

    assert response.status_code == 403
    assert not Post.objects.exists()


def test_the_employer_must_be_named_when_there_is_not_exactly_one(boss, employer, payload, charlie):
    EmployerFactory(created_by=boss, name="陈老板第二家公司")

    response = api_as(boss).post(MY_POSTS, payload, format="json")
    assert response.status_code == 400
    assert "employer" in response.json()["fields"]

    response = api_as(charlie).post(MY_POSTS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["employer"] == ["请先登记用工主体"]

    response = api_as(boss).post(MY_POSTS, {**payload, "employer": employer.pk}, format="json")
    assert response.status_code == 201
    assert not Post.objects.exclude(employer=employer).exists()


def _past() -> str:
    return (timezone.now() - dt.timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pay_fen": "两百"}, "pay_fen"),
        ({"pay_fen": -100}, "pay_fen"),
        ({"pay_fen": 0}, "pay_fen"),
        ({"pay_fen": 12.5}, "pay_fen"),
        ({"pay_fen": 10**10}, "pay_fen"),
        ({"pay_fen": None}, "pay_fen"),
        ({"pay_unit": "week"}, "pay_unit"),
        ({"slots": 0}, "slots"),
        ({"slots": 501}, "slots"),
        ({"slots": "many"}, "slots"),
        ({"quantity": "1.234"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"starts_at": "明天早上"}, "starts_at"),
        ({"starts_at": _past()}, "starts_at"),
        ({"ends_at": "2020-01-01T08:00:00+08:00"}, "ends_at"),
        ({"lat": 200, "lng": 120}, "lat"),
        ({"lat": 40.7, "lng": -74.0}, "lat"),
        ({"lat": None}, "lat"),
        ({"lat": "NaN"}, "lat"),
        ({"trade": 999999}, "trade"),
        ({"area": 999999}, "area"),
        ({"title": "工"}, "title"),
        ({"title": "工" * 61}, "title"),
        ({"address": ""}, "address"),
        ({"mode": "auction"}, "mode"),
        ({"contact_phone": "12345"}, "contact_phone"),
    ],
)
def test_bad_fields_are_a_structured_400_and_nothing_is_written(boss, employer, payload, changes, field):
    response = api_as(boss).post(MY_POSTS, {**payload, **changes}, format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"], body
    assert not Post.objects.exists()


def test_missing_fields_are_listed(boss, employer):
    response = api_as(boss).post(MY_POSTS, {}, format="json")

    assert response.status_code == 400
    assert {"trade", "title", "pay_fen", "pay_unit", "slots", "area", "address", "starts_at"} <= set(
        response.json()["fields"]
    )


def test_a_seeker_without_login_cannot_post(payload):
    assert APIClient().post(MY_POSTS, payload, format="json").status_code == 401


# ------------------------------------------------------------------------------------ list, detail


def test_my_posts_lists_only_my_employers_posts(boss, employer, alice, alices):
    mine = PostFactory(employer=employer)
    PostFactory(employer=alices)

    body = api_as(boss).get(MY_POSTS).json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["contact_phone"] == "13700001111"
    assert api_as(boss).get(MY_POSTS, {"status": "draft"}).json()["results"] == []
    assert api_as(boss).get(MY_POSTS, {"status": "bogus"}).status_code == 400


def test_a_colleague_sees_the_post_too(employer, bob):
    EmployerMember.objects.create(employer=employer, user=bob)
    post = PostFactory(employer=employer)

    assert api_as(bob).get(url("my-post-detail", post)).status_code == 200


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "my-post-detail", None),
        ("patch", "my-post-detail", {"title": "查理改的标题"}),
        ("post", "my-post-publish", None),
        ("post", "my-post-close", None),
        ("post", "my-post-cancel", {"reason": "不招了"}),
        ("get", "my-post-claims", None),
    ],
)
@pytest.mark.parametrize("status", ["draft", "open"])
def test_charlie_gets_404_on_alices_posts(alices, charlie, method, name, data, status):
    post = PostFactory(employer=alices, status=status, title="爱丽的岗位")

    response = getattr(api_as(charlie), method)(url(name, post), data, format="json")

    assert response.status_code == 404
    post.refresh_from_db()
    assert post.status == status and post.title == "爱丽的岗位"


# ---------------------------------------------------------------------------------- edit, lifecycle


def test_edit_a_draft_then_publish_close(boss, employer, payload):
    client = api_as(boss)
    post_id = client.post(MY_POSTS, payload, format="json").json()["id"]
    post = Post.objects.get(pk=post_id)

    response = client.patch(url("my-post-detail", post), {"slots": 3, "pay_fen": 30000}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["slots"] == 3 and response.json()["slots_left"] == 3
    assert response.json()["pay_fen"] == 30000

    bad = client.patch(url("my-post-detail", post), {"slots": 0}, format="json")
    assert bad.status_code == 400 and "slots" in bad.json()["fields"]
    post.refresh_from_db()
    assert post.slots == 3

    published = client.post(url("my-post-publish", post))
    assert published.status_code == 200 and published.json()["status"] == "open"

    again = client.post(url("my-post-publish", post))
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    locked = client.patch(url("my-post-detail", post), {"title": "改一下标题"}, format="json")
    assert locked.status_code == 409
    post.refresh_from_db()
    assert post.title == payload["title"]

    closed = client.post(url("my-post-close", post))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_cancel_needs_a_reason_and_cancels_the_orders(boss, post, worker):
    claim = services.claim_create(post=post, worker=worker)
    client = api_as(boss)

    response = client.post(url("my-post-cancel", post), {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    post.refresh_from_db()
    assert post.status == "open"

    response = client.post(url("my-post-cancel", post), {"reason": "甲方项目推迟"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    order = Order.objects.get(claim=claim)
    assert order.status == "cancelled" and order.cancelled_by == "employer"


# ------------------------------------------------------------------------------------------ applicants


def test_applicants_show_masked_identity_and_track_record(boss, employer, trade, street):
    post = PostFactory(employer=employer, trade=trade, area=street, mode="apply")
    applicant = verified_seeker(phone="13600000011", name="孙小美")
    WorkerStats.objects.create(user=applicant, completed=4, rating_sum=18, rating_count=4, reliability=83)
    claim = services.claim_create(post=post, worker=applicant, note="做过三年保洁")

    response = api_as(boss).get(url("my-post-claims", post))

    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == claim.pk and row["status"] == "pending" and row["note"] == "做过三年保洁"
    worker = row["worker"]
    assert worker["id"] == applicant.pk
    assert worker["name"] == "孙**"
    assert worker["id_masked"] == applicant.realname.id_masked and "*" in worker["id_masked"]
    assert worker["phone"] == "136****0011"
    assert worker["verified"] is True
    assert worker["reliability"] == 83 and worker["stars"] == 4.5 and worker["completed"] == 4
    assert row["order_id"] is None
    assert applicant.realname.id_number not in response.content.decode()


def test_applicants_list_is_a_fixed_number_of_queries(
    boss, employer, trade, street, django_assert_max_num_queries
):
    post = PostFactory(employer=employer, trade=trade, area=street, mode="apply", slots=30)
    for i in range(12):
        services.claim_create(post=post, worker=verified_seeker(phone=f"1360000{i:04d}"))
    client = api_as(boss)

    with django_assert_max_num_queries(8):
        response = client.get(url("my-post-claims", post))
    assert len(response.json()) == 12


# -------------------------------------------------------------------------------------------- staff


def test_hall_staff_post_for_a_walk_in_employer(hall_staff, employer, payload):
    response = api_as(hall_staff).post(
        reverse("api:staff-posts"),
        {
            **payload,
            "employer": employer.pk,
            "publish": True,
            "contact_name": "陈老板",
            "contact_phone": "13700001111",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "open" and response.json()["on_behalf"] is True
    post = Post.objects.get(pk=response.json()["id"])
    assert post.on_behalf_by == hall_staff and post.employer == employer
    assert post.service_point == hall_staff.service_point


def test_staff_post_needs_contact_and_employer(hall_staff, payload):
    response = api_as(hall_staff).post(reverse("api:staff-posts"), payload, format="json")

    assert response.status_code == 400
    assert {"employer", "contact_name", "contact_phone"} <= set(response.json()["fields"])


def test_staff_without_the_permission_and_employers_cannot_post_on_behalf(staff, boss, employer, payload):
    data = {**payload, "employer": employer.pk, "contact_name": "陈老板", "contact_phone": "13700001111"}

    assert api_as(staff).post(reverse("api:staff-posts"), data, format="json").status_code == 403
    assert api_as(boss).post(reverse("api:staff-posts"), data, format="json").status_code == 403
    assert not Post.objects.exists()
