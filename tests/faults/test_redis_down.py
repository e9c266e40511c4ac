"""Redis stops mid-flow (docs/bad-days.md): a real ``redis-server`` of the test's own is the cache and the
broker, a real Celery worker delivers SMS to a fake provider. With Redis killed, every page and API
endpoint a user needs still answers (only /healthz says 503), rate limits count in the database, login by
code works, a claim and a publish commit and report success. Redis comes back empty; without beat and
without the test's help, the worker's own sweeps deliver every queued message, each exactly once."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections import Counter

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import PhoneCode
from core import throttling
from core.models import RateCounter
from jobs.models import Claim, Post
from matching.models import PostPush
from notifications.models import Message
from notifications.templates_registry import TEMPLATES
from tests.celery_worker import delete_keys, kill, new_prefix, start_worker, worker_env
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    ServicePointFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)
from tests.outage import celery_broker, use_cache

from .conftest import Probe

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]


def _wait(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _tail(path) -> str:
    return path.read_text()[-12000:]


def _code_received(gateway, phone: str) -> str:
    """The code in the newest login-code SMS the provider took for this phone (as the phone shows it)."""
    provider_code = TEMPLATES["phone_code"].provider_code
    sms = [m for m in gateway.received if m["phone"] == phone and m["template"] == provider_code]
    assert sms, f"no code reached {phone}"
    params = sms[-1]["params"]
    return (json.loads(params) if isinstance(params, str) else params)["code"]


def _sms_unsent() -> int:
    return Message.objects.filter(channel=Message.Channel.SMS).exclude(status=Message.Status.SENT).count()


@pytest.mark.django_db(transaction=True)
def test_redis_killed_mid_flow(redis_server, gateway, settings, monkeypatch, tmp_path):
    prefix = new_prefix("faults")
    use_cache(settings, redis_server.url, prefix)
    # This process sends through the same provider as the worker: a login code that cannot be queued while
    # the broker is down is sent by the request itself.
    settings.SMS_BACKEND, settings.SMS_HTTP_URL = "aliyun", gateway.url
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET = gateway.key_id, gateway.secret
    settings.SMS_RATE_PER_SECOND = 2000
    settings.BOARD_CACHE_SECONDS, settings.BOARD_LOCAL_CACHE_SECONDS = 5, 1
    # The API throttles on, as in production (the test settings switch them off).
    monkeypatch.setattr(
        APIView, "throttle_classes", [throttling.AnonRateThrottle, throttling.UserRateThrottle]
    )

    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    point = ServicePointFactory(area=street)
    trade = TradeFactory(name="小工", category="construction", risk_class=2)
    boss = UserFactory(phone="13700000001", name="陈老板", role="employer")
    employer = EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")
    post = PostFactory(
        employer=employer, trade=trade, area=street, district=street, slots=5, title="工地小工"
    )
    start = timezone.now() + dt.timedelta(days=2)
    draft = PostFactory(
        employer=employer, trade=trade, area=street, district=street, status=Post.Status.DRAFT,
        published_at=None, title="明天的保洁", starts_at=start, ends_at=start + dt.timedelta(hours=8),
    )  # fmt: skip
    early, web_user, api_user = (verified_seeker(phone=f"1360000500{i}", name=f"工人{i}") for i in range(3))

    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = None
    try:
        worker = start_worker(
            worker_env(redis_url=redis_server.url, prefix=prefix, gateway=gateway), "faults@%h", log=log
        )
        with celery_broker(redis_server.url, prefix):
            # --- Redis up: a claim, its messages delivered by the worker as usual.
            early_client = Client()
            early_client.force_login(early)
            assert early_client.post(f"/jobs/{post.pk}/claim/").status_code == 302
            assert _wait(lambda: _sms_unsent() == 0 and Message.objects.exists(), 60), (
                "worker never delivered"
            )
            delivered_before = len(gateway.received)

            # --- Redis dies.
            redis_server.stop()
            probe = Probe("Redis down")
            anon = Client()
            for name, url in [
                ("home page", "/"), ("board page", "/jobs/"), ("board search", "/jobs/?q=小工"),
                ("post page", f"/jobs/{post.pk}/"), ("login page", "/login/"),
                ("big screen", f"/hall/screen/{point.pk}/"), ("big screen data", f"/hall/screen/{point.pk}/data.json"),
                ("API board", "/api/v1/posts/"), ("API post (throttled)", f"/api/v1/posts/{post.pk}/"),
            ]:  # fmt: skip
                probe(name, lambda url=url: anon.get(url))
            health = probe("healthz", lambda: anon.get("/healthz"), expect=(503,))
            assert health.json() == {"status": "error", "database": "ok", "cache": "error"}

            # Login by code on the web, then the seeker's pages and 抢单.
            web = Client()
            probe("web: request login code", lambda: web.post("/code/login/", {"phone": web_user.phone}))
            code = _code_received(gateway, web_user.phone)
            probe(
                "web: log in by code",
                lambda: web.post("/login/", {"way": "code", "phone": web_user.phone, "code": code}),
                expect=(302,),
            )
            for name, url in [
                ("为你推荐", "/matching/"),
                ("my orders", "/jobs/me/"),
                ("inbox", "/notifications/"),
            ]:
                probe(name, lambda url=url: web.get(url))
            probe("web: 抢单", lambda: web.post(f"/jobs/{post.pk}/claim/"), expect=(302,))
            assert Claim.objects.filter(worker=web_user, post=post).exists()

            # The same through the API.
            api = APIClient()
            probe(
                "API: request login code",
                lambda: api.post(
                    "/api/v1/auth/codes/", {"phone": api_user.phone, "purpose": "login"}, format="json"
                ),
                expect=(201,),
            )
            code = _code_received(gateway, api_user.phone)
            token = probe(
                "API: log in by code",
                lambda: api.post(
                    "/api/v1/auth/login/", {"phone": api_user.phone, "code": code}, format="json"
                ),
            ).json()["token"]
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            probe("API: me", lambda: api.get("/api/v1/me/"))
            probe(
                "API: 抢单",
                lambda: api.post(f"/api/v1/posts/{post.pk}/claims/", {}, format="json"),
                expect=(201,),
            )
            assert Claim.objects.filter(worker=api_user, post=post).exists()

            # The employer publishes a post (money set aside, the push to seekers queued).
            employer_api = APIClient()
            employer_api.force_authenticate(boss)
            published = probe(
                "API: publish a post", lambda: employer_api.post(f"/api/v1/my/posts/{draft.pk}/publish/")
            )
            assert published.json()["status"] == "open"
            boss_web = Client()
            boss_web.force_login(boss)
            probe("employer: my posts", lambda: boss_web.get("/jobs/employer/posts/"))

            assert PhoneCode.objects.filter(phone__in=[web_user.phone, api_user.phone]).count() == 2
            assert RateCounter.objects.exists()  # the limits were counted in the database
            waiting = _sms_unsent()
            assert waiting >= 2  # at least the two claims' messages: committed, not yet sent
            codes = Message.objects.filter(
                phone__in=[web_user.phone, api_user.phone], secret_until__isnull=False
            )
            assert set(codes.values_list("status", flat=True)) == {Message.Status.SENT}  # sent by the request
            print("\n" + probe.report())
            assert max(t for *_, t in probe.rows) < 3.0, probe.report()

            # --- Redis comes back, empty. No beat, and the test sends nothing: the worker's sweeps deliver.
            back = time.monotonic()
            redis_server.start()
            delivered = _wait(lambda: _sms_unsent() == 0, 120, step=0.5)
            assert delivered, (
                Counter(Message.objects.values_list("status", flat=True)),
                _tail(tmp_path / "worker.log"),
            )
            recovered = time.monotonic() - back
            # The published post's push to seekers, lost with the broker, is re-found by the worker's sweep.
            assert _wait(lambda: PostPush.objects.filter(post=draft, wave=1).exists(), 30), _tail(
                tmp_path / "worker.log"
            )
            assert _wait(lambda: _sms_unsent() == 0, 30)
            time.sleep(5)  # two more sweeps: nothing may go out twice
            print(f"Redis back: {waiting} queued SMS delivered {recovered:.1f} s after the restart")
    finally:
        kill(worker)
        log.close()
        with contextlib.suppress(Exception):  # the server may be the one that failed
            delete_keys(redis_server.url, prefix)

    sent = Counter(
        (phone, TEMPLATES[template].provider_code)
        for phone, template in Message.objects.filter(channel=Message.Channel.SMS).values_list(
            "phone", "template"
        )
    )
    received = Counter((m["phone"], m["template"]) for m in gateway.received)
    assert received == sent  # every SMS arrived, and exactly once
    assert len(gateway.received) > delivered_before
