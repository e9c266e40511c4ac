"""The seeker's and the employer's pages on a 360 px phone, in a real browser, over the whole demo city:
every page fits the width (no sideways scrolling), every control is at least 48 x 48 CSS px, and axe-core
(run by conftest.py on every page) finds nothing serious. Then 长辈模式: one tap in the header, larger
type and fewer menu entries, remembered on the account and on the device, and 朗读 on a post."""

from __future__ import annotations

import io
import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import axe_wait
from tests.factories import EmployerFactory, PostFactory, TradeFactory, UserFactory, verified_seeker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "gigmarket-demo"
PHONE = {"width": 360, "height": 780}
MIN_TARGET = 48  # CSS px, WCAG 2.5.5 (AAA) and Android's 48 dp

# Links that end a session, download a file or act (GET endpoints that are not pages) are not visited.
NOT_A_PAGE = re.compile(
    r"/logout|\.pdf|\.csv|\.xlsx|/admin/|/api/|/2fa/|/read|/matching/r/|/[ri]/[\w-]{11}$|/code/|unmask|#"
)

# Every interactive element the user taps: a checkbox or radio counts by its label (the label is the target
# when it wraps the control). None is exempt: inline links in running text were turned into buttons.
_SMALL_TARGETS = """() => {
  const out = [];
  const seen = new Set();
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const el of document.querySelectorAll(selector)) {
    const target = (el.matches('input[type=checkbox], input[type=radio], input[type=file]') && el.closest('label')) || el;
    if (seen.has(target)) continue;
    seen.add(target);
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    if (!box.width || !box.height || style.visibility === 'hidden' || target.closest('[hidden], .sr-only')) continue;
    if (box.width < 48 || box.height < 48) {
      const text = (target.innerText || target.value || target.name || target.type || '').trim().slice(0, 24);
      out.push(`${target.tagName.toLowerCase()} "${text}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return out;
}"""


def log_in(page, base: str, phone: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def walk(page, base: str, start: str, *, limit: int, shots, prefix: str) -> dict[str, list[str]]:
    """Visit pages reachable from ``start`` (one page per URL shape: /jobs/orders/3/ stands for every
    order), checking each; returns {path: [problem, ...]} and fills test-artifacts/front-line/."""
    problems: dict[str, list[str]] = {}
    queue, shapes, visited = deque([start]), set(), 0
    while queue and visited < limit:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", urlsplit(path).path)
        if shape in shapes:
            continue
        shapes.add(shape)
        visited += 1
        response = page.goto(base + path)
        assert response is not None and response.status < 400, f"{path}: {response and response.status}"
        found = []
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            found.append(f"page is {width} px wide")
        found += [f"target under {MIN_TARGET} px: {t}" for t in page.evaluate(_SMALL_TARGETS)]
        found += [f"axe: {v['impact']} {v['id']} {v['nodes']}" for v in axe_wait(page)]
        if found:
            problems[path] = found
        page.screenshot(path=shots / f"{prefix}{re.sub(r'[^a-z0-9]+', '_', path).strip('_') or 'home'}.png")
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            if href.startswith(base) and not NOT_A_PAGE.search(href):
                queue.append(href[len(base) :])
    return problems


def test_seeker_and_employer_pages_fit_a_phone(live_server, browser, artifacts):
    call_command("seed_demo", "--base-url", live_server.url, stdout=io.StringIO())
    shots = artifacts / "front-line"
    shots.mkdir(exist_ok=True)
    base = live_server.url
    problems = {}
    for who, phone in (("anon", None), ("seeker", "13500000003"), ("employer", "13500000004")):
        context = browser.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        if phone:
            log_in(page, base, phone)
        walked = walk(page, base, "/", limit=45 if phone else 12, shots=shots, prefix=f"{who}_")
        problems.update({f"{who} {path}": found for path, found in walked.items()})
        context.close()
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


# A voice list with a Chinese voice and a speak() that records what it was given: headless Chromium has no
# voices, so the test gives the page one (before the page's scripts run) to see the 朗读 button appear.
_FAKE_VOICE = """
(() => {
  const spoken = [];
  window.__spoken = spoken;
  const synth = {
    speaking: false,
    getVoices: () => [{ name: "Ting-Ting", lang: "zh-CN" }],
    speak: (u) => { spoken.push({ text: u.text, lang: u.lang }); },
    cancel: () => {},
    addEventListener: () => {},
  };
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})();
"""


def test_elder_mode_one_tap_remembered_and_reads_a_post_aloud(live_server, browser, artifacts):
    base = live_server.url
    seeker = verified_seeker(phone="13600000061", name="王秀英")
    boss = UserFactory(phone="13700000061", role="employer")
    trade = TradeFactory(name="保洁", category="housekeeping", risk_class=2)
    post = PostFactory(
        employer=EmployerFactory(created_by=boss, name="青溪物业"), trade=trade, title="小区楼道保洁"
    )

    phone = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = phone.new_page()
    log_in(page, base, seeker.phone, "Gig-pass-2026")
    nav = page.get_by_role("navigation", name="主菜单")
    expect(nav.get_by_role("link", name="钱包")).to_be_visible()
    body_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.menu li a')).fontSize)")
    page.get_by_role("button", name="长辈模式").click()
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    # Larger type (≥ 22 px everywhere a sentence is), fewer menu entries, and still no sideways scrolling.
    for selector in ("p", ".menu li a", ".hint", ".footer", ".nav a"):
        sizes = page.eval_on_selector_all(
            selector, "els => els.map((e) => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert sizes and min(sizes) >= 22, (selector, sizes)
    assert (
        page.evaluate("parseFloat(getComputedStyle(document.querySelector('.menu li a')).fontSize)") > body_px
    )
    expect(nav.get_by_role("link", name="钱包")).to_have_count(0)
    expect(nav.get_by_role("link", name="推荐")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert User.objects.get(pk=seeker.pk).elder_mode is True
    page.screenshot(path=artifacts / "elder_home.png", full_page=True)

    # 朗读: hidden where the device has no Chinese voice (headless Chromium has none)...
    page.goto(f"{base}/jobs/{post.pk}/")
    expect(page.locator(".read-aloud")).to_be_hidden()
    phone.close()

    # ...on another phone (a context with a zh-CN voice), the account brings 长辈模式 along at login.
    other = browser.new_context(viewport=PHONE, locale="zh-CN")
    other.add_init_script(script=_FAKE_VOICE)
    page = other.new_page()
    log_in(page, base, seeker.phone, "Gig-pass-2026")
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    page.goto(f"{base}/jobs/{post.pk}/")
    read = page.get_by_role("button", name="朗读这个活")
    expect(read).to_be_visible()
    read.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and spoken[0]["lang"] == "zh-CN" and "小区楼道保洁" in spoken[0]["text"]
    assert "元" in spoken[0]["text"] and "青溪物业" in spoken[0]["text"]
    page.screenshot(path=artifacts / "elder_post.png", full_page=True)

    # The device remembers it too: signed out, the same phone still shows the large type; turned off
    # before login, the account's choice wins again once signed in (and the button turns it off there).
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.body.classList.contains('elder')")
    page.get_by_role("button", name="长辈模式").click()
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "false")
    log_in(page, base, seeker.phone, "Gig-pass-2026")
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="长辈模式").click()
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "false")
    assert User.objects.get(pk=seeker.pk).elder_mode is False
    other.close()


