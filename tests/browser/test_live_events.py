"""叮咚 in a real browser (docs/live.md), against uvicorn serving gigmarket.asgi (pages and streams) in a
thread of this process: an employer publishes; a seeker's open page shows the post within 2 s in an alert
card and attempts the chime; one tap on its 抢单 grabs; a second seeker's board shows the count drop
without a reload. And a dropped connection: the server goes away, a message is written meanwhile, and
the page's reconnect (Last-Event-ID) replays it."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
import uvicorn
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Area
from jobs.models import Claim, Post
from notifications.services import message_queue
from tests.browser.people import login, seeker
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class AsgiServer:
    """uvicorn on gigmarket.asgi in a thread (its own event loop, so its own live hub); stop() drops
    every connection, start() comes back on the same port."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> AsgiServer:
        from gigmarket.asgi import application

        config = uvicorn.Config(
            application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(20)
            self.server = None


@pytest.fixture
def asgi_server(settings):
    settings.NOTIFY_QUIET_HOURS = (
        "00:00",
        "00:00",
    )  # no quiet hours: the chime is expected (runs at night too)
    server = AsgiServer().start()
    yield server
    server.stop()


def stream_open(page, which: str = "user") -> None:
    page.wait_for_function(f"() => window.__live && window.__live.{which} === 'stream'", timeout=15_000)


def test_published_post_alerts_chimes_grabs_in_one_tap_and_ticks_the_other_board(
    asgi_server, new_page, artifacts
):
    base = asgi_server.url
    district = AreaFactory(name="青溪区", code="350186000000", level=Area.Level.DISTRICT)
    street = AreaFactory(name="西城街道", code="350186001000", level=Area.Level.STREET, parent=district)
    fitting = TradeFactory(name="安装", category="install", risk_class=2)
    boss = UserFactory(phone="13700000071", name="陈老板", role="employer")
    EmployerFactory(created_by=boss, name="青溪办公家具有限公司")
    seeker("13600000071", "廖华光", trade=fitting, street=street)
    seeker("13600000072", "钱秀英", trade=fitting, street=street)
    start = timezone.localtime() + dt.timedelta(days=1)

    first = new_page()
    login(first, base, "13600000071")
    first.goto(base + "/jobs/")
    stream_open(first)
    second = new_page()
    login(second, base, "13600000072")
    second.goto(base + "/jobs/")
    stream_open(second)

    employer = new_page()
    login(employer, base, "13700000071")
    employer.get_by_role("link", name="发布招工").first.click()
    employer.get_by_label("工种").select_option(label="安装")
    employer.get_by_label("标题", exact=True).fill("安装公司办公桌 招2人")
    employer.get_by_label("报酬（元）").fill("40")
    employer.get_by_label("按什么算").select_option(label="小时")
    employer.get_by_label("招几个人").fill("2")
    employer.get_by_label("每人预计数量").fill("4")
    employer.get_by_label("开工时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("收工时间").fill((start + dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    employer.get_by_label("工作地区").select_option(label="青溪区 · 西城街道")
    employer.get_by_label("详细地址").fill("软件园2号楼")
    employer.get_by_role("button", name="立即发布").click()
    expect(employer.locator(".status-big")).to_have_text("招工中")
    published = time.monotonic()
    post = Post.objects.get(title="安装公司办公桌 招2人")

    # Within 2 s of the publication the seeker's open page shows the post, large, and chimed.
    alert = first.locator(".live-alert", has_text="安装公司办公桌 招2人")
    expect(alert).to_be_visible(timeout=2_000)
    shown_after = time.monotonic() - published
    expect(alert).to_contain_text("40元/小时")
    expect(alert).to_contain_text("西城街道")
    assert first.evaluate("() => window.__live.chimes") == 1
    expect(second.locator(".live-alert", has_text="安装公司办公桌")).to_be_visible(timeout=2_000)
    first.screenshot(path=artifacts / "live_alert.png")

    # The second seeker looks at the board with the new post on it: 还剩 2 人.
    second.reload()
    stream_open(second, "public")
    count = second.locator(
        f"#main .post-card [data-slots-for='{post.pk}'], #main [data-slots-for='{post.pk}']"
    ).first
    expect(count).to_have_text("2")

    # One tap in the alert grabs it.
    alert.get_by_role("button", name="抢单").click()
    expect(first.get_by_text("抢到了")).to_be_visible()
    assert Claim.objects.filter(post=post, worker__phone="13600000071", status="confirmed").exists()

    # …and the other seeker's board ticks down without a reload.
    expect(count).to_have_text("1", timeout=2_000)
    assert second.evaluate("() => window.__live.slots") >= 1
    print(f"alert shown {shown_after:.2f} s after the publish answered")


def test_a_dropped_connection_replays_what_was_missed(asgi_server, new_page):
    base = asgi_server.url
    user = seeker("13600000081", "赵洪亮", trade=TradeFactory(name="搬运"), street=AreaFactory())
    page = new_page()
    login(page, base, "13600000081")
    stream_open(page)
    message_queue(event_key="before:1", template="post_recommended_inapp", recipient=user, channel="inapp",
                  params={"post": "断线前的活", "pay": "200元/天", "place": "东城", "start": "", "reason": "", "link": "/"})  # fmt: skip
    expect(page.locator(".live-alert", has_text="断线前的活")).to_be_visible(timeout=5_000)

    asgi_server.stop()  # the connection drops; the page keeps retrying
    message_queue(event_key="missed:1", template="post_recommended_inapp", recipient=user, channel="inapp",
                  params={"post": "断线时来的活", "pay": "300元/天", "place": "西城", "start": "", "reason": "", "link": "/"})  # fmt: skip
    asgi_server.start()

    expect(page.locator(".live-alert", has_text="断线时来的活")).to_be_visible(timeout=20_000)
    last = page.evaluate("() => window.__live.last")
    assert last["replay"] is True and last["silent"] is True  # replayed: shown, not chimed
    assert page.evaluate("() => window.__live.chimes") == 0
    assert page.locator(".live-alert", has_text="断线前的活").count() == 1  # nothing shown twice
