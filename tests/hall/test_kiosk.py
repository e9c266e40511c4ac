"""Kiosk (求职机): sign in by phone or ID number + SMS code, matched posts, 抢单 with its confirmation SMS, and
sessions that never leak (no site login, end on 完成/timeout, bound to one kiosk, other people's claims 404)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from hall import services
from hall.models import KioskSession
from hall.views import KIOSK_COOKIE
from jobs.models import Claim, Order
from notifications.models import Message
from tests.factories import PostFactory, RealNameFactory, UserFactory, id_number

from .conftest import seeker

pytestmark = pytest.mark.django_db

ALICE = "13800000001"


@pytest.fixture
def alice(east, mason):
    return seeker(ALICE, "李爱丽", area=east, trades=[mason])


@pytest.fixture
def charlie(east, mason):
    return seeker("13800000003", "张查理", area=east, trades=[mason])


@pytest.fixture
def mason_post(employer, mason, east):
    return PostFactory(
        employer=employer,
        trade=mason,
        area=east,
        district=east.parent,
        lat=29.001,
        lng=120.0,
        title="砌墙 招3人",
    )


@pytest.fixture
def cleaner_post(employer, cleaner, east):
    return PostFactory(
        employer=employer,
        trade=cleaner,
        area=east,
        district=east.parent,
        lat=29.0,
        lng=120.0,
        title="保洁 招2人",
    )


def url(name, point, *args):
    return reverse(f"hall:{name}", args=[point.pk, *args])


def sign_in(client, point, outbox, phone=ALICE):
    response = client.post(url("kiosk", point), {"way": "phone", "phone": phone})
    assert response.status_code == 302, response.content.decode()
    response = client.post(url("kiosk_code", point), {"code": outbox.code(phone)})
    assert response.status_code == 302 and response["Location"] == url("kiosk_posts", point)


def test_start_screen_has_a_numeric_pad_and_no_keyboard(client, east_point):
    html = client.get(url("kiosk", east_point)).content.decode()
    assert 'inputmode="none"' in html
    assert html.count('class="pad-key"') == 12
    assert "获取验证码" in html


def test_phone_sign_in_to_grab_and_confirmation_sms(
    client, east_point, alice, mason_post, cleaner_post, outbox
):
    response = client.post(url("kiosk", east_point), {"way": "phone", "phone": ALICE})
    cookie = response.cookies[KIOSK_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == url("kiosk", east_point)
    code_page = client.get(url("kiosk_code", east_point)).content.decode()
    assert "138****0001" in code_page and ALICE not in code_page

    client.post(url("kiosk_code", east_point), {"code": outbox.code(ALICE)})
    posts = client.get(url("kiosk_posts", east_point)).content.decode()
    assert "砌墙 招3人" in posts  # a wanted trade
    assert "保洁 招2人" not in posts  # not one she wants
    assert "_auth_user_id" not in client.session  # the kiosk never logs anyone in to the site

    response = client.post(url("kiosk_confirm", east_point, mason_post.pk))
    claim = Claim.objects.get(worker=alice, post=mason_post)
    assert response["Location"] == url("kiosk_done", east_point, claim.pk)
    assert claim.status == Claim.Status.CONFIRMED and Order.objects.filter(claim=claim).exists()
    sms = Message.objects.get(phone=ALICE, template="claim_confirmed", channel="sms")
    assert "砌墙 招3人" in sms.body
    done = client.get(url("kiosk_done", east_point, claim.pk)).content.decode()
    assert "抢单成功" in done and "确认短信已发到 138****0001" in done

    # 完成 ends the session: the next page goes back to the start
    response = client.post(url("kiosk_end", east_point), {"reason": "done"})
    assert response["Location"] == url("kiosk", east_point) + "?notice=done"
    assert KioskSession.objects.get().state == KioskSession.State.ENDED
    assert client.get(url("kiosk_posts", east_point))["Location"].startswith(url("kiosk", east_point))


def test_id_number_sign_in_sends_the_code_to_the_accounts_phone(client, east_point, east, mason, outbox):
    number = id_number(7)
    bob = seeker("13800000002", "王博", area=east, trades=[mason], verified=False)
    RealNameFactory(user=bob, id_number=number)
    response = client.post(url("kiosk", east_point), {"way": "id", "id_number": number})
    assert response.status_code == 302
    assert "138****0002" in client.get(url("kiosk_code", east_point)).content.decode()
    client.post(url("kiosk_code", east_point), {"code": outbox.code("13800000002")})
    assert KioskSession.objects.get(user=bob).state == KioskSession.State.ACTIVE
    assert KioskSession.objects.get(user=bob).via == "id_number"


def test_id_sign_in_accepts_spaced_full_width_input_and_recoded_counties(client, east_point, east, mason):
    number = id_number(8, birth=dt.date(1961, 4, 2), region="110118")  # 密云区: code from 2015
    bob = seeker("13800000002", "王博", area=east, trades=[mason], verified=False)
    RealNameFactory(user=bob, id_number=number)
    typed = " ".join([number[:6], number[6:14], number[14:]]).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}
    )
    response = client.post(url("kiosk", east_point), {"way": "id", "id_number": typed})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"way": "phone", "phone": "12345"}, "phone", "手机号"),
        ({"way": "phone", "phone": "13899999999"}, "phone", "还没有注册"),
        ({"way": "id", "id_number": "11010519750615001"}, "id_number", "18位"),
        ({"way": "id", "id_number": id_number(99)}, "id_number", "没有找到"),
        ({"way": "id", "id_number": id_number(99, region="999999")}, "id_number", "地区代码不存在"),
    ],
)
def test_bad_sign_in_input_is_a_field_error(client, east_point, alice, data, field, message):
    response = client.post(url("kiosk", east_point), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not KioskSession.objects.exists() and KIOSK_COOKIE not in response.cookies


def test_wrong_code_is_refused_and_counts(client, east_point, alice, outbox):
    client.post(url("kiosk", east_point), {"way": "phone", "phone": ALICE})
    good = outbox.code(ALICE)
    wrong = "000000" if good != "000000" else "111111"
    response = client.post(url("kiosk_code", east_point), {"code": wrong})
    assert "验证码不正确" in response.content.decode()
    assert KioskSession.objects.get().state == KioskSession.State.CODE_SENT
    assert client.get(url("kiosk_posts", east_point)).status_code == 302  # not signed in


def test_employers_cannot_use_the_kiosk(client, east_point, boss):
    response = client.post(url("kiosk", east_point), {"way": "phone", "phone": boss.phone})
    assert "只供求职者" in response.content.decode()


def test_idle_session_times_out(client, east_point, alice, outbox, settings):
    sign_in(client, east_point, outbox)
    later = timezone.now() + dt.timedelta(seconds=settings.HALL_KIOSK_TIMEOUT_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        response = client.get(url("kiosk_posts", east_point))
    assert response["Location"] == url("kiosk", east_point) + "?notice=expired"
    session = KioskSession.objects.get()
    assert session.state == KioskSession.State.ENDED and session.end_reason == "timeout"


def test_the_timeout_form_ends_the_session(client, east_point, alice, outbox):
    sign_in(client, east_point, outbox)
    response = client.post(url("kiosk_end", east_point), {"reason": "timeout"})
    assert response["Location"].endswith("?notice=timeout")
    assert KioskSession.objects.get().end_reason == "timeout"
    assert "长时间没有操作" in client.get(response["Location"]).content.decode()


def test_expire_task_ends_abandoned_sessions(client, east_point, alice, outbox, settings):
    sign_in(client, east_point, outbox)
    later = timezone.now() + dt.timedelta(seconds=settings.HALL_KIOSK_TIMEOUT_SECONDS + 1)
    assert services.kiosk_sessions_expire(now=later) == 1
    assert KioskSession.objects.get().state == KioskSession.State.ENDED


def test_a_session_is_bound_to_its_kiosk(client, east_point, west_point, alice, outbox):
    sign_in(client, east_point, outbox)
    token = client.cookies[KIOSK_COOKIE].value
    client.cookies[KIOSK_COOKIE] = token  # even if the browser sent it to another kiosk's path
    assert client.get(url("kiosk_posts", west_point)).status_code == 302


def test_a_new_sign_in_ends_the_previous_one(client, east_point, alice, charlie, outbox):
    sign_in(client, east_point, outbox)
    client.post(url("kiosk", east_point), {"way": "phone", "phone": charlie.phone})
    states = dict(KioskSession.objects.values_list("user__phone", "state"))
    assert states == {ALICE: "ended", charlie.phone: "code_sent"}


def test_charlie_cannot_open_alices_confirmation(client, east_point, alice, charlie, mason_post, outbox):
    sign_in(client, east_point, outbox)
    client.post(url("kiosk_confirm", east_point, mason_post.pk))
    claim = Claim.objects.get(worker=alice)
    client.post(url("kiosk_end", east_point))
    sign_in(client, east_point, outbox, phone=charlie.phone)
    assert client.get(url("kiosk_done", east_point, claim.pk)).status_code == 404


def test_claim_refusal_is_shown_and_nothing_is_written(client, east_point, alice, mason_post, outbox):
    mason_post.slots_left = 0
    mason_post.status = "filled"
    mason_post.save()
    sign_in(client, east_point, outbox)
    response = client.post(url("kiosk_confirm", east_point, mason_post.pk))
    assert response.status_code == 200 and "名额已满" in response.content.decode()
    assert not Claim.objects.exists()
    assert not Message.objects.filter(template="claim_confirmed").exists()


def test_apply_posts_wait_for_the_employer(client, east_point, alice, employer, mason, east, outbox):
    post = PostFactory(employer=employer, trade=mason, area=east, district=east.parent, mode="apply")
    sign_in(client, east_point, outbox)
    assert "报名这个" in client.get(url("kiosk_posts", east_point)).content.decode()
    client.post(url("kiosk_confirm", east_point, post.pk))
    claim = Claim.objects.get(worker=alice)
    assert claim.status == Claim.Status.PENDING
    assert "报名成功" in client.get(url("kiosk_done", east_point, claim.pk)).content.decode()


def test_without_wanted_trades_nearest_posts_are_shown(client, east_point, east, cleaner_post, outbox):
    seeker("13800000005", "孙五", area=east, trades=[])
    sign_in(client, east_point, outbox, phone="13800000005")
    assert "保洁 招2人" in client.get(url("kiosk_posts", east_point)).content.decode()


# ------------------------------------------------------------------------ the fallback match (selectors)


def test_nearby_fallback_uses_wanted_trades_distance_and_skips_taken_posts(
    east_point, alice, employer, mason, cleaner, east
):
    from hall.selectors import kiosk_posts_nearby

    far = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, lat=29.2, lng=120.2, title="远"
    )
    near = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, lat=29.0, lng=120.001, title="近"
    )
    # A later day than the others: its order must not make them clash (that has its own test below).
    later = timezone.now() + dt.timedelta(days=5)
    taken = PostFactory(
        employer=employer, trade=mason, area=east, district=east.parent, lat=29.0, lng=120.0, starts_at=later
    )
    PostFactory(employer=employer, trade=cleaner, area=east, district=east.parent, lat=29.0, lng=120.0)
    from jobs.services import claim_create

    claim_create(post=taken, worker=alice)
    matches = kiosk_posts_nearby(worker=alice, point=east_point, limit=5)
    assert [m.post for m in matches] == [near, far]
    assert matches[0].reason.startswith("您想干的工种，距本网点0.1公里")
    assert matches[0].score > matches[1].score


def test_kiosk_falls_back_when_matching_finds_nothing(east_point, alice, mason_post, monkeypatch):
    import hall.selectors
    from hall.selectors import kiosk_posts

    monkeypatch.setattr(hall.selectors, "posts_for_worker", lambda **kwargs: [])
    assert [m.post for m in kiosk_posts(worker=alice, point=east_point, limit=3)] == [mason_post]


@pytest.mark.parametrize("lead", ["matching", "nearby"])
def test_kiosk_never_offers_a_post_that_clashes_with_the_workers_orders(
    east_point, alice, employer, mason, east, lead, monkeypatch
):
    """适合您 leaves out a post whose hours overlap an order the worker already has: 抢单 would refuse it."""
    import hall.selectors
    from hall.selectors import kiosk_posts
    from jobs.services import claim_create

    if lead == "nearby":
        monkeypatch.setattr(hall.selectors, "posts_for_worker", lambda **kwargs: [])
    start = timezone.now() + dt.timedelta(days=2)
    where = {
        "employer": employer,
        "trade": mason,
        "area": east,
        "district": east.parent,
        "lat": 29.0,
        "lng": 120.0,
    }
    mine = PostFactory(**where, title="已接：砌墙", starts_at=start)
    same_hours = PostFactory(**where, title="同一时间：抹灰", starts_at=start + dt.timedelta(hours=2))
    next_day = PostFactory(**where, title="第二天：贴砖", starts_at=start + dt.timedelta(days=1))
    claim_create(post=mine, worker=alice)
    assert Order.objects.filter(worker=alice, post=mine).exists()

    offered = [m.post for m in kiosk_posts(worker=alice, point=east_point, limit=5)]
    assert next_day in offered
    assert same_hours not in offered and mine not in offered


# ---------------------------------------------------------------------------------- trainings (optional)


def course(point, trade, *, seats=10, title="瓦工技能培训班"):
    from outreach.models import Course

    start = timezone.localdate() + dt.timedelta(days=7)
    creator = UserFactory(role="staff", is_staff=True, service_point=point)
    return Course.objects.create(
        title=title, trade=trade, starts_on=start, ends_on=start + dt.timedelta(days=2), place="二楼教室",
        service_point=point, seats=seats, seats_left=seats, created_by=creator,
    )  # fmt: skip


def test_kiosk_offers_trainings_and_signs_up(client, east_point, alice, mason, cleaner, outbox):
    from outreach.models import Enrollment

    wanted = course(east_point, mason)
    course(east_point, cleaner, title="保洁培训班")
    sign_in(client, east_point, outbox)
    html = client.get(url("kiosk_posts", east_point)).content.decode()
    assert html.index("瓦工技能培训班") < html.index("保洁培训班")  # wanted trade first
    response = client.post(url("kiosk_training", east_point, wanted.pk))
    assert response["Location"].endswith("?notice=signed")
    assert Enrollment.objects.filter(course=wanted, worker=alice).exists()
    again = client.post(url("kiosk_training", east_point, wanted.pk))
    assert again.status_code == 200 and "您已报名该课程" in again.content.decode()


def test_training_sign_up_needs_a_kiosk_session(client, east_point, mason):
    from outreach.models import Enrollment

    target = course(east_point, mason)
    assert client.post(url("kiosk_training", east_point, target.pk)).status_code == 302
    assert not Enrollment.objects.exists()


def test_going_back_to_the_start_screen_signs_out(client, east_point, alice, outbox):
    sign_in(client, east_point, outbox)
    response = client.get(url("kiosk", east_point))
    assert response.status_code == 200 and response.cookies[KIOSK_COOKIE].value == ""
    session = KioskSession.objects.get()
    assert session.state == KioskSession.State.ENDED and session.end_reason == "start_screen"
