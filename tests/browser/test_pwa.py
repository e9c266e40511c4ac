"""The installable site in real Chromium: the service worker keeps the shell and the last board page, and
nothing else — a seeker's personal pages never reach its caches — shows the kept board with
「网络不好，显示的是上次的内容」 when the phone goes offline, and forgets the kept pages when she signs out,
so the next person on the phone never sees hers."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PostFactory, SeekerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gig-pass-2026"  # tests.factories.UserFactory's password

CACHES_NOW = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
  }
  return out;
}"""
KEPT_TEXT = """async () => {
  const texts = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      texts.push(await response.text());
    }
  }
  return texts.join("\\n");
}"""
CONTROLLED = "() => navigator.serviceWorker.ready.then(() => Boolean(navigator.serviceWorker.controller))"


def login(page, base: str, phone: str) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_the_worker_keeps_the_board_and_never_a_personal_page(live_server, new_page, artifacts):
    base = live_server.url
    alice = SeekerFactory(phone="13800000051", name="李爱丽")
    PostFactory(title="安装公司办公桌")
    page = new_page()
    context = page.context

    login(page, base, alice.phone)
    page.goto(base + reverse("jobs:board"))
    page.wait_for_function(CONTROLLED)
    page.goto(base + reverse("jobs:board"))  # now through the worker
    expect(page.get_by_text("安装公司办公桌")).to_be_visible()
    personal = [
        reverse("home"),
        reverse("jobs:my_orders"),
        reverse("notifications:inbox"),
        reverse("notifications:preferences"),
        reverse("wallet:mine"),
        reverse("accounts:security"),
        "/api/v1/notifications/unread-count/",
    ]
    for path in personal:
        page.goto(base + path)
    page.goto(base + reverse("jobs:board"))
    kept = page.evaluate(CACHES_NOW)
    pages = kept.pop("gm-pages")
    [shell] = kept.values()
    assert sorted(pages) == ["/__gm-viewer", reverse("jobs:board")]
    assert reverse("offline") in shell and "/static/css/site.css" in shell
    assert all(path.startswith("/static/") for path in shell if path != reverse("offline"))
    for path in personal:
        assert path not in pages and path not in shell
    kept_text = page.evaluate(KEPT_TEXT)
    assert "安装公司办公桌" in kept_text  # the board
    assert "手机推送（叮咚）" not in kept_text and '"unread"' not in kept_text  # 消息设置, the API

    # Offline: the last board page, with the notice; a personal page is not there to show.
    context.set_offline(True)
    page.goto(base + reverse("jobs:board") + "?q=木工")
    expect(page.get_by_text("网络不好，显示的是上次的内容")).to_be_visible()
    expect(page.get_by_text("安装公司办公桌")).to_be_visible()
    page.screenshot(path=str(artifacts / "pwa-offline-board.png"), full_page=True)
    page.goto(base + reverse("jobs:my_orders"))
    expect(page.get_by_role("heading", name="网络不好，这一页现在打不开")).to_be_visible()
    expect(page.get_by_text("李爱丽")).to_have_count(0)
    page.screenshot(path=str(artifacts / "pwa-offline-page.png"), full_page=True)
    context.set_offline(False)

    # Signing out forgets the kept pages: the next person on this phone, offline, sees no one's board.
    page.goto(base + reverse("jobs:board"))
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已退出")).to_be_visible()
    page.wait_for_function(
        "() => caches.open('gm-pages').then((c) => c.keys()).then((k) => k.every((r) => !r.url.endsWith('/jobs/')))"
    )
    assert "李爱丽" not in page.evaluate(KEPT_TEXT)
    context.set_offline(True)
    page.goto(base + reverse("jobs:board"))
    expect(page.get_by_role("heading", name="网络不好，这一页现在打不开")).to_be_visible()
    context.set_offline(False)


def test_a_different_person_signed_in_drops_the_previous_persons_pages(live_server, new_page):
    """A session that ended without 退出 (expired): the next person's first page tells the worker."""
    base = live_server.url
    alice = SeekerFactory(phone="13800000052", name="李爱丽")
    bob = SeekerFactory(phone="13800000053", name="王博")
    page = new_page()
    login(page, base, alice.phone)
    page.goto(base + reverse("jobs:board"))
    page.wait_for_function(CONTROLLED)
    page.goto(base + reverse("jobs:board"))
    assert reverse("jobs:board") in page.evaluate(CACHES_NOW)["gm-pages"]
    page.context.clear_cookies()  # alice's session is gone, her kept board is not (yet)
    login(page, base, bob.phone)
    page.wait_for_function(
        "() => caches.open('gm-pages').then((c) => c.keys()).then((k) => k.every((r) => !r.url.endsWith('/jobs/')))"
    )
    assert "李爱丽" not in page.evaluate(KEPT_TEXT)


def test_manifest_and_worker_are_served_and_the_page_links_them(live_server, new_page):
    base = live_server.url
    page = new_page()
    page.goto(base + reverse("jobs:board"))
    assert page.locator("link[rel=manifest]").get_attribute("href") == "/manifest.webmanifest"
    assert page.locator("meta[name=theme-color]").get_attribute("content") == "#0a3d7a"
    worker = page.request.get(base + "/sw.js")
    assert worker.ok and worker.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in worker.headers["cache-control"]
    page.wait_for_function(CONTROLLED)
    scope = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == base + "/"
