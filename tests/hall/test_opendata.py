"""Open-data export: bearer tokens with scopes (hash only, shown once, expiry, revocation), the posts/deals/
figures datasets without personal data beyond masked IDs, CSV, and the pull log."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from hall import services
from hall.models import ExportPull, ExportToken
from jobs.services import claim_create
from tests.factories import EmployerFactory, PostFactory, UserFactory, verified_seeker

pytestmark = pytest.mark.django_db


def api(name):
    return reverse("api:open-data", args=[name])


@pytest.fixture
def admin_user(db):
    return UserFactory(phone="13900000001", name="管理员", role="staff", is_staff=True, is_superuser=True)


def make_token(admin_user, scopes, days=30):
    return services.export_token_create(
        name="省大数据中心",
        scopes=scopes,
        expires_at=timezone.now() + dt.timedelta(days=days),
        actor=admin_user,
    )


def get(client, name, token=None, **params):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return client.get(api(name), params, headers=headers, REMOTE_ADDR="10.1.2.3")


@pytest.fixture
def deal(employer, mason, east):
    post = PostFactory(employer=employer, trade=mason, area=east, district=east.parent, title="外墙砌筑")
    worker = verified_seeker(phone="13600000001", name="赵洪亮")
    claim = claim_create(post=post, worker=worker)
    return claim.order


def test_token_is_stored_as_a_hash_only(admin_user):
    record, token = make_token(admin_user, ["posts"])
    assert token.startswith("gmx_") and len(token) > 40
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ExportToken.objects.values().get())
    assert record.prefix == token[:10]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["phones"]}, "scopes"),
        ({"name": " "}, "name"),
        ({"expires_at": timezone.now() - dt.timedelta(minutes=1)}, "expires_at"),
    ],
)
def test_token_create_validates(admin_user, kwargs, field):
    data = {"name": "x", "scopes": ["posts"], "expires_at": timezone.now() + dt.timedelta(days=1), **kwargs}
    with pytest.raises(DomainError) as exc:
        services.export_token_create(actor=admin_user, **data)
    assert exc.value.field == field
    assert not ExportToken.objects.exists()


def test_posts_need_a_live_token_with_the_posts_scope(client, admin_user, deal):
    assert get(client, "posts").status_code == 401
    assert get(client, "posts", token="gmx_nonsense").status_code == 401
    _, deals_only = make_token(admin_user, ["deals"])
    response = get(client, "posts", token=deals_only)
    assert response.status_code == 403 and response.json()["code"] == "scope"
    assert get(client, "deals", token=deals_only).status_code == 200

    record, token = make_token(admin_user, ["posts"])
    assert get(client, "posts", token=token).status_code == 200
    services.export_token_revoke(token=record, actor=admin_user)
    assert get(client, "posts", token=token).status_code == 401
    old, old_token = make_token(admin_user, ["posts"])
    ExportToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert get(client, "posts", token=old_token).status_code == 401


def test_posts_carry_no_phones_or_contacts(client, admin_user, deal):
    household = EmployerFactory(kind="household", name="王秀英", created_by=UserFactory(role="employer"))
    PostFactory(employer=household, trade=deal.post.trade, area=deal.post.area, district=deal.post.district)
    _, token = make_token(admin_user, ["posts"])
    response = get(client, "posts", token=token)
    body = response.json()
    text = response.content.decode()
    assert body["count"] == 2 and body["next_after"] is None
    assert "13700001111" not in text and "陈老板" not in text and "contact" not in text
    employers = {row["employer"] for row in body["results"]}
    assert employers == {deal.employer.name, "王**"}
    first = body["results"][0]
    assert first["trade"] == "瓦工" and first["district_code"] == "350186000000"


def test_deals_show_workers_only_by_masked_id(client, admin_user, deal):
    _, token = make_token(admin_user, ["deals"])
    response = get(client, "deals", token=token)
    row = response.json()["results"][0]
    assert row["id"] == deal.pk and row["worker_id_masked"].count("*") == 16
    text = response.content.decode()
    assert "13600000001" not in text and "赵洪亮" not in text
    assert deal.worker.realname.id_number not in text


def test_paging_with_after_and_limit(client, admin_user, employer, mason, east):
    posts = [PostFactory(employer=employer, trade=mason, area=east, district=east.parent) for _ in range(3)]
    _, token = make_token(admin_user, ["posts"])
    first = get(client, "posts", token=token, limit=2).json()
    assert [r["id"] for r in first["results"]] == [p.pk for p in posts[:2]]
    assert first["next_after"] == posts[1].pk
    second = get(client, "posts", token=token, limit=2, after=first["next_after"]).json()
    assert [r["id"] for r in second["results"]] == [posts[2].pk] and second["next_after"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({"since": "2026-11-10", "until": "2026-11-01"}, "until"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"after": "-1"}, "after"),
    ],
)
def test_bad_parameters_are_structured_400s(client, admin_user, params, field):
    _, token = make_token(admin_user, ["posts"])
    response = get(client, "posts", token=token, **params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_csv_and_figures(client, admin_user, deal):
    _, token = make_token(admin_user, ["posts", "figures"])
    response = get(client, "posts", token=token, format="csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("id,title,trade,pay_fen") and "外墙砌筑" in lines[1]
    figures = get(client, "figures", token=token).json()["results"]
    mason = [r for r in figures if r["trade"] == "瓦工"]
    assert sum(r["openings"] for r in mason) == 4  # 5 slots, one taken
    assert get(client, "figures", token=token, day="2026-02-30").status_code == 400


def test_every_pull_is_logged(client, admin_user, deal):
    record, token = make_token(admin_user, ["posts"])
    get(client, "posts", token=token, since="2020-01-01", until="2020-12-31")
    get(client, "posts", token=token)
    get(client, "deals", token=token)
    get(client, "posts")
    get(client, "nothing", token=token)
    pulls = list(
        ExportPull.objects.order_by("pk").values_list("token_id", "endpoint", "status_code", "row_count")
    )
    assert pulls == [
        (record.pk, "posts", 200, 0),
        (record.pk, "posts", 200, 1),
        (record.pk, "deals", 403, 0),
        (None, "posts", 401, 0),
        (None, "nothing", 404, 0),
    ]
    first = ExportPull.objects.order_by("pk").first()
    assert first.client_address == "10.1.2.3" and first.params == {
        "since": "2020-01-01",
        "until": "2020-12-31",
    }
    assert ExportToken.objects.get(pk=record.pk).last_used_at is not None


# ------------------------------------------------------------------------------------------- admin


def test_admin_shows_the_token_once_and_revokes(client, admin_user):
    client.force_login(admin_user)
    expires = (timezone.localtime() + dt.timedelta(days=90)).strftime("%Y-%m-%d")
    response = client.post(
        reverse("admin:hall_exporttoken_add"),
        {
            "name": "省大数据中心",
            "scopes": ["posts", "figures"],
            "expires_at_0": expires,
            "expires_at_1": "00:00:00",
        },
        follow=True,
    )
    html = response.content.decode()
    record = ExportToken.objects.get()
    assert "只显示这一次" in html
    shown = html.split("请立即复制并安全交给对方；平台只保存其摘要）：")[1].split("<")[0].strip()
    assert hashlib.sha256(shown.encode()).hexdigest() == record.token_hash
    assert record.scopes == ["figures", "posts"] and record.created_by == admin_user
    detail = client.get(reverse("admin:hall_exporttoken_change", args=[record.pk])).content.decode()
    assert shown not in detail  # never again
    client.post(
        reverse("admin:hall_exporttoken_changelist"), {"action": "revoke", "_selected_action": [record.pk]}
    )
    assert ExportToken.objects.get().revoked_at is not None


def test_admin_refuses_a_past_expiry(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:hall_exporttoken_add"),
        {"name": "x", "scopes": ["posts"], "expires_at_0": "2020-01-01", "expires_at_1": "00:00:00"},
    )
    assert "有效期必须晚于现在" in response.content.decode() and not ExportToken.objects.exists()


def test_staff_without_permission_cannot_manage_tokens(client, east_point):
    clerk = UserFactory(phone="13900000077", role="staff", is_staff=True, service_point=east_point)
    clerk.user_permissions.set(Permission.objects.filter(codename="view_exportpull"))
    client.force_login(clerk)
    assert client.get(reverse("admin:hall_exporttoken_add")).status_code == 403
    assert client.get(reverse("admin:hall_exportpull_changelist")).status_code == 200


def test_figures_for_a_past_day_come_from_the_snapshot(client, admin_user, deal):
    import time_machine

    yesterday = timezone.now() - dt.timedelta(days=1)
    with time_machine.travel(yesterday, tick=False):
        services.snapshot_take()
    PostFactory(
        employer=deal.employer, trade=deal.post.trade, area=deal.post.area, district=deal.post.district
    )
    _, token = make_token(admin_user, ["figures"])
    past = get(client, "figures", token=token, day=timezone.localdate(yesterday).isoformat()).json()[
        "results"
    ]
    today = get(client, "figures", token=token).json()["results"]
    assert sum(r["openings"] for r in past) == 4 and sum(r["openings"] for r in today) == 9
    assert all(r["district_code"] == "350186000000" for r in past)