# The big boxes of the mediator's desk: what it decides on the right of what it reads, on a desktop.
_DESK_COLUMNS = """() => {
  const box = (sel) => document.querySelector(sel).getBoundingClientRect();
  const read = box('.desk-case'), decide = box('.desk-decide');
  return {read: [read.left, read.right, read.top], decide: [decide.left, decide.right, decide.top],
          width: document.documentElement.scrollWidth};
}"""


def test_mediator_desk_two_columns_on_a_desktop_one_on_a_phone(live_server, browser, artifacts):
    from tests.browser.conftest import pass_second_factor

    call_command("seed_demo", "--base-url", live_server.url, stdout=io.StringIO())
    base = live_server.url
    mediator = User.objects.get(phone="13500000002")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/login/?way=password")
    page.get_by_label("手机号").fill(mediator.phone)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page, mediator)
    page.goto(base + "/disputes/mediator/")
    page.locator("#open-cases a").first.click()
    page.wait_for_selector(".desk")
    desk = urlsplit(page.url).path

    wide = page.evaluate(_DESK_COLUMNS)
    assert wide["width"] <= 1366
    assert wide["decide"][0] >= wide["read"][1], wide  # side by side: the forms right of the case
    assert abs(wide["decide"][2] - wide["read"][2]) < 2, wide  # both start at the top
    assert wide["read"][1] - wide["read"][0] > 500 and wide["decide"][1] - wide["read"][0] > 1100, wide
    assert not page.evaluate(_SMALL_TARGETS)
    assert not axe_wait(page)
    page.screenshot(path=artifacts / "front_line_desk_1366.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(base + desk)
    narrow = page.evaluate(_DESK_COLUMNS)
    assert narrow["width"] <= PHONE["width"]
    assert narrow["decide"][2] > narrow["read"][2] and narrow["decide"][0] == narrow["read"][0], narrow
    radios = page.evaluate(
        """() => [...document.querySelectorAll('.desk input[type=radio]')].map((r) => {
             const b = r.closest('label').getBoundingClientRect(); return [b.width, b.height]; })
           .filter(([w, h]) => w && h)"""
    )
    assert radios and all(w >= MIN_TARGET and h >= MIN_TARGET for w, h in radios), radios
    assert not page.evaluate(_SMALL_TARGETS)
    assert not axe_wait(page)
    page.screenshot(path=artifacts / "front_line_desk_360.png", full_page=True)
    context.close()
