"""The human-facing jobs pages: every page renders, the employer's and the worker's whole walks go through
the pages, every refusal is shown in plain Chinese, bad input never saves anything, and nobody opens
another person's post, order or contract."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employer
from core.masking import mask_phone
from jobs import services
from jobs.forms import yuan_to_fen
from jobs.models import Block, Claim, Contract, Order, Post, Rating, WorkerStats
from jobs.rules import rules
from tests.factories import (
    AreaFactory,
    CertificateTypeFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
)

pytestmark = pytest.mark.django_db

CONTACT = "13700001111"  # PostFactory's contact phone


def html(response) -> str:
    return response.content.decode()


def local_input(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def form_data(employer, trade, street):
    start = timezone.now() + dt.timedelta(days=2)
    return {
        "employer": employer.pk,
        "trade": trade.pk,
        "title": "工地招小工2名",
        "description": "搬砖、清理建筑垃圾",
        "pay": "250",
        "pay_unit": "day",
        "quantity": "1",
        "slots": "2",
        "area": street.pk,
        "address": "工业区8号",
        "lat": "28.9",
        "lng": "120.03",
        "starts_at": local_input(start),
        "ends_at": local_input(start + dt.timedelta(hours=9)),
        "mode": "grab",
        "contact_name": "陈老板",
        "contact_phone": "137 0000 1111",
        "action": "publish",
    }


def grab(client, worker, post):
    client.force_login(worker)
    return client.post(reverse("jobs:claim", args=[post.pk]))


def order_of(worker, post) -> Order:
    return Order.objects.get(worker=worker, post=post)


def finished_order(post, worker, boss) -> Order:
    """An order taken through the services all the way to completed."""
    claim = services.claim_create(post=post, worker=worker)
    order = claim.order
    with time_machine.travel(post.starts_at + dt.timedelta(minutes=5), tick=False):
        services.order_check_in(order=order, worker=worker)
    with time_machine.travel(post.ends_at, tick=False):
        services.order_check_out(order=order, worker=worker, quantity="1")
        services.order_confirm_completion(order=order, actor=boss)
    return Order.objects.get(pk=order.pk)


# -------------------------------------------------------------------------------------- rendering


def test_board_and_post_render_for_visitors(client, post):
    page = html(client.get(reverse("jobs:board")))
    assert (
        "找活" in page
        and post.title in page
        and "200元/天" in page.replace("<small>", "").replace("</small>", "")
    )
    assert "✓ 已认证" in page
    detail = html(client.get(reverse("jobs:post_detail", args=[post.pk])))
    assert post.title in detail and "登录后抢单" in detail
    assert mask_phone(CONTACT) in detail and CONTACT not in detail
    # the rules as rules().as_text() words them, numbers included
    assert "接单后30分钟内，或离开工还有24小时以上，工人可免费取消" in detail
    assert all(line in detail for line in rules().as_text())


def test_every_member_page_renders(client, boss, employer, post, worker, hall_staff):
    order = services.claim_create(post=post, worker=worker).order
    draft = PostFactory(employer=employer, status="draft", published_at=None)
    client.force_login(worker)
    for url, expected in [
        (reverse("jobs:board"), post.title),
        (reverse("jobs:post_detail", args=[post.pk]), "查看我的订单"),
        (reverse("jobs:my_orders"), post.title),
        (reverse("jobs:order_detail", args=[order.pk]), "签到"),
        (reverse("jobs:contract", args=[order.pk]), "零工服务协议"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in html(response), url
    client.force_login(boss)
    for url, expected in [
        (reverse("jobs:my_posts"), post.title),
        (reverse("jobs:post_create"), "发布招工"),
        (reverse("jobs:post_manage", args=[post.pk]), "赵**"),
        (reverse("jobs:post_edit", args=[draft.pk]), "修改草稿"),
        (reverse("jobs:post_detail", args=[draft.pk]), "管理这个岗位"),
        (reverse("jobs:employer_orders"), post.title),
        (reverse("jobs:order_detail", args=[order.pk]), "赵洪亮"),
        (reverse("jobs:contract", args=[order.pk]), "获取验证码"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in html(response), url
    client.force_login(hall_staff)
    response = client.get(reverse("jobs:post_on_behalf"))
    assert response.status_code == 200 and "代发岗位" in html(response)


def test_navigation_by_role(client, boss, employer, worker):
    assert "找活" in html(client.get("/"))
    client.force_login(worker)
    page = html(client.get("/"))
    assert reverse("jobs:board") in page and reverse("jobs:my_orders") in page
    assert reverse("jobs:post_create") not in page
    client.force_login(boss)
    page = html(client.get("/"))
    assert reverse("jobs:post_create") in page and reverse("jobs:my_posts") in page


@pytest.mark.parametrize(
    "name",
    ["jobs:my_orders", "jobs:my_posts", "jobs:post_create", "jobs:employer_orders", "jobs:post_on_behalf"],
)
def test_member_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_claim_goes_to_login_and_back(client, post):
    response = client.post(reverse("jobs:claim", args=[post.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert f"next=/jobs/{post.pk}/" in response["Location"]
    assert not Claim.objects.exists()


def test_drafts_are_hidden_from_everyone_but_members(client, employer, worker):
    draft = PostFactory(employer=employer, status="draft", published_at=None)
    assert client.get(reverse("jobs:post_detail", args=[draft.pk])).status_code == 404
    client.force_login(worker)
    assert client.get(reverse("jobs:post_detail", args=[draft.pk])).status_code == 404
    assert draft.title not in html(client.get(reverse("jobs:board")))


# -------------------------------------------------------------------------------------- the board


@pytest.fixture
def city(employer, district):
    west = AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)
    east = AreaFactory(name="东城街道", code="350186002000", level="street", parent=district)
    cleaning = TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    welding = TradeFactory(name="电焊工", category="construction", risk_class=5)
    brick = TradeFactory(name="瓦工", category="construction", risk_class=4)
    now = timezone.now()
    return {
        "clean": PostFactory(employer=employer, trade=cleaning, area=west, district=district, title="小区开荒保洁",
                             pay_fen=18000, published_at=now - dt.timedelta(hours=3)),
        "weld": PostFactory(employer=employer, trade=welding, area=east, district=district, title="钢结构电焊",
                            pay_fen=40000, lat=28.95, lng=120.10, published_at=now - dt.timedelta(hours=2)),
        "brick": PostFactory(employer=employer, trade=brick, area=east, district=district, title="砌墙瓦工",
                             pay_fen=35000, lat=28.80, lng=119.90, published_at=now - dt.timedelta(hours=1)),
        "hourly": PostFactory(employer=employer, trade=cleaning, area=west, district=district,
                              title="家庭保洁钟点工", pay_fen=3500, pay_unit="hour", lat=None, lng=None,
                              published_at=now),
        "east": east,
        "welding": welding,
    }  # fmt: skip


def board_titles(client, **params) -> set[str]:
    response = client.get(reverse("jobs:board"), params)
    assert response.status_code == 200
    return {post.title for post in response.context["posts"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("焊", {"钢结构电焊"}),
        ("保洁", {"小区开荒保洁", "家庭保洁钟点工"}),
        ("瓦工", {"砌墙瓦工"}),
        ("开荒保洁", {"小区开荒保洁"}),
        ("木工", set()),
    ],
)
def test_keyword_search_for_one_and_two_character_words(client, city, q, expected):
    assert board_titles(client, q=q) == expected


def test_board_filters_and_sorts(client, city):
    assert board_titles(client, area=city["east"].pk) == {"钢结构电焊", "砌墙瓦工"}
    assert board_titles(client, trade=city["welding"].pk) == {"钢结构电焊"}
    assert board_titles(client, pay_unit="hour") == {"家庭保洁钟点工"}
    assert board_titles(client, pay_min="350") == {"钢结构电焊", "砌墙瓦工"}
    response = client.get(reverse("jobs:board"), {"sort": "pay"})
    assert [p.title for p in response.context["posts"]][:2] == ["钢结构电焊", "砌墙瓦工"]
    # Near me: the nearest first, posts without a place left out, a radius cuts the far ones.
    response = client.get(reverse("jobs:board"), {"lat": "28.95", "lng": "120.10"})
    titles = [p.title for p in response.context["posts"]]
    assert titles[0] == "钢结构电焊" and "家庭保洁钟点工" not in titles
    assert "公里" in html(response)
    assert board_titles(client, lat="28.95", lng="120.10", radius="3") == {"钢结构电焊"}


def test_board_next_page_link(client, employer):
    trade = TradeFactory(name="搬运")
    now = timezone.now()
    for n in range(25):
        PostFactory(
            employer=employer,
            trade=trade,
            title=f"搬家小工{n:02d}",
            published_at=now - dt.timedelta(minutes=n),
        )
    first = client.get(reverse("jobs:board"), {"q": "搬家"})
    assert len(first.context["posts"]) == 20
    match = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>下一页', html(first))
    assert match, "a 下一页 link carries the cursor"
    second = client.get(reverse("jobs:board") + match.group(1).replace("&amp;", "&"))
    second_titles = [p.title for p in second.context["posts"]]
    assert len(second_titles) == 5 and "搬家小工24" in second_titles
    assert not set(second_titles) & {p.title for p in first.context["posts"]}
    assert "下一页" not in html(second) and "回到第一页" in html(second)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pay_min": "-5"}, "报酬必须大于0"),
        ({"pay_min": "abc"}, "请填写金额"),
        ({"sort": "cheapest"}, "排序方式不正确"),
        ({"sort": "nearest"}, "按距离排序需要您的位置"),
        ({"cursor": "@@not-a-cursor@@"}, "翻页参数无效"),
        ({"cursor": "WzEsMiwzXQ"}, "翻页参数无效"),
        ({"date": "2026-13-45"}, "日期格式不正确"),
        ({"date": "9999-12-31"}, "请选择一年之内的日期"),
        ({"trade": "999999"}, "没有这个工种"),
        ({"area": "abc"}, "没有这个区域"),
        ({"lat": "28.9"}, "位置信息不完整"),
        ({"lat": "999", "lng": "120"}, "位置信息不正确"),
        ({"radius": "7"}, "距离选项不正确"),
        ({"q": "保" * 40}, "关键词太长"),
    ],
)
def test_bad_filters_get_a_chinese_message_never_a_500(client, city, params, message):
    response = client.get(reverse("jobs:board"), params)
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert 'class="alert alert-error"' in page


def test_a_bad_filter_does_not_hide_the_good_ones(client, city):
    response = client.get(reverse("jobs:board"), {"q": "保洁", "pay_min": "-1"})
    assert {p.title for p in response.context["posts"]} == {"小区开荒保洁", "家庭保洁钟点工"}


# ------------------------------------------------------------------------------- the post form


def test_employer_posts_and_publishes_through_the_form(client, boss, employer, form_data):
    client.force_login(boss)
    response = client.post(reverse("jobs:post_create"), {**form_data, "pay": "12.5", "pay_unit": "hour"})
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:post_manage", args=[post.pk])
    assert post.status == Post.Status.OPEN and post.pay_fen == 1250 and post.pay_unit == "hour"
    assert post.employer == employer and post.created_by == boss and post.on_behalf_by is None
    assert post.contact_phone == CONTACT and post.slots_left == 2 and post.lat == 28.9
    assert timezone.localtime(post.starts_at).strftime("%Y-%m-%dT%H:%M") == form_data["starts_at"]
    page = html(client.get(response["Location"]))
    assert "招工中" in page and "已发布" in page
    assert post.title in html(client.get(reverse("jobs:board")))


def test_draft_edit_publish_close_and_cancel(client, boss, employer, form_data, worker):
    client.force_login(boss)
    client.post(reverse("jobs:post_create"), {**form_data, "action": "draft"})
    post = Post.objects.get()
    assert post.status == Post.Status.DRAFT
    edit_url = reverse("jobs:post_edit", args=[post.pk])
    assert 'value="250"' in html(client.get(edit_url))  # fen shown back as yuan
    data = {k: v for k, v in form_data.items() if k != "employer"}
    response = client.post(edit_url, {**data, "title": "工地招小工3名", "slots": "3", "action": "draft"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.title == "工地招小工3名" and post.slots == 3 and post.status == Post.Status.DRAFT
    client.post(reverse("jobs:post_publish", args=[post.pk]))
    post.refresh_from_db()
    assert post.status == Post.Status.OPEN
    # a published post cannot be edited any more
    response = client.get(edit_url)
    assert response.status_code == 302
    assert "不能修改" in html(client.get(response["Location"]))
    services.claim_create(post=post, worker=worker)
    client.post(reverse("jobs:post_close", args=[post.pk]))
    post.refresh_from_db()
    assert post.status == Post.Status.CLOSED
    # cancelling needs a reason, shown on the field; the compensation rule is on the page
    response = client.post(reverse("jobs:post_cancel", args=[post.pk]), {"reason": ""})
    page = html(response)
    assert response.status_code == 200 and "请填写原因" in page and "补偿工人" in page
    post.refresh_from_db()
    assert post.status == Post.Status.CLOSED
    client.post(reverse("jobs:post_cancel", args=[post.pk]), {"reason": "甲方工期推迟"})
    post.refresh_from_db()
    assert post.status == Post.Status.CANCELLED
    assert Order.objects.get(post=post).status == Order.Status.CANCELLED


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"pay": "-100"}, "pay", "报酬必须大于0"),
        ({"pay": "0"}, "pay", "报酬必须大于0"),
        ({"pay": "12.345"}, "pay", "两位小数"),
        ({"pay": "两百"}, "pay", "请填写金额"),
        ({"pay": "20000"}, "pay", "报酬过高"),
        ({"slots": "0"}, "slots", "招工人数应为1–500人"),
        ({"slots": "501"}, "slots", "招工人数应为1–500人"),
        ({"quantity": "0"}, "quantity", "数量应大于0"),
        ({"contact_phone": "12345"}, "contact_phone", "手机号"),
        ({"title": ""}, "title", "请填写标题"),
        ({"trade": ""}, "trade", "请选择工种"),
        ({"starts_at": "明天早上"}, "starts_at", "时间格式不正确"),
        ({"mode": "auction"}, "mode", "请选择接单方式"),
    ],
)
def test_post_form_bad_input_shows_field_errors_and_saves_nothing(
    client, boss, form_data, change, field, message
):
    client.force_login(boss)
    response = client.post(reverse("jobs:post_create"), {**form_data, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors.get(field, [])), form.errors
    assert message in html(response)
    assert not Post.objects.exists()


def test_post_form_refuses_past_start_and_end_before_start(client, boss, form_data):
    client.force_login(boss)
    past = timezone.now() - dt.timedelta(hours=2)
    response = client.post(
        reverse("jobs:post_create"),
        {**form_data, "starts_at": local_input(past), "ends_at": local_input(past + dt.timedelta(hours=8))},
    )
    assert "开工时间已过" in " ".join(response.context["form"].errors["starts_at"])
    start = timezone.now() + dt.timedelta(days=1)
    response = client.post(
        reverse("jobs:post_create"),
        {**form_data, "starts_at": local_input(start), "ends_at": local_input(start - dt.timedelta(hours=1))},
    )
    assert "收工时间应晚于开工时间" in " ".join(response.context["form"].errors["ends_at"])
    assert not Post.objects.exists()


def test_post_form_only_offers_my_approved_employers(client, boss, employer, form_data):
    pending = EmployerFactory(created_by=boss, status=Employer.Status.PENDING, name="待审核的公司")
    stranger = EmployerFactory(name="别人的公司")
    client.force_login(boss)
    page = html(client.get(reverse("jobs:post_create")))
    assert employer.name in page and pending.name not in page and stranger.name not in page
    for other in (pending, stranger):
        response = client.post(reverse("jobs:post_create"), {**form_data, "employer": other.pk})
        assert "请选择审核通过的用工主体" in " ".join(response.context["form"].errors["employer"])
    assert not Post.objects.exists()


def test_post_form_without_an_approved_employer_explains(client, alice):
    client.force_login(alice)
    page = html(client.get(reverse("jobs:post_create")))
    assert "还没有审核通过的用工主体" in page
    assert "登记用工主体" in html(client.get(reverse("jobs:my_posts")))


def test_publish_refused_when_the_employer_is_suspended_leaves_the_draft(client, boss, employer, form_data):
    client.force_login(boss)
    client.post(reverse("jobs:post_create"), {**form_data, "action": "draft"})
    post = Post.objects.get()
    Employer.objects.filter(pk=employer.pk).update(status=Employer.Status.SUSPENDED)
    response = client.post(reverse("jobs:post_publish", args=[post.pk]), follow=True)
    assert "审核通过后才能发布岗位" in html(response)
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_staff_post_on_behalf_of_a_walk_in_employer(client, hall_staff, staff, employer, form_data):
    client.force_login(hall_staff)
    response = client.post(reverse("jobs:post_on_behalf"), form_data)
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:post_detail", args=[post.pk])
    assert (
        post.on_behalf_by == hall_staff and post.created_by == hall_staff and post.status == Post.Status.OPEN
    )
    assert "已代" in html(client.get(response["Location"]))


def test_post_on_behalf_needs_the_permission(client, staff, alice):
    for user in (staff, alice):
        client.force_login(user)
        assert client.get(reverse("jobs:post_on_behalf")).status_code == 403


# ------------------------------------------------------------------------------ claims: refusals


def test_grab_through_the_page_confirms_and_shows_the_order(client, post, worker):
    response = grab(client, worker, post)
    order = order_of(worker, post)
    assert response["Location"] == reverse("jobs:order_detail", args=[order.pk])
    page = html(client.get(response["Location"]))
    assert "抢单成功" in page and "已确认" in page and "接单成功，订单已确认" in page
    post.refresh_from_db()
    assert post.slots_left == 1


def test_claim_refused_without_realname_links_to_realname(client, post, alice):
    response = grab(client, alice, post)
    page = html(response)
    assert "请先完成实名认证再接单" in page
    assert f'href="{reverse("accounts:realname")}"' in page and "去实名认证" in page
    assert not Claim.objects.exists()


def test_claim_refused_without_certificate_links_to_certificates(client, employer, worker):
    welding = TradeFactory(name="电焊工", certificate_type=CertificateTypeFactory())
    post = PostFactory(employer=employer, trade=welding)
    page = html(grab(client, worker, post))
    assert "限制性工种" in page and "特种作业操作证" in page
    assert f'href="{reverse("accounts:certificates")}"' in page and "上传证书" in page
    assert not Claim.objects.exists()


def test_claim_refused_when_full(client, employer, worker, worker2):
    post = PostFactory(employer=employer, slots=1)
    services.claim_create(post=post, worker=worker2)
    page = html(grab(client, worker, post))
    assert "名额" in page and ("名额已满" in page or "抢完" in page)
    assert not Claim.objects.filter(worker=worker).exists()


def test_claim_refused_twice(client, post, worker):
    grab(client, worker, post)
    response = client.post(reverse("jobs:claim", args=[post.pk]))
    assert "您已经接过/报过这个岗位" in html(response)
    assert Claim.objects.filter(worker=worker).count() == 1


def test_claim_refused_on_overlap(client, employer, post, worker):
    services.claim_create(post=post, worker=worker)
    other = PostFactory(
        employer=employer, title="同一天的另一份活", starts_at=post.starts_at + dt.timedelta(hours=2)
    )
    page = html(grab(client, worker, other))
    assert "与您已接的订单时间冲突" in page and post.title in page
    assert not Claim.objects.filter(post=other).exists()


def test_claim_refused_when_blocked(client, boss, employer, post, worker):
    Block.objects.create(employer=employer, worker=worker, created_by=boss)
    page = html(grab(client, worker, post))
    assert "该雇主暂不接受您的报名" in page
    assert not Claim.objects.exists()


def test_claim_on_a_closed_post(client, employer, worker):
    post = PostFactory(employer=employer, status="closed")
    client.force_login(worker)
    assert "已停止招工" in html(client.get(reverse("jobs:post_detail", args=[post.pk])))
    assert "该岗位已停止招工" in html(client.post(reverse("jobs:claim", args=[post.pk])))
    assert not Claim.objects.exists()


# ---------------------------------------------------------------------- apply mode: applicants


def test_apply_mode_applicants_accept_and_reject(client, boss, employer, worker, worker2):
    post = PostFactory(employer=employer, mode="apply", slots=1, title="家政阿姨报名")
    client.force_login(worker)
    response = client.post(reverse("jobs:claim", args=[post.pk]), {"note": "做过5年家政"})
    assert response["Location"] == reverse("jobs:my_orders")
    assert "待雇主确认" in html(client.get(response["Location"]))
    grab(client, worker2, post)
    WorkerStats.objects.update_or_create(user=worker, defaults={"reliability": 88, "completed": 7})
    client.force_login(boss)
    page = html(client.get(reverse("jobs:post_manage", args=[post.pk])))
    assert "赵**" in page and "钱**" in page and "赵洪亮" not in page
    assert worker.realname.id_masked in page and worker.realname.id_number not in page
    assert "做过5年家政" in page and "88" in page and "完工7单" in page
    first, second = Claim.objects.get(worker=worker), Claim.objects.get(worker=worker2)
    client.post(reverse("jobs:claim_accept", args=[post.pk, first.pk]))
    first.refresh_from_db()
    assert first.status == Claim.Status.CONFIRMED and Order.objects.filter(claim=first).exists()
    # the only slot is gone: accepting the second is refused in plain words
    response = client.post(reverse("jobs:claim_accept", args=[post.pk, second.pk]), follow=True)
    assert "名额已满" in html(response) or "停止招工" in html(response)
    client.post(reverse("jobs:claim_reject", args=[post.pk, second.pk]), {"reason": "人招够了"})
    second.refresh_from_db()
    assert second.status in (Claim.Status.REJECTED, Claim.Status.EXPIRED)


def test_worker_withdraws_a_pending_application(client, employer, worker):
    post = PostFactory(employer=employer, mode="apply")
    client.force_login(worker)
    client.post(reverse("jobs:claim", args=[post.pk]))
    claim = Claim.objects.get()
    client.post(reverse("jobs:claim_withdraw", args=[claim.pk]))
    claim.refresh_from_db()
    assert claim.status == Claim.Status.WITHDRAWN


# ------------------------------------------------------------------------- the whole order walk


def test_worker_and_employer_walk_an_order_through_the_pages(client, boss, employer, post, worker):
    grab(client, worker, post)
    order = order_of(worker, post)
    order_url = reverse("jobs:order_detail", args=[order.pk])
    # too early: the page says when check-in opens, and the service refuses a forced post
    page = html(client.get(order_url))
    assert "开工前1小时可以签到" in page
    assert "开工前60分钟才能签到" in html(client.post(reverse("jobs:order_check_in", args=[order.pk])))
    with time_machine.travel(post.starts_at - dt.timedelta(minutes=30), tick=False):
        # too far away
        response = client.post(
            reverse("jobs:order_check_in", args=[order.pk]), {"lat": "30.0", "lng": "121.0"}
        )
        assert "请到现场再签到" in html(response)
        response = client.post(
            reverse("jobs:order_check_in", args=[order.pk]), {"lat": "28.9001", "lng": "120.0301"}
        )
        assert response.status_code == 302
        assert "已签到" in html(client.get(order_url))
    with time_machine.travel(post.ends_at, tick=False):
        response = client.post(reverse("jobs:order_check_out", args=[order.pk]), {"quantity": "-1"})
        assert "数量应大于0" in html(response)
        response = client.post(reverse("jobs:order_check_out", args=[order.pk]), {"quantity": "1.5"})
        assert "最多可填报1天" in html(response)  # a 1-day post: more is the employer's to confirm
        client.post(reverse("jobs:order_check_out", args=[order.pk]), {"quantity": "1"})
        order.refresh_from_db()
        assert order.status == Order.Status.CHECKED_OUT and str(order.worker_quantity) == "1.00"
        # the employer sees the order, with the worker's figure as the default
        client.force_login(boss)
        assert post.title in html(client.get(reverse("jobs:employer_orders")))
        page = html(client.get(order_url))
        assert "确认完工" in page and 'value="1' in page
        client.post(reverse("jobs:order_confirm", args=[order.pk]), {"quantity": "1.5"})
        order.refresh_from_db()
        assert order.status == Order.Status.COMPLETED and order.amount_fen == 30000
        page = html(client.get(order_url))
        assert "300 元" in page and "雇主确认完工" in page and "评价工人" in page
        response = client.post(reverse("jobs:order_rate", args=[order.pk]), {"stars": "6"})
        assert "请选择1–5星" in html(response)
        client.post(reverse("jobs:order_rate", args=[order.pk]), {"stars": "5", "comment": "干活踏实"})
        client.post(reverse("jobs:order_block", args=[order.pk]), {"reason": "测试拉黑"})
        assert Block.objects.filter(employer=employer, worker=worker).exists()
        assert "已拉黑这位工人" in html(client.get(order_url))
        client.force_login(worker)
        page = html(client.get(order_url))
        assert "评价雇主" in page and "★★★★★" in page  # the employer's rating of me is shown
        client.post(reverse("jobs:order_rate", args=[order.pk]), {"stars": "4", "comment": "按时结算"})
        assert "您已评价过" in html(client.post(reverse("jobs:order_rate", args=[order.pk]), {"stars": "3"}))
    assert set(Rating.objects.values_list("direction", "stars")) == {("e2w", 5), ("w2e", 4)}


def test_worker_cancel_shows_the_free_or_late_rule(client, post, worker):
    grab(client, worker, post)
    order = order_of(worker, post)
    assert "现在取消是" in html(client.get(reverse("jobs:order_detail", args=[order.pk])))
    with time_machine.travel(post.starts_at - dt.timedelta(hours=2), tick=False):
        page = html(client.get(reverse("jobs:order_detail", args=[order.pk])))
        assert "降低您的靠谱分" in page
        client.post(reverse("jobs:order_cancel", args=[order.pk]), {"reason": "家里有事"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.late_cancel


def test_employer_cancel_needs_a_reason_and_shows_compensation(client, boss, post, worker):
    order = services.claim_create(post=post, worker=worker).order
    client.force_login(boss)
    url = reverse("jobs:order_detail", args=[order.pk])
    assert "不需要补偿" in html(client.get(url))
    with time_machine.travel(post.starts_at - dt.timedelta(hours=2), tick=False):
        assert "补偿工人 40 元" in html(client.get(url))  # 20% of 200 yuan
        response = client.post(reverse("jobs:order_cancel", args=[order.pk]), {"reason": ""})
        assert "请填写原因" in html(response)
        client.post(reverse("jobs:order_cancel", args=[order.pk]), {"reason": "下雨停工"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.compensation_fen == 4000


# ---------------------------------------------------------------------------------- contract


def test_contract_signed_by_both_sides_with_sms_codes(client, boss, post, worker, outbox):
    order = services.claim_create(post=post, worker=worker).order
    client.force_login(worker)
    response = client.post(reverse("jobs:contract_code", args=[order.pk]))
    assert "验证码已发到" in html(response)
    response = client.post(reverse("jobs:contract_sign", args=[order.pk]), {"code": "000000"})
    assert "验证码" in " ".join(response.context["sign_form"].errors["code"])
    client.post(reverse("jobs:contract_sign", args=[order.pk]), {"code": outbox.code(worker.phone)})
    contract = Contract.objects.get(order=order)
    assert contract.worker_signed_at and not contract.employer_signed_at
    assert "您已确认这份协议" in html(client.get(reverse("jobs:contract", args=[order.pk])))
    client.force_login(boss)
    client.post(reverse("jobs:contract_code", args=[order.pk]))
    client.post(reverse("jobs:contract_sign", args=[order.pk]), {"code": outbox.code(boss.phone)})
    contract.refresh_from_db()
    assert contract.is_signed
    assert "劳动者确认了电子协议" in html(client.get(reverse("jobs:order_detail", args=[order.pk])))


def test_contract_pdf_download(client, post, worker):
    order = services.claim_create(post=post, worker=worker).order
    client.force_login(worker)
    response = client.get(reverse("jobs:contract_pdf", args=[order.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        "attachment" in response["Content-Disposition"]
        and f"GM-{order.pk:08d}" in response["Content-Disposition"]
    )
    assert response.content.startswith(b"%PDF")
    # No page policy on a PDF (Chromium's viewer runs in its document: docs/security-headers.md).
    assert "Content-Security-Policy" not in response
    assert "camera=()" in response["Permissions-Policy"]


# ------------------------------------------------------------------------------- contact phone


def test_contact_phone_masked_until_the_order_is_confirmed(client, employer, worker):
    post = PostFactory(employer=employer, mode="apply")
    boss = employer.created_by
    url = reverse("jobs:post_detail", args=[post.pk])
    client.force_login(worker)
    page = html(client.get(url))
    assert mask_phone(CONTACT) in page and CONTACT not in page
    client.post(reverse("jobs:claim", args=[post.pk]))
    page = html(client.get(url))
    assert CONTACT not in page, "a pending application does not reveal the number"
    services.claim_accept(claim=Claim.objects.get(), actor=boss)
    page = html(client.get(url))
    assert f'href="tel:{CONTACT}"' in page
    assert CONTACT in html(client.get(reverse("jobs:order_detail", args=[Order.objects.get().pk])))


# --------------------------------------------------------------------------- other people's things


def test_charlie_gets_404_on_someone_elses_post_order_and_contract(
    client, boss, employer, post, worker, charlie, alice
):
    order = services.claim_create(post=post, worker=worker).order
    claim = order.claim
    draft = PostFactory(employer=employer, status="draft", published_at=None)
    EmployerFactory(created_by=alice, name="爱丽家政")  # a member of another employer is a stranger here too
    for outsider in (charlie, alice):
        client.force_login(outsider)
        for method, url in [
            ("get", reverse("jobs:post_edit", args=[draft.pk])),
            ("get", reverse("jobs:post_manage", args=[post.pk])),
            ("get", reverse("jobs:post_detail", args=[draft.pk])),
            ("post", reverse("jobs:post_publish", args=[draft.pk])),
            ("post", reverse("jobs:post_close", args=[post.pk])),
            ("post", reverse("jobs:post_cancel", args=[post.pk])),
            ("post", reverse("jobs:claim_accept", args=[post.pk, claim.pk])),
            ("post", reverse("jobs:claim_reject", args=[post.pk, claim.pk])),
            ("get", reverse("jobs:order_detail", args=[order.pk])),
            ("post", reverse("jobs:order_check_in", args=[order.pk])),
            ("post", reverse("jobs:order_cancel", args=[order.pk])),
            ("post", reverse("jobs:order_confirm", args=[order.pk])),
            ("post", reverse("jobs:order_rate", args=[order.pk])),
            ("post", reverse("jobs:order_block", args=[order.pk])),
            ("get", reverse("jobs:contract", args=[order.pk])),
            ("post", reverse("jobs:contract_code", args=[order.pk])),
            ("post", reverse("jobs:contract_sign", args=[order.pk])),
            ("get", reverse("jobs:contract_pdf", args=[order.pk])),
            ("post", reverse("jobs:claim_withdraw", args=[claim.pk])),
        ]:
            assert getattr(client, method)(url).status_code == 404, (outsider, url)
        assert post.title not in html(client.get(reverse("jobs:my_posts")))
        assert post.title not in html(client.get(reverse("jobs:employer_orders")))
        assert post.title not in html(client.get(reverse("jobs:my_orders")))
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert Post.objects.get(pk=post.pk).status == Post.Status.OPEN


def test_the_worker_cannot_use_the_employer_side_of_an_order(client, post, worker):
    order = services.claim_create(post=post, worker=worker).order
    client.force_login(worker)
    response = client.post(reverse("jobs:order_confirm", args=[order.pk]), {"quantity": "1"})
    assert "您不是该用工主体的成员" in html(response)
    assert client.get(reverse("jobs:post_manage", args=[post.pk])).status_code == 404


# ------------------------------------------------------------------------------------ yuan input


@pytest.mark.parametrize(
    ("text", "fen"),
    [("200", 20000), ("12.5", 1250), ("0.01", 1), ("1,200", 120000), ("35元", 3500), ("12.50", 1250)],
)
def test_yuan_to_fen_is_exact(text, fen):
    assert yuan_to_fen(text) == fen


def test_board_page_queries_do_not_grow_with_the_posts(client, employer, django_assert_max_num_queries):
    trade = TradeFactory(name="搬运")
    for n in range(3):
        PostFactory(employer=employer, trade=trade, title=f"搬家小工{n}")
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("jobs:board"), {"q": "搬家"})
    for n in range(3, 30):
        PostFactory(employer=EmployerFactory(), trade=TradeFactory(), title=f"搬家小工{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("jobs:board"), {"q": "搬家"})
    assert len(response.context["posts"]) == 20


def test_check_out_waits_for_the_start_on_the_order_page(client, post, worker):
    grab(client, worker, post)
    order = order_of(worker, post)
    order_url = reverse("jobs:order_detail", args=[order.pk])
    with time_machine.travel(post.starts_at - dt.timedelta(minutes=30), tick=False):
        services.order_check_in(order=order, worker=worker)
        page = html(client.get(order_url))
        # no form to fill in yet: the start time instead
        assert "还没到开工时间，开工后才能签退" in page and 'id="check-out-not-yet"' in page
        assert reverse("jobs:order_check_out", args=[order.pk]) not in page
        forced = html(client.post(reverse("jobs:order_check_out", args=[order.pk]), {"quantity": "1"}))
        assert "还没到开工时间" in forced
    order.refresh_from_db()
    assert order.status == Order.Status.CHECKED_IN and order.worker_quantity is None
    with time_machine.travel(post.starts_at, tick=False):
        page = html(client.get(order_url))
        assert reverse("jobs:order_check_out", args=[order.pk]) in page and "还没到开工时间" not in page
