"""``manage.py seed_demo``: a complete, realistic, idempotent demo city; bulk seekers for benchmarks."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import uscc

from accounts import second_factor
from accounts.models import (
    Area,
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    RealName,
    ReviewEvent,
    ServicePoint,
    User,
    WorkerProfile,
)
from accounts.validators import normalize_id_number
from core.models import AuditLog
from demo import demo_data
from hall import selectors as hall_selectors
from hall.models import SupplyDemandSnapshot
from insurance import claims as insurance_claims
from insurance import remittance
from insurance import services as insurance_services
from insurance.models import AccidentClaim, Policy
from insurance.payable import payable_balance
from jobs import money, selectors
from jobs import services as jobs_services
from jobs.contract import content_hash
from jobs.models import Claim, Contract, Order, OrderEvent, Post, Rating, Trade
from jobs.search import index_tokens, query_tokens
from notifications.models import Message
from tests.accounts.rebuild import count_candidates, masks_in, revealed_positions
from wallet.selectors import reconcile

pytestmark = pytest.mark.django_db

COUNTED = [
    Area,
    ServicePoint,
    Trade,
    CertificateType,
    User,
    WorkerProfile,
    WorkerProfile.wanted_trades.through,
    RealName,
    Employer,
    EmployerMember,
    Certificate,
    ReviewEvent,
    Message,
    AuditLog,
    Group,
    Post,
    Claim,
    Order,
    OrderEvent,
    Contract,
    Rating,
    SupplyDemandSnapshot,
]


def seed(*args: str) -> str:
    """seed_demo as scripts/run calls it, with 12 days of history (a deal every third day: 4) unless the
    test asks for the real 90: the history goes through the real services, a few seconds per 90 days."""
    out = io.StringIO()
    if "--history-days" not in args:
        args = ("--history-days", "12", *args)
    call_command("seed_demo", "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    """Row counts of what a re-run must not add to. The dashboard's daily snapshots are left out: today's
    is rewritten from the live figures on every run, and a run on a later day adds the days between
    (test_three_districts_and_ninety_days_of_history_for_the_dashboard checks those)."""
    return {
        model._meta.label: model.objects.count() for model in COUNTED if model is not SupplyDemandSnapshot
    }


def test_city_network_catalogue_and_people():
    seed()
    assert Trade.objects.count() >= 40
    restricted = dict(
        Trade.objects.filter(certificate_type__isnull=False).values_list("name", "certificate_type__code")
    )
    assert restricted["电焊工"] == "welding"
    assert restricted["电工"] == "electrician"
    assert restricted["高空作业"] == restricted["外墙清洗"] == restricted["架子工"] == "work-at-height"
    assert restricted["空调安装维修"] == "refrigeration"
    assert Trade.objects.get(name="保洁").risk_class == 2
    assert Trade.objects.get(name="电焊工").risk_class == 5
    assert Trade.objects.get(name="高空作业").risk_class == 6
    assert set(Trade.objects.values_list("risk_class", flat=True)) <= {1, 2, 3, 4, 5, 6}

    # "1+17+N": one district market, 17 street/town markets, village stations under each
    assert set(Area.objects.values_list("level", flat=True)) == {"district", "street", "village"}
    assert all(re.fullmatch(r"\d{12}", code) for code in Area.objects.values_list("code", flat=True))
    assert not Area.objects.filter(lat__isnull=True).exists()
    district = ServicePoint.objects.get(kind="district_market")
    markets = ServicePoint.objects.filter(kind="street_market")
    assert markets.count() == 17 and set(markets.values_list("parent", flat=True)) == {district.pk}
    stations = ServicePoint.objects.filter(kind="village_station").select_related("parent", "area__parent")
    assert stations.count() >= 34
    for station in stations:
        assert station.parent.kind == "street_market"
        assert station.area.level == "village" and station.area.parent_id == station.parent.area_id

    # employers: every kind and every status, valid credit codes, members
    pairs = set(Employer.objects.values_list("kind", "status"))
    assert {k for k, _ in pairs} == set(Employer.Kind.values)
    assert {s for _, s in pairs} == set(Employer.Status.values)
    for code in Employer.objects.exclude(uscc=None).values_list("uscc", flat=True):
        assert uscc.is_valid(code), code
    assert Employer.objects.filter(kind="household", uscc=None).count() == 3
    assert Employer.objects.filter(status="rejected").exclude(reject_reason="").count() == 2
    assert EmployerMember.objects.filter(employer__name="青溪市宏建建筑工程有限公司").count() == 2

    # seekers: profiles, real-names in every state, certificates pending and approved
    assert set(RealName.objects.values_list("status", flat=True)) == {"pending", "verified", "rejected"}
    assert set(Certificate.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    profile = User.objects.get(phone="13500000003").worker_profile
    assert profile.wanted_trades.count() == 3 and profile.skills and profile.expected_pay_fen
    assert profile.area.level == "village"
    assert User.objects.filter(is_active=False, registered_by__isnull=False).count() == 2
    assert WorkerProfile.objects.filter(help_tier__gt=0).count() >= 3


def test_demo_logins_exist_authenticate_and_are_printed():
    output = seed()
    request = RequestFactory().post("/login/")
    for login in demo_data.DEMO_LOGINS:
        user = authenticate(request, phone=login.phone, password="gigmarket-demo")
        assert user is not None and user.phone == login.phone, login.key
        assert re.search(rf"{login.role_label}\s+{login.phone}\s+gigmarket-demo\s+http", output)

    staff = User.objects.get(phone="13500000001")
    assert staff.is_staff and not staff.is_superuser and staff.service_point.kind == "district_market"
    assert staff.groups.filter(name="大厅工作人员").exists()
    for perm in ["accounts.change_realname", "accounts.change_employer", "accounts.register_on_behalf"]:
        assert staff.has_perm(perm)
    assert not staff.has_perm("accounts.view_full_id_number")
    mediator = User.objects.get(phone="13500000002")
    assert mediator.role == "mediator" and mediator.groups.filter(name="调解员").exists()
    assert User.objects.get(phone="13500000000").is_superuser
    employer = User.objects.get(phone="13500000004")
    owned = Employer.objects.get(memberships__user=employer, memberships__role="owner")
    assert owned.kind == "company" and owned.status == "approved"
    seeker = User.objects.get(phone="13500000003")
    assert seeker.is_verified and seeker.certificates.filter(status="approved").exists()

    # another password: the demo logins follow it on the next run
    seed("--password", "another-demo-pass")
    assert authenticate(request, phone="13500000001", password="another-demo-pass") is not None


def test_demo_staff_have_a_printed_authenticator_and_a_code_command():
    output = seed()
    staff = User.objects.get(phone="13500000001")
    device = TOTPDevice.objects.get(user=staff, confirmed=True)
    assert second_factor.secret_in_groups(device) in output
    for phone in ("13500000000", "13500000002", "13500000005"):  # superuser, mediator, station staff
        assert TOTPDevice.objects.filter(user__phone=phone, confirmed=True).exists()
    assert not TOTPDevice.objects.filter(user__phone__in=["13500000003", "13500000004"]).exists()

    out = io.StringIO()
    call_command("demo_otp_code", "13500000001", stdout=out)
    assert second_factor.second_factor_verify(user=staff, code=out.getvalue().strip()) == device
    with pytest.raises(CommandError):
        call_command("demo_otp_code", "13912345678")


def test_running_twice_changes_nothing():
    first = seed()
    before = counts()
    second = seed()
    assert counts() == before
    assert "新建：无" in second
    table = first[first.index("演示账号") :]
    assert table == second[second.index("演示账号") :]  # the printed table is stable


def test_bulk_workers_are_added_once():
    seed()
    before = User.objects.count()
    seed("--workers", "500", "--batch-size", "128")
    assert User.objects.count() == before + 500
    bulk = User.objects.filter(phone__startswith=demo_data.BULK_WORKER_PREFIX)
    assert bulk.count() == 500 and bulk.filter(role="seeker").count() == 500
    assert WorkerProfile.objects.filter(user__in=bulk).count() == 500
    assert not WorkerProfile.objects.filter(user__in=bulk, wanted_trades=None).exists()
    sample = bulk.order_by("phone").first()
    assert sample.check_password("gigmarket-demo")
    snapshot = list(bulk.order_by("phone").values_list("phone", "name", "service_point_id"))

    after = counts()
    seed("--workers", "500")
    assert counts() == after
    # a larger run keeps the first 500 as they were and adds only the rest
    seed("--workers", "700", "--employers", "30")
    assert bulk.count() == 700
    assert list(bulk.order_by("phone")[:500].values_list("phone", "name", "service_point_id")) == snapshot
    bulk_employers = Employer.objects.filter(created_by__phone__startswith=demo_data.BULK_EMPLOYER_PREFIX)
    assert bulk_employers.count() == 30
    assert all(uscc.is_valid(code) for code in bulk_employers.values_list("uscc", flat=True))
    seed("--workers", "700", "--employers", "30")
    assert bulk.count() == 700 and bulk_employers.count() == 30


def test_real_names_are_stored_encrypted():
    seed()
    records = {r.pk: r.id_number for r in RealName.objects.all()}  # decrypted by the field
    assert len(records) >= 15
    for number in records.values():
        normalize_id_number(number)  # valid IDs
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number, id_index, id_masked FROM accounts_realname")
        rows = cursor.fetchall()
    for pk, stored, index, masked in rows:
        plain = records[pk]
        assert plain not in stored and plain[6:14] not in stored
        assert plain not in index and re.fullmatch(r"\d\*{16}[\dX]", masked)
    # and not in the other text columns that could pick one up
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body FROM notifications_message UNION ALL SELECT number FROM accounts_certificate"
        )
        text = " ".join(row[0] for row in cursor.fetchall())
    assert not any(number in text for number in records.values())


def test_no_demo_real_name_can_be_rebuilt_from_its_row():
    # The issue rebuilt 21 of 21 demo IDs to 1–3 candidates from the mask and the plain birth date.
    seed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_realname")
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert len(rows) >= 15
    counts = {}
    for row in rows:
        plain = [str(v) for k, v in row.items() if k not in ("id_number", "id_index")]
        known = revealed_positions(masks_in(" ".join(plain)))
        key = (tuple(sorted(known.items())), row["birth_year"])
        if key not in counts:
            counts[key] = count_candidates(known=known, birth_years=[row["birth_year"]])
        assert counts[key] >= 10_000, row["id_masked"]


# --------------------------------------------------------------------------------------------- jobs


def test_the_board_has_varied_open_posts_in_the_coming_days():
    seed()
    now = timezone.now()
    page = selectors.board(selectors.BoardQuery(limit=50))
    demo = [p for p in page.posts if p.title in {s.title for s in demo_data.BOARD_POSTS}]
    assert len(demo) == len(demo_data.BOARD_POSTS) >= 12
    assert {p.mode for p in demo} == {"grab", "apply"}
    assert any(p.trade.certificate_type_id for p in demo)  # restricted trades are on the board
    assert len({p.trade_id for p in demo}) >= 12
    assert len({p.area.parent_id if p.area.level == "village" else p.area_id for p in demo}) >= 6
    for post in demo:
        assert now < post.starts_at < now + dt.timedelta(days=10)
        assert post.ends_at > post.starts_at and post.pay_fen > 0 and post.search_tokens
        assert post.employer.status == "approved" and post.district.level == "district"
        assert 26.0 < post.lat < 27.0 and 117.8 < post.lng < 118.6
    weld = selectors.board(selectors.BoardQuery(q="焊"))
    assert any(p.title.startswith("城关体育馆") for p in weld.posts)
    # published through the service: every open slot's pay (and premium) is set aside
    for post in demo:
        pay, premium = money.per_order_cost(post)
        assert money.post_hold(post).balance_fen == (pay + premium) * post.slots_left > 0


def test_demo_seeker_and_employer_have_orders_in_every_stage():
    seed()
    seeker = User.objects.get(phone=demo_data.DEMO_SEEKER)
    orders = {o.post.title: o for o in selectors.orders_for_worker(user=seeker)}
    # Two finished orders; the demo seeker has a wage case open on one of them (seed_hall), which holds it.
    finished = [o for o in orders.values() if o.status in ("completed", "disputed")]
    assert sorted(o.status for o in finished) == ["completed", "disputed"]
    case = finished[0].cases.get() if finished[0].status == "disputed" else finished[1].cases.get()
    assert case.status == "accepted" and case.mediator.phone == "13500000002"
    for order in finished:
        assert order.starts_at < timezone.now() - dt.timedelta(days=7)
        assert order.checked_in_at < order.starts_at < order.checked_out_at < order.completed_at
        assert order.amount_fen == order.post.pay_fen
        assert order.contract.is_signed and order.contract.content_hash == content_hash(order.contract.body)
        assert f"{timezone.localtime(order.starts_at):%Y年%m月%d日}" in order.contract.body
        assert order.ratings.count() == 2
        assert [e.to_status for e in order.events.all()][:4] == [
            "confirmed",
            "checked_in",
            "checked_out",
            "completed",
        ]
    upcoming = orders["城关体育馆看台钢结构焊接 急招3名"]
    assert upcoming.status == "confirmed" and upcoming.starts_at > timezone.now()
    assert not upcoming.contract.is_signed  # left for the demo to confirm with an SMS code
    stats = selectors.worker_stats(user=seeker)
    assert stats.completed == 2 and stats.stars == 4.5
    assert Claim.objects.filter(worker=seeker, status="pending").count() == 1

    boss = User.objects.get(phone="13500000004")
    employer_orders = selectors.orders_for_employer_member(user=boss)
    assert {o.status for o in employer_orders} == {"confirmed", "completed", "disputed"}
    assert employer_orders.filter(worker=seeker).count() == 3
    apply_post = Post.objects.get(title="南湖工业园厂房贴砖 瓦工3名")
    assert [c.worker for c in selectors.applicants(post=apply_post)] == [seeker]


def test_a_later_run_moves_stale_demo_posts_and_their_orders():
    seed()
    before = counts()
    history = Post.objects.filter(title__startswith=demo_data.HISTORY_TITLE_PREFIX)
    history_before = history.count()
    welding = Post.objects.get(title="城关体育馆看台钢结构焊接 急招3名")
    old_start = welding.starts_at
    with time_machine.travel(timezone.now() + dt.timedelta(days=6), tick=True):
        output = seed()
        now = timezone.now()
        # Six days later the history gains its deals of those days (one every HISTORY_DEAL_EVERY days),
        # each one post, claim, order and contract; the rest of the city is moved, never added to.
        after = counts()
        added = history.count() - history_before
        assert added == 6 // demo_data.HISTORY_DEAL_EVERY
        for label in ("jobs.Post", "jobs.Claim", "jobs.Order", "jobs.Contract"):
            assert after[label] - before[label] == added, label
        grown = {"jobs.OrderEvent", "notifications.Message"} | {
            k for k in before if k.startswith("disputes.")
        }
        assert all(after[k] >= before[k] for k in grown)
        assert {k: v for k, v in after.items() if k not in grown and not k.startswith("jobs.")} == {
            k: v for k, v in before.items() if k not in grown and not k.startswith("jobs.")
        }
        before = after
        assert "更新：岗位开工时间" in output
        page = selectors.board(selectors.BoardQuery(limit=50))
        titles = {p.title for p in page.posts}
        assert {s.title for s in demo_data.BOARD_POSTS} <= titles
        welding.refresh_from_db()
        assert (
            welding.starts_at > now
            and (welding.starts_at - old_start) % dt.timedelta(days=1) == dt.timedelta()
        )
        for order in Order.objects.filter(post=welding):
            assert order.starts_at == welding.starts_at and order.status == "confirmed"
            contract = order.contract
            assert contract.content_hash == content_hash(contract.body) and not contract.is_signed
            assert f"{timezone.localtime(welding.starts_at):%Y年%m月%d日 %H:%M}" in contract.body
        # finished orders stay in the past
        past = Order.objects.filter(
            status__in=("completed", "disputed"), starts_at__lt=now - dt.timedelta(days=7)
        ).exclude(post__title__startswith=demo_data.HISTORY_TITLE_PREFIX)
        assert past.count() == 2
        again = seed()
        assert "更新" not in again and counts() == before


def test_bulk_posts_are_added_once_deterministically_and_searchable():
    seed()
    seed("--posts", "300", "--batch-size", "128")
    bulk = Post.objects.filter(contact_phone__startswith=demo_data.BULK_POST_PREFIX)
    assert bulk.count() == 300 and set(bulk.values_list("status", flat=True)) == {"open"}
    fields = ("contact_phone", "title", "trade__name", "pay_fen", "area__code", "lat", "lng", "mode")
    snapshot = list(bulk.order_by("contact_phone").values_list(*fields))
    now = timezone.now()
    for post in bulk.select_related("trade", "area", "district", "employer"):
        assert post.search_tokens == index_tokens(
            post.title, post.trade.name, post.description, post.area.name
        )
        assert now < post.starts_at < now + dt.timedelta(days=47) and post.ends_at > post.starts_at
        assert (
            abs(post.lat - float(demo_data.CENTER[0])) < 0.3
            and abs(post.lng - float(demo_data.CENTER[1])) < 0.3
        )
        assert post.employer.status == "approved" and post.district.level == "district"
        assert post.slots_left == post.slots and post.published_at < now
    assert len({p[2] for p in snapshot}) > 20 and len({p[4] for p in snapshot}) > 20  # trades, areas spread
    assert len({round(p[5], 2) for p in snapshot}) > 10
    # each bulk post has its money set aside as publishing would
    for post in bulk.select_related("trade"):
        pay, premium = money.per_order_cost(post)
        assert money.post_hold(post).balance_fen == (pay + premium) * post.slots

    seed("--posts", "300")
    assert bulk.count() == 300
    seed("--posts", "350")
    assert bulk.count() == 350
    assert list(bulk.order_by("contact_phone")[:300].values_list(*fields)) == snapshot

    # search over the bulk posts goes through the same index as the site's posts
    sample = bulk.order_by("contact_phone").select_related("trade").first()
    found = selectors.board(selectors.BoardQuery(q=sample.trade.name, limit=50))
    assert sample.pk in {p.pk for p in found.posts} or len(found.posts) == 50
    wanted = set(query_tokens(sample.trade.name))
    assert found.posts and all(wanted <= set(p.search_tokens.split()) for p in found.posts)

    # stale bulk posts move forward by whole weeks on the next run
    stale = list(bulk.order_by("contact_phone")[:5])
    Post.objects.filter(pk__in=[p.pk for p in stale]).update(
        starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(days=3) + dt.timedelta(hours=8)
    )
    output = seed("--posts", "350")
    assert "更新：批量岗位开工时间 5" in output
    for post in Post.objects.filter(pk__in=[p.pk for p in stale]):
        assert post.starts_at > timezone.now()
        assert (post.starts_at - (now - dt.timedelta(days=3))) % dt.timedelta(weeks=1) == dt.timedelta()


def test_expired_demo_posts_stay_as_history_and_fresh_ones_replace_them():
    seed()
    titles = [spec.title for spec in demo_data.BOARD_POSTS]
    with time_machine.travel(timezone.now() + dt.timedelta(days=12), tick=True):
        assert jobs_services.posts_expire() >= len(titles)
        jobs_services.orders_mark_no_show()
        output = seed()
        assert f"岗位 {len(titles)}" in output
        now = timezone.now()
        for title in titles:
            assert Post.objects.get(title=title, status="expired").starts_at < now  # history kept
            fresh = Post.objects.get(title=title, status__in=["open", "filled"])
            assert fresh.starts_at > now
            pay, premium = money.per_order_cost(fresh)
            assert money.post_hold(fresh).balance_fen == (pay + premium) * fresh.slots_left
        seeker = User.objects.get(phone=demo_data.DEMO_SEEKER)
        upcoming = Order.objects.get(worker=seeker, status="confirmed")
        assert upcoming.post.title == "城关体育馆看台钢结构焊接 急招3名" and upcoming.starts_at > now
        assert "新建：无" in seed()


def test_every_demo_record_has_a_point_and_the_station_clerk_sees_only_their_station():
    """Issue 22: the demo village-station clerk listed every user, employer, certificate, case and message."""
    from core.scoping import objects_visible_to
    from disputes.models import Case

    seed()
    assert not User.objects.filter(service_point__isnull=True, is_superuser=False).exists()
    for model in (Employer, Post, Case):
        assert not model.objects.filter(service_point__isnull=True).exists(), model
    clerk = User.objects.get(phone="13500000005")
    station = clerk.service_point
    assert station.kind == ServicePoint.Kind.VILLAGE_STATION
    users = objects_visible_to(clerk, User.objects.all())
    assert users.exists() and set(users.values_list("service_point", flat=True)) == {station.pk}
    for model, path in [(Employer, "service_point"), (Certificate, "user__service_point"),
                        (Case, "service_point"), (Message, "recipient__service_point")]:  # fmt: skip
        points = set(objects_visible_to(clerk, model.objects.all()).values_list(path, flat=True))
        assert points <= {station.pk}, model
    district_staff = User.objects.get(phone="13500000001")
    assert objects_visible_to(district_staff, Employer.objects.all()).count() == Employer.objects.count()


def test_demo_staff_watch_premiums_reach_the_insurer_and_a_claim_come_back_paid():
    seed()
    seed()  # idempotent: still one demo claim
    for pk in Policy.objects.filter(status="pending").values_list("pk", flat=True):
        insurance_services.policy_issue(policy_id=pk)  # what the after-commit task does
    claim = AccidentClaim.objects.get()
    assert claim.status == "reported" and claim.policy.order.worker.phone == demo_data.DEMO_SEEKER
    staff = User.objects.get(phone="13500000001")
    insurance_services.claim_review_start(claim=claim, actor=staff)
    insurance_claims.claim_forward(claim=claim, actor=staff)
    insurance_claims.claim_submit(claim_id=claim.pk)  # what the after-commit task does
    claim = insurance_claims.local_insurer_decide(
        claim=claim, actor=staff, decision="paid", amount_fen=2_800_00
    )
    assert claim.status == "approved" and claim.payout_fen == 2_800_00

    collected = payable_balance()
    assert collected > 0  # the demo's insured shifts
    day = remittance.remittance_open(day=timezone.localdate())
    day = remittance.remittance_run(remittance_id=day.pk)
    assert day.status == "settled" and day.policy_count >= 2 and day.amount_fen <= collected
    assert staff.has_perm("insurance.change_remittance")
    assert reconcile() == []


def test_three_districts_and_ninety_days_of_history_for_the_dashboard():
    """The hall's charts compare districts and draw trends: the demo city has three districts with posts
    and seekers in each, and a daily snapshot for each of the last 90 days."""
    seed("--history-days", str(demo_data.HISTORY_DAYS))
    districts = Area.objects.filter(level="district")
    assert districts.count() >= 3
    assert set(Area.objects.filter(level="street").values_list("parent__level", flat=True)) == {"district"}
    scope = hall_selectors.Scope(point_ids=None, area_ids=None, point=None, label="")
    cells = hall_selectors.supply_demand_cells(scope=scope)
    by_district = hall_selectors.by_district(cells)
    assert len([row for row in by_district if row["seekers"] or row["openings"]]) >= 3
    today = timezone.localdate()
    start = today - dt.timedelta(days=demo_data.HISTORY_DAYS)
    days = set(SupplyDemandSnapshot.objects.values_list("day", flat=True))
    past = {start + dt.timedelta(days=n) for n in range(demo_data.HISTORY_DAYS)}
    assert past <= days and days - past <= {today}  # today's own snapshot may be taken too
    history = hall_selectors.history(scope=scope, start=start, end=today, live=cells)
    assert len(history) == demo_data.HISTORY_DAYS + 1
    # A trend, not a flat line: it varies, and the market grew (the first week below the last). The number
    # of distinct daily totals depends on the day the test runs (rounded per-cell figures): 9-12 seen.
    assert len({row["seekers"] for row in history}) >= 6
    first, last = history[:7], history[-8:-1]
    assert sum(r["seekers"] for r in first) < sum(r["seekers"] for r in last)
    # Every post's district is its area's district (the towns were spread over three districts).
    district_of = hall_selectors.district_of_areas()
    assert all(district_of[a] == d for a, d in Post.objects.values_list("area_id", "district_id"))


def test_ninety_days_of_finished_paid_orders_and_closed_cases_that_reconcile():
    """The dashboard's period figures come from real rows: a finished, paid order every third day of the
    last 90 (the three districts in turn) and a closed wage case on every tenth; the books the services
    wrote reconcile; a run days later adds only the new days."""
    from disputes.models import Case
    from jobs.models import Order
    from jobs.reconcile import reconcile_orders
    from wallet.selectors import reconcile as reconcile_ledger

    seed("--history-days", str(demo_data.HISTORY_DAYS))
    today = timezone.localdate()
    days = [
        today - dt.timedelta(days=n)
        for n in range(demo_data.HISTORY_DAYS, 0, -1)
        if (today - dt.timedelta(days=n)).toordinal() % demo_data.HISTORY_DEAL_EVERY == 0
    ]
    orders = Order.objects.filter(post__title__startswith=demo_data.HISTORY_TITLE_PREFIX).select_related(
        "post"
    )
    assert len(orders) == len(days) == demo_data.HISTORY_DAYS // demo_data.HISTORY_DEAL_EVERY
    assert sorted(timezone.localtime(o.starts_at).date() for o in orders) == days
    assert all(o.status == Order.Status.COMPLETED and o.paid_fen == o.amount_fen > 0 for o in orders)
    assert all(o.confirmed_at < o.checked_in_at < o.checked_out_at < o.completed_at for o in orders)
    assert len({o.post.district_id for o in orders}) == 3
    cases = Case.objects.filter(order__in=orders)
    assert cases.count() == len([d for d in days if (d.toordinal() // 3) % demo_data.HISTORY_CASE_EVERY == 0])
    assert cases.count() >= 2 and set(cases.values_list("status", flat=True)) == {Case.Status.CLOSED}
    assert all(c.filed_at.date() < today - dt.timedelta(days=5) for c in cases)
    assert reconcile_ledger() == [] and reconcile_orders() == []

    scope = hall_selectors.Scope(point_ids=None, area_ids=None, point=None, label="")
    since, until = hall_selectors._bounds(today - dt.timedelta(days=89), today)
    assert hall_selectors.deal_figures(scope=scope, since=since, until=until)["completed"] >= len(days)

    with time_machine.travel(timezone.now() + dt.timedelta(days=6)):
        before = set(orders.values_list("pk", flat=True))
        out = seed()
        later = set(
            Order.objects.filter(post__title__startswith=demo_data.HISTORY_TITLE_PREFIX).values_list(
                "pk", flat=True
            )
        )
        assert before < later and len(later - before) == 2, out  # the two new third days, nothing else
        assert reconcile_ledger() == [] and reconcile_orders() == []
