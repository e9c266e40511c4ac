"""``manage.py seed_demo``: a demo city (青溪市) with its "1+17+N" service network, the trade catalogue,
vetted and unvetted employers, seekers, open posts on the board, the demo seeker's orders with the demo
employer, and a fixed set of demo logins; optionally many more seekers, employers and posts for benchmarks.

Idempotent: every object is looked up by a natural key (area code, name, phone, owner; a post by its
employer and title) and only created when missing, so a second run changes nothing. The named people,
employers, posts, claims and orders go through the account and jobs services (real-name encryption, blind
index, review events, guarded slot updates, order events, contracts, SMS outbox), exactly as the site would
write them. Demo posts start a few days after the run; a later run moves a post that has gone stale (or
expired) to its next date, together with its still-confirmed orders and their unsigned contracts. Finished
demo orders are played through the services today and then moved back into the past.

The bulk rows (``--workers`` / ``--employers`` / ``--posts``) are written with ``bulk_create`` in batches
and one precomputed password hash, deterministic from a fixed seed; bulk posts are keyed by their contact
number (``152…`` + index) and a later run moves the stale ones forward by whole weeks.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import random
import sys
import unicodedata
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image, ImageDraw
from tqdm import tqdm

from accounts import second_factor, services
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
from core.errors import DomainError
from demo import demo_data as D
from disputes import services as dispute_services
from disputes.models import Case, CaseEvent
from hall import services as hall_services
from hall.models import SupplyDemandSnapshot
from hall.selectors import Scope, district_of_areas, supply_demand_cells
from insurance import services as insurance_services
from insurance.models import AccidentClaim, Policy
from insurance.premiums import premium_for_post
from jobs import services as jobs_services
from jobs.contract import content_hash, render_contract
from jobs.models import Claim, Contract, Order, OrderEvent, Post, Rating, Trade
from jobs.search import index_tokens
from matching.batch import recompute_city
from notifications import services as notification_services
from notifications.models import Message
from outreach import services as outreach_services
from outreach.models import Article, Course
from wallet import ledger
from wallet import services as wallet_services
from wallet.models import Account, LedgerTransaction

BULK_EPOCH = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


def _png(colour: tuple[int, int, int], *, seal: bool) -> bytes:
    """A plain stand-in for a photographed document: a framed page with grey "text" lines (and a red
    seal on licences). Pillow's default font has no Chinese glyphs, so there is no text."""
    image = Image.new("RGB", (480, 340), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, 471, 331], outline=colour, width=6)
    for y in range(70, 300, 28):
        draw.line([40, y, 440 if y % 3 else 300, y], fill=(150, 150, 150), width=4)
    if seal:
        draw.ellipse([330, 200, 430, 300], outline=(200, 30, 30), width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _display_width(text), 0)


def _batches(start: int, stop: int, size: int) -> Iterator[range]:
    for first in range(start, stop, size):
        yield range(first, min(first + size, stop))


def bulk_worker_draw(rng: random.Random, points: list, trades: list, specs: dict) -> tuple:
    """One bulk seeker's random facts, drawn in a fixed order (so index i is always the same person):
    name, service point, wanted trades, the first trade's spec, expected pay (fen), joined, availability,
    skills, travel distance (km), jitter of the position around the point (degrees). Also used by the
    matching bench's COPY loader (``bench/matching.py``), which writes the same people faster."""
    name = D.person_name(rng)
    point = rng.choice(points)
    wanted = rng.sample(trades, rng.choice((1, 1, 2, 2, 3)))
    spec = specs[wanted[0].name]
    low, high = spec.pay_range
    pay = rng.randint(low, high) * 100
    joined = BULK_EPOCH - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    availability = rng.choice(D.AVAILABILITY_CHOICES)
    skills = rng.sample(spec.skills, min(len(spec.skills), rng.choice((1, 2))))
    distance = rng.choice((5, 10, 20, 30, 50))
    jitter = (rng.uniform(-0.01, 0.01), rng.uniform(-0.01, 0.01))
    return name, point, wanted, spec, pay, joined, availability, skills, distance, jitter


class Command(BaseCommand):
    help = "Load the 青溪市 demo data (idempotent). --workers/--employers add bulk data for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default="gigmarket-demo",
            help="Password of every demo account (default %(default)s)",
        )
        parser.add_argument("--workers", type=int, default=0, help="Bulk seekers with profiles to ensure")
        parser.add_argument("--employers", type=int, default=0, help="Bulk employers (with owners) to ensure")
        parser.add_argument("--posts", type=int, default=0, help="Bulk open posts to ensure (benchmarks)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Used in the printed table of logins"
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars (tests, logs)")
        parser.add_argument(
            "--history-days",
            type=int,
            default=D.HISTORY_DAYS,
            help="Days of past deals and daily figures for the dashboard (default %(default)s)",
        )

    # ------------------------------------------------------------------------------------------ main

    def handle(self, *args, **options):
        if settings.SMS_BACKEND not in ("outbox", "console"):
            raise CommandError(
                "seed_demo would send real text messages to made-up numbers; "
                "run it with GIGMARKET_SMS_BACKEND=outbox (or console)."
            )
        if min(options["workers"], options["employers"], options["posts"]) < 0 or options["batch_size"] < 1:
            raise CommandError("--workers, --employers, --posts must be ≥ 0 and --batch-size ≥ 1")
        if options["history_days"] < 1:
            raise CommandError("--history-days must be ≥ 1")
        self.history_days = options["history_days"]
        self.no_progress = options["no_progress"]
        self.password = options["password"]
        self.password_hash = make_password(self.password)
        self.created: dict[str, int] = {}
        self.refreshed: dict[str, int] = {}

        # Eager Celery logs a line per delivered demo SMS, and the local simulated phone would print each
        # one: keep the output to the progress and the table.
        trace_logger = logging.getLogger("celery.app.trace")
        trace_level = trace_logger.level
        trace_logger.setLevel(logging.WARNING)
        try:
            with override_settings(SMS_PHONE_SIMULATOR=False):
                self._seed(options)
        finally:
            trace_logger.setLevel(trace_level)

    def _seed(self, options) -> None:
        # Real-names wait for staff review in the demo, whatever verifier the site is configured with.
        with override_settings(IDENTITY_VERIFIER="manual"), transaction.atomic():
            steps = [
                ("区域与服务网点", self.seed_network),
                ("证书类型与工种", self.seed_catalogue),
                ("角色与演示账号", self.seed_logins),
                ("求职者", self.seed_seekers),
                ("用工主体", self.seed_employers),
                ("代注册", self.seed_assisted),
                ("岗位与订单", self.seed_jobs),
                (f"{self.history_days}天成交与纠纷", self.seed_history_deals),
                ("培训、政策、回访、调解与大屏", self.seed_hall),
                (f"{self.history_days}天供需历史", self.seed_history),
            ]
            for _label, step in self._progress(steps, desc="演示数据", unit="步"):
                step()
        if options["workers"]:
            self.seed_bulk_workers(options["workers"], options["batch_size"])
        if options["employers"]:
            self.seed_bulk_employers(options["employers"], options["batch_size"])
        if options["posts"]:
            self.seed_bulk_posts(options["posts"], options["batch_size"])

        if options["workers"] or options["posts"]:
            self.stdout.write("推荐（活找人）：大批数据请另行运行 manage.py matching_recompute")
        else:
            recompute_city(progress=False, processes=1)  # 为你推荐 and the digest start from this
        summary = "，".join(f"{k} {v}" for k, v in self.created.items() if v) or "无（数据已齐全）"
        self.stdout.write(f"新建：{summary}")
        if any(self.refreshed.values()):
            self.stdout.write("更新：" + "，".join(f"{k} {v}" for k, v in self.refreshed.items() if v))
        self.print_logins(options["base_url"].rstrip("/"))

    # ------------------------------------------------------------------------------------ history

    def seed_history(self) -> None:
        """The dashboard's trends need days behind today: a daily supply/demand snapshot for each of the
        last ``HISTORY_DAYS`` days, as the beat task would have written them. Each (trade, area) cell of
        today's live figures is walked back in time: fewer seekers further back (the market grew as
        villages were registered), openings with the building season and a weekly rhythm (fewer posts on
        Sundays), and a reproducible wobble, so the lines meet today's live figures. Days already present
        are kept (idempotent)."""
        today = timezone.localdate()
        first = today - dt.timedelta(days=self.history_days)
        have = set(
            SupplyDemandSnapshot.objects.filter(day__gte=first, day__lt=today).values_list("day", flat=True)
        )
        # Only days after the last one written: a day whose cells all rounded to nothing has no row, and
        # must not be written again by a later run (with other live figures behind it).
        since = max(have) if have else first - dt.timedelta(days=1)
        days = [first + dt.timedelta(days=n) for n in range(self.history_days)]
        days = [day for day in days if day > since]
        if not days:
            return
        cells = supply_demand_cells(
            scope=Scope(point_ids=None, area_ids=None, point=None, label=""), day=today
        )
        rows = []
        for day in days:
            back = (today - day).days / self.history_days  # 0 today … 1 the first day
            season = 1 + 0.25 * math.sin((day.timetuple().tm_yday / 365) * 2 * math.pi)
            weekly = 0.55 if day.weekday() == 6 else 1.1 if day.weekday() in (0, 1) else 1.0
            for (trade_id, area_id), today_cell in cells.items():
                rng = random.Random(f"history:{day}:{trade_id}:{area_id}")  # noqa: S311 - demo data
                seekers = today_cell["seekers"] * (1 - 0.45 * back) * rng.uniform(0.8, 1.2)
                openings = today_cell["openings"] * season * weekly * rng.uniform(0.6, 1.4)
                seekers, openings = round(seekers), round(openings)
                if not seekers and not openings:
                    continue
                rows.append(
                    SupplyDemandSnapshot(
                        day=day,
                        trade_id=trade_id,
                        area_id=area_id,
                        seekers=seekers,
                        openings=openings,
                        posts_open=max(1, openings // 3) if openings else 0,
                    )
                )
        SupplyDemandSnapshot.objects.bulk_create(rows, batch_size=2000)
        self._count("供需日快照", len(rows))

    def seed_history_deals(self) -> None:
        """Real rows behind the dashboard's period figures: every ``HISTORY_DEAL_EVERY`` days of the last
        ``HISTORY_DAYS``, a finished, paid order (one demo employer's post, the three districts in turn,
        one of the verified demo seekers), played through the services and moved to its day
        (:meth:`_play_finished`); every ``HISTORY_CASE_EVERY``-th of them also a wage case that was filed,
        accepted, not settled by mediation and closed. Each day's post is found again by its title, which
        carries the date: a later run adds only the days that are missing."""
        if not self.demo_employers:
            return
        today = timezone.localdate()
        staff = self.logins["staff"]
        mediator = self.logins["mediator"]
        workers = list(
            User.objects.filter(
                phone__in=[s.phone for s in D.HISTORY_WORKERS], realname__status="verified"
            ).order_by("phone")
        )
        if not workers:
            return
        employers = sorted(self.demo_employers.values(), key=lambda pair: pair[0].pk)
        have = set(
            Post.objects.filter(title__startswith=D.HISTORY_TITLE_PREFIX).values_list("title", flat=True)
        )
        for n in range(self.history_days, 0, -1):
            day = today - dt.timedelta(days=n)
            if day.toordinal() % D.HISTORY_DEAL_EVERY:  # fixed days, whichever day the command runs
                continue
            index = day.toordinal() // D.HISTORY_DEAL_EVERY  # the same day always gets the same choices
            spec = D.HISTORY_WORKERS[index % len(D.HISTORY_WORKERS)]
            worker = next((w for w in workers if w.phone == spec.phone), None)
            district = D.DISTRICTS[(index + index // len(D.HISTORY_WORKERS)) % len(D.DISTRICTS)]
            town = district.towns[index % len(district.towns)]
            title = f"{D.HISTORY_TITLE_PREFIX}{spec.trade}（{day.month}月{day.day}日）"
            if worker is None or title in have:
                continue
            employer, owner = employers[(index // len(D.HISTORY_WORKERS)) % len(employers)]
            area = self.town_areas[town]
            start = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))
            fields = {
                "trade": self.trades[spec.trade], "title": title,
                "description": f"{spec.trade}，按天计，当天结算。", "pay_fen": spec.pay_fen, "pay_unit": "day",
                "quantity": Decimal("1"), "slots": 1, "area": area, "address": f"{area.name}村委会旁",
                "lat": float(area.lat), "lng": float(area.lng), "starts_at": start,
                "ends_at": start + dt.timedelta(hours=9), "mode": "grab", "insurance_required": False,
                "contact_name": owner.name, "contact_phone": owner.phone,
            }  # fmt: skip
            played_from = timezone.now()
            order = self._play_finished(employer, owner, worker, fields, start=start, quantity=Decimal("1"))
            self._count("历史订单")
            if index % D.HISTORY_CASE_EVERY == 0:
                self._history_case(order, worker=worker, staff=staff, mediator=mediator, day=day)
            # The notices and texts this old work sent went out (and were read) back then, not today.
            Message.objects.filter(created_at__gte=played_from).update(
                created_at=start, sent_at=start, read_at=start + dt.timedelta(hours=1)
            )

    def _history_case(self, order: Order, *, worker: User, staff: User, mediator: User, day: dt.date) -> None:
        """A closed wage case on a past order, through the services, then moved to the days after it."""
        case = dispute_services.case_file(
            actor=worker, order=order, category=Case.Category.WAGE_ARREARS,
            description="说好另加半天工钱，结算时没有给。", amount_claimed_fen=order.post.pay_fen // 2,
        )  # fmt: skip
        dispute_services.case_accept(case=case, actor=staff, mediator=mediator)
        dispute_services.case_fail(case=case, actor=mediator, reason="双方说法不一，无书面约定，调解不成。")
        dispute_services.case_close(case=case, actor=mediator)
        filed = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 30)))
        Case.objects.filter(pk=case.pk).update(
            filed_at=filed,
            accepted_at=filed + dt.timedelta(hours=3),
            deadline_at=filed + dt.timedelta(days=15, hours=3),
            ended_at=filed + dt.timedelta(days=6),
            closed_at=filed + dt.timedelta(days=6, hours=1),
        )
        CaseEvent.objects.filter(case=case).update(created_at=filed)
        self._count("历史纠纷案件")

    # -------------------------------------------------------------------------------------- the hall

    def seed_hall(self) -> None:
        """Trainings and articles to show workers, the follow-ups of the finished demo orders, one wage case
        accepted and assigned to the demo mediator, and today's supply-and-demand snapshot for the dashboard."""
        staff = self.staff
        today = timezone.localdate()
        for title, trade, start_in, days, schedule, seats, free in D.COURSES:
            if Course.objects.filter(title=title).exists():
                continue
            outreach_services.course_save(
                course=Course(
                    title=title, trade=Trade.objects.get(name=trade), starts_on=today + dt.timedelta(days=start_in),
                    ends_on=today + dt.timedelta(days=start_in + days - 1), schedule=schedule,
                    place=f"{self.district_market.name}培训室", service_point=self.district_market, seats=seats,
                    is_free=free, description=f"{title}：理论加实操，结业发证，推荐上岗。",
                ),
                actor=staff,
            )  # fmt: skip
            self._count("培训课程")
        for order, (title, category, summary, body, published) in enumerate(D.ARTICLES):
            _, made = Article.objects.get_or_create(
                title=title,
                defaults={
                    "category": category, "summary": summary, "body": body, "is_published": published,
                    "published_at": timezone.now() if published else None, "sort_order": (order + 1) * 10,
                },
            )  # fmt: skip
            if made:
                self._count("政策文章")
        self._count("回访任务", outreach_services.followups_create_due(now=timezone.now()))

        seeker = User.objects.get(phone=D.DEMO_SEEKER)
        order = (
            Order.objects.filter(worker=seeker, status=Order.Status.COMPLETED)
            .order_by("completed_at")
            .first()
        )
        if order is not None and not Case.objects.filter(worker=seeker).exists():
            case = dispute_services.case_file(
                actor=seeker, order=order, category=Case.Category.WAGE_ARREARS,
                description=D.DEMO_CASE_DESCRIPTION, amount_claimed_fen=3000,
            )  # fmt: skip
            dispute_services.case_accept(case=case, actor=staff, mediator=self.logins["mediator"])
            self._count("纠纷案件")
        hall_services.snapshot_take()

    def _progress(self, iterable, **kwargs):
        return tqdm(iterable, file=sys.stderr, disable=self.no_progress, leave=False, **kwargs)

    def _count(self, key: str, n: int = 1) -> None:
        self.created[key] = self.created.get(key, 0) + n

    def _refreshed(self, key: str, n: int = 1) -> None:
        self.refreshed[key] = self.refreshed.get(key, 0) + n

    # --------------------------------------------------------------------------------------- network

    def seed_network(self) -> None:
        lat, lng = D.coord((0, 0))
        districts: dict[str, Area] = {}
        for spec in D.DISTRICTS:
            area, made = Area.objects.get_or_create(
                code=spec.code,
                defaults={"name": spec.name, "level": Area.Level.DISTRICT, "lat": lat, "lng": lng},
            )
            if not made and area.name != spec.name:  # a demo database from before the city had districts
                Area.objects.filter(pk=area.pk).update(name=spec.name)
                self._refreshed("区域")
            self._count("区域", made)
            districts[spec.code] = area
        district = districts[D.DISTRICTS[0].code]
        self.district_market, made = ServicePoint.objects.get_or_create(
            name=D.DISTRICT_MARKET,
            defaults={
                "kind": ServicePoint.Kind.DISTRICT_MARKET,
                "area": district,
                "address": D.DISTRICT_ADDRESS,
                "phone": "0598-6221000",
                "opening_hours": "每天 5:30–18:00",
                "lat": lat,
                "lng": lng,
            },
        )
        self._count("服务网点", made)
        self.town_areas: dict[str, Area] = {}
        self.town_markets: dict[str, ServicePoint] = {}
        self.stations: dict[str, list[ServicePoint]] = {}
        for town in D.TOWNS:
            lat, lng = D.coord(town.offset)
            parent = districts[D.district_of_town(town).code]
            area, made = Area.objects.get_or_create(
                code=D.town_area_code(town),
                defaults={
                    "name": town.name,
                    "level": Area.Level.STREET,
                    "parent": parent,
                    "lat": lat,
                    "lng": lng,
                },
            )
            if not made and area.parent_id != parent.pk:
                Area.objects.filter(pk=area.pk).update(parent=parent)
                Post.objects.filter(area__in=[area, *area.children.all()]).update(district=parent)
                self._refreshed("区域")
            self._count("区域", made)
            market, made = ServicePoint.objects.get_or_create(
                name=D.market_name(town),
                defaults={
                    "kind": ServicePoint.Kind.STREET_MARKET,
                    "parent": self.district_market,
                    "area": area,
                    "address": f"{D.CITY}{town.name}便民服务中心一楼",
                    "phone": f"0598-62{int(town.code):03d}88",
                    "opening_hours": "周一至周六 7:00–17:30",
                    "lat": lat,
                    "lng": lng,
                },
            )
            self._count("服务网点", made)
            self.town_areas[town.code], self.town_markets[town.code] = area, market
            self.stations[town.code] = []
            for index, village in enumerate(town.villages):
                lat, lng = D.coord(D.village_offset(town, index))
                varea, made = Area.objects.get_or_create(
                    code=D.village_area_code(town, index),
                    defaults={
                        "name": village,
                        "level": Area.Level.VILLAGE,
                        "parent": area,
                        "lat": lat,
                        "lng": lng,
                    },
                )
                self._count("区域", made)
                station, made = ServicePoint.objects.get_or_create(
                    name=D.station_name(town, village),
                    defaults={
                        "kind": ServicePoint.Kind.VILLAGE_STATION,
                        "parent": market,
                        "area": varea,
                        "address": f"{town.name}{village}村（居）委会",
                        "opening_hours": "周一至周五 8:00–12:00",
                        "lat": lat,
                        "lng": lng,
                    },
                )
                self._count("服务网点", made)
                self.stations[town.code].append(station)

    # ------------------------------------------------------------------------------------- catalogue

    def seed_catalogue(self) -> None:
        self.cert_types: dict[str, CertificateType] = {}
        for spec in D.CERTIFICATE_TYPES:
            cert_type, made = CertificateType.objects.get_or_create(
                code=spec.code, defaults={"name": spec.name, "issuer": spec.issuer}
            )
            self._count("证书类型", made)
            self.cert_types[spec.code] = cert_type
        self.trades: dict[str, Trade] = {}
        for order, spec in enumerate(D.TRADES, start=1):
            trade, made = Trade.objects.get_or_create(
                name=spec.name,
                defaults={
                    "category": spec.category,
                    "risk_class": spec.risk_class,
                    "certificate_type": self.cert_types[spec.certificate] if spec.certificate else None,
                    "sort_order": order * 10,
                },
            )
            self._count("工种", made)
            self.trades[spec.name] = trade

    # ---------------------------------------------------------------------------------------- logins

    def _permissions(self, names: tuple[str, ...]) -> list[Permission]:
        found = []
        for name in names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is None:
                raise CommandError(f"permission {name} does not exist: run migrate first")
            found.append(perm)
        return found

    def _user(self, phone: str, *, name: str, role: str, **fields) -> tuple[User, bool]:
        user = User.objects.filter(phone=phone).first()
        if user is not None:
            return user, False
        user = User.objects.create(
            phone=phone,
            name=name,
            role=role,
            password=self.password_hash,
            phone_confirmed_at=timezone.now(),
            **fields,
        )
        self._count("用户")
        return user, True

    def seed_logins(self) -> None:
        staff_group, _ = Group.objects.get_or_create(name=D.STAFF_GROUP)
        staff_group.permissions.set(self._permissions(D.STAFF_PERMISSIONS))
        mediator_group, _ = Group.objects.get_or_create(name=D.MEDIATOR_GROUP)
        mediator_group.permissions.set(self._permissions(D.MEDIATOR_PERMISSIONS))
        district_group, _ = Group.objects.get_or_create(name=D.DISTRICT_STAFF_GROUP)
        district_group.permissions.set(self._permissions(D.DISTRICT_STAFF_PERMISSIONS))
        station = self.stations["202"][2]  # 洋口乡山门村零工驿站
        setup = {
            "superuser": (
                User.Role.STAFF,
                {"is_staff": True, "is_superuser": True},
                None,
                self.district_market,
            ),
            "staff": (User.Role.STAFF, {"is_staff": True}, staff_group, self.district_market),
            "station_staff": (User.Role.STAFF, {"is_staff": True}, staff_group, station),
            "mediator": (User.Role.MEDIATOR, {}, mediator_group, self.district_market),
            "seeker": (User.Role.SEEKER, {}, None, self.town_markets["001"]),
            # Every account belongs to a point (staff scoping): the employer's company is at town 001.
            "employer": (User.Role.EMPLOYER, {}, None, self.town_markets["001"]),
        }
        self.logins: dict[str, User] = {}
        for login in D.DEMO_LOGINS:
            role, flags, group, point = setup[login.key]
            user, made = self._user(login.phone, name=login.name, role=role, service_point=point, **flags)
            if not made and not user.check_password(self.password):
                user.set_password(self.password)  # the demo logins follow --password
                user.save(update_fields=["password"])
            if group is not None:
                user.groups.add(group)
            if login.key == "staff":
                user.groups.add(district_group)
            if second_factor.needs_second_factor(user):
                self._demo_authenticator(user)
            self.logins[login.key] = User.objects.get(pk=user.pk)  # fresh permission cache
        self.staff = self.logins["staff"]
        # The demo seeker said yes to recommendation SMS (活找人), so publishing a matching post reaches them.
        notification_services.preferences_update(
            user=self.logins["seeker"], marketing_consent=True, source="演示数据"
        )

    def _demo_authenticator(self, user: User) -> None:
        """A confirmed authenticator with the printed demo key, unless the user already has one (enrolled
        by hand, or from an earlier run)."""
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return
        TOTPDevice.objects.create(
            user=user, name="演示身份验证器", key=D.demo_totp_key(user.phone), confirmed=True
        )
        self._count("身份验证器")

    # --------------------------------------------------------------------------------------- seekers

    def _verify(self, user: User, *, seq: int, birth: dt.date, outcome: str, name: str) -> RealName | None:
        existing = RealName.objects.filter(user=user).first()
        if existing is not None:
            return existing
        record = services.realname_submit(user=user, name=name, id_number=D.id_number(seq, birth))
        if outcome == "verified":
            record = services.realname_approve(realname=record, actor=self.staff)
        elif outcome == "rejected":
            record = services.realname_reject(
                realname=record, actor=self.staff, reason="姓名与身份证上的不一致，请带身份证到服务网点核验"
            )
        self._count("实名认证")
        return record

    def seed_seekers(self) -> None:
        today = timezone.localdate()
        for seq, spec in enumerate(D.SEEKERS, start=1):
            rng = random.Random(f"seeker:{spec.phone}")  # noqa: S311 - reproducible demo data, not secrets
            station = rng.choice(self.stations[spec.town])
            user, _ = self._user(spec.phone, name=spec.name, role=User.Role.SEEKER, service_point=station)
            profile, _ = WorkerProfile.objects.get_or_create(user=user)
            if not profile.wanted_trades.exists():
                trades = [D.TRADES[[t.name for t in D.TRADES].index(n)] for n in spec.trades]
                first = trades[0]
                low, high = first.pay_range
                skills = [s for t in trades for s in t.skills[:2]]
                services.worker_profile_update(
                    user=user,
                    wanted_trades=[self.trades[t.name] for t in trades],
                    skills=skills,
                    expected_pay_fen=(low + (high - low) // 2) * 100,
                    expected_pay_unit=first.pay_unit,
                    area=station.area,
                    lat=station.lat,
                    lng=station.lng,
                    availability=rng.choice(D.AVAILABILITY_CHOICES),
                    max_distance_km=rng.choice([5, 10, 20, 30]),
                    about=spec.about,
                )
            if spec.realname != "none":
                self._verify(user, seq=seq, birth=spec.birth, outcome=spec.realname, name=spec.name)
            for code, outcome in spec.certificates:
                if Certificate.objects.filter(user=user, cert_type__code=code).exists():
                    continue
                # Real 特种作业操作证 and driving licences carry the holder's ID number, but Certificate.number
                # is stored in clear, so the demo does not put ID numbers there.
                number = f"{'JK' if code == 'health' else 'T'}{D.COUNTY_CODE}{today.year - 2}{seq:04d}{len(code):02d}"
                cert = services.certificate_submit(
                    user=user,
                    cert_type=self.cert_types[code],
                    number=number,
                    image=SimpleUploadedFile("certificate.png", _png((40, 90, 170), seal=True), "image/png"),
                    issued_on=today - dt.timedelta(days=400 + seq * 17),
                    expires_on=today + dt.timedelta(days=25 if seq % 4 == 0 else 900 + seq * 11),
                )
                if outcome == "approved":
                    services.certificate_approve(certificate=cert, actor=self.staff)
                elif outcome == "rejected":
                    services.certificate_reject(
                        certificate=cert, actor=self.staff, reason="照片反光看不清证书编号，请重新拍摄"
                    )
                self._count("证书")
            if spec.help_tier and profile.help_tier != spec.help_tier:
                services.worker_help_flag_set(
                    profile=WorkerProfile.objects.get(pk=profile.pk),
                    actor=self.staff,
                    tier=spec.help_tier,
                    reasons=list(spec.help_reasons),
                )

    # ------------------------------------------------------------------------------------- employers

    def seed_employers(self) -> None:
        today = timezone.localdate()
        for seq, spec in enumerate(D.EMPLOYERS, start=1):
            owner, _ = self._user(
                spec.owner_phone,
                name=spec.owner_name,
                role=User.Role.EMPLOYER,
                service_point=self.town_markets[spec.town],
            )
            if EmployerMember.objects.filter(user=owner, role=EmployerMember.Role.OWNER).exists():
                continue
            area = self.stations[spec.town][0].area
            if spec.kind == Employer.Kind.HOUSEHOLD:
                self._verify(
                    owner,
                    seq=500 + seq,
                    birth=D.HOUSEHOLD_BIRTHS[spec.owner_phone],
                    outcome="verified",
                    name=spec.owner_name,
                )
                owner = User.objects.get(pk=owner.pk)
                details = {}
            else:
                details = {
                    "name": spec.name,
                    "uscc": D.uscc_code(spec.serial, kind=spec.kind),
                    "legal_representative": spec.legal_representative,
                    "licence_image": SimpleUploadedFile(
                        "licence.png", _png((190, 40, 40), seal=True), "image/png"
                    ),
                    "licence_expires_on": (
                        today + dt.timedelta(days=365 * spec.licence_years) if spec.licence_years else None
                    ),
                }
            employer = services.employer_register(
                user=owner,
                kind=spec.kind,
                contact_name=spec.owner_name,
                address=f"{D.CITY}{area.parent.name}{area.name}",
                area=area,
                service_point=self.town_markets[spec.town],
                **details,
            )
            if spec.status in (Employer.Status.APPROVED, Employer.Status.SUSPENDED):
                employer = services.employer_approve(employer=employer, actor=self.staff)
            if spec.status == Employer.Status.SUSPENDED:
                services.employer_suspend(employer=employer, actor=self.staff, reason=spec.reason)
            elif spec.status == Employer.Status.REJECTED:
                services.employer_reject(employer=employer, actor=self.staff, reason=spec.reason)
            for phone, name in spec.members:
                self._user(
                    phone, name=name, role=User.Role.EMPLOYER, service_point=self.town_markets[spec.town]
                )
                services.employer_member_add(employer=employer, actor=owner, phone=phone)
            self._count("用工主体")

    def seed_assisted(self) -> None:
        station_staff = self.logins["station_staff"]
        for phone, name in D.ASSISTED:
            if User.objects.filter(phone=phone).exists():
                continue
            services.user_register_assisted(
                staff=station_staff,
                phone=phone,
                name=name,
                wanted_trade_ids=[self.trades["茶叶采摘"].pk, self.trades["农田帮工"].pk],
            )
            self._count("代注册")

    # ------------------------------------------------------------------------------------------ jobs

    def seed_jobs(self) -> None:
        self.demo_employers: dict[str, tuple[Employer, User]] = {}
        for spec in D.EMPLOYERS:
            member = (
                EmployerMember.objects.filter(user__phone=spec.owner_phone, role=EmployerMember.Role.OWNER)
                .select_related("employer", "user")
                .first()
            )
            if member is not None and member.employer.status == Employer.Status.APPROVED:
                self.demo_employers[spec.key] = (member.employer, member.user)
        for employer, _ in self.demo_employers.values():
            # Publishing sets every slot's pay aside (岗位托管): the demo employers have topped up first.
            key = f"demo-funds:{employer.pk}"
            if not LedgerTransaction.objects.filter(idempotency_key=key).exists():
                wallet_services.employer_credit(
                    employer=employer, amount_fen=D.DEMO_EMPLOYER_FUNDS_FEN, key=key, memo="演示充值"
                )
                self._count("充值")
        for spec in D.BOARD_POSTS:
            self._demo_post(spec)
        seeker = User.objects.get(phone=D.DEMO_SEEKER)
        for spec, to_employer, to_worker, employer_comment, worker_comment in D.PAST_ORDERS:
            self._past_order(spec, seeker, (to_employer, employer_comment), (to_worker, worker_comment))
        for phone, title in D.BOARD_CLAIMS:
            self._demo_claim(User.objects.get(phone=phone), title)
        self._demo_accident_claim(seeker)

    @staticmethod
    def _start(spec: D.PostSpec) -> dt.datetime:
        day = timezone.localdate() + dt.timedelta(days=spec.days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(*spec.start)))

    def _post_area(self, spec: D.PostSpec) -> Area:
        if spec.village is None:
            return self.town_areas[spec.town]
        town = next(t for t in D.TOWNS if t.code == spec.town)
        return Area.objects.get(code=D.village_area_code(town, spec.village))

    def _post_fields(self, spec: D.PostSpec, owner: User, start: dt.datetime) -> dict:
        area = self._post_area(spec)
        rng = random.Random(f"post:{spec.title}")  # noqa: S311 - reproducible demo data, not secrets
        return {
            "trade": self.trades[spec.trade],
            "title": spec.title,
            "description": spec.description,
            "pay_fen": int(spec.pay_yuan * 100),
            "pay_unit": spec.pay_unit,
            "quantity": spec.quantity,
            "slots": spec.slots,
            "area": area,
            "address": spec.address,
            "lat": round(float(area.lat) + rng.uniform(-0.004, 0.004), 6),
            "lng": round(float(area.lng) + rng.uniform(-0.004, 0.004), 6),
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=spec.hours),
            "mode": spec.mode,
            "insurance_required": spec.insurance,
            "contact_name": owner.name,
            "contact_phone": owner.phone,
        }

    def _demo_post(self, spec: D.PostSpec) -> Post | None:
        if spec.employer not in self.demo_employers:
            return None
        employer, owner = self.demo_employers[spec.employer]
        post = self._active_post(employer, spec.title)
        start = self._start(spec)
        if (
            post is not None
            and post.starts_at < timezone.now() + D.STALE_WITHIN
            and not self._move_post(post, start)
        ):
            # It has history (a check-in, a no-show…): it stops taking claims and a fresh post replaces it.
            jobs_services.post_close(post=post, actor=owner)
            self._refreshed("关闭旧岗位")
            post = None
        if post is None:  # first run, or the last one expired, was closed or cancelled
            post = jobs_services.post_create(
                employer=employer, actor=owner, publish=True, **self._post_fields(spec, owner, start)
            )
            self._count("岗位")
        return post

    @staticmethod
    def _active_post(employer: Employer, title: str) -> Post | None:
        return (
            Post.objects.filter(
                employer=employer, title=title, status__in=[Post.Status.OPEN, Post.Status.FILLED]
            )
            .order_by("-pk")
            .first()
        )

    def _move_post(self, post: Post, start: dt.datetime) -> bool:
        """A stale demo post goes to its next date, with its confirmed orders (its money stays set aside).
        Anything further along (checked in, completed, no-show, cancelled) is history: then it stays."""
        orders = list(post.orders.select_related("post__trade", "post__area", "employer", "worker__realname"))
        if any(order.status != Order.Status.CONFIRMED for order in orders) or start <= post.starts_at:
            return False
        delta = start - post.starts_at
        status = Post.Status.OPEN if post.slots_left > 0 else Post.Status.FILLED
        Post.objects.filter(pk=post.pk).update(
            starts_at=F("starts_at") + delta, ends_at=F("ends_at") + delta, status=status
        )
        for order in orders:
            Order.objects.filter(pk=order.pk).update(
                starts_at=F("starts_at") + delta, ends_at=F("ends_at") + delta
            )
            order.refresh_from_db()
            order.post.refresh_from_db()
            body = render_contract(order)  # new times, new text: both sides confirm it again
            Contract.objects.filter(order=order).update(
                body=body,
                content_hash=content_hash(body),
                worker_signed_at=None,
                employer_signed_at=None,
                employer_signed_by=None,
            )
        self._refreshed("岗位开工时间")
        return True

    def _past_order(self, spec: D.PostSpec, seeker: User, to_employer, to_worker) -> None:
        """Finished work of the demo seeker's (with ratings): see :meth:`_play_finished`."""
        if spec.employer not in self.demo_employers:
            return
        employer, owner = self.demo_employers[spec.employer]
        if Post.objects.filter(employer=employer, title=spec.title).exists():
            return
        fields = self._post_fields(spec, owner, timezone.now())
        self._play_finished(
            employer, owner, seeker, fields, start=self._start(spec), quantity=spec.quantity,
            ratings=(to_employer, to_worker),
        )  # fmt: skip
        self._count("已完工订单")

    def _play_finished(
        self, employer: Employer, owner: User, worker: User, fields: dict, *, start: dt.datetime,
        quantity: Decimal, ratings=None,
    ) -> Order:  # fmt: skip
        """Finished, paid work: played through every service now (publish with the pay set aside, claim,
        check-in, check-out at the start, the employer's confirmation paying the worker from escrow), then
        every timestamp moved to ``start``'s day in the past (the contract text is rebuilt for those dates
        and shown as confirmed). The money rows are the services' own, so the books reconcile."""
        hours = fields["ends_at"] - fields["starts_at"]
        soon = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=10)
        post = jobs_services.post_create(
            employer=employer,
            actor=owner,
            publish=True,
            **{**fields, "starts_at": soon, "ends_at": soon + hours},
        )
        order = jobs_services.claim_create(post=post, worker=worker).order
        # Check-out opens at the start: the shift begins now (its dates move into the past below).
        begun = timezone.now() - dt.timedelta(minutes=1)
        shift = {"starts_at": begun, "ends_at": begun + hours}
        Post.objects.filter(pk=post.pk).update(**shift)
        Order.objects.filter(pk=order.pk).update(**shift)
        order.refresh_from_db()
        jobs_services.order_check_in(order=order, worker=worker)
        jobs_services.order_check_out(order=order, worker=worker, quantity=quantity)
        jobs_services.order_confirm_completion(order=order, actor=owner)
        if ratings:
            to_employer, to_worker = ratings
            jobs_services.rating_create(
                order=order, rater=worker, stars=to_employer[0], comment=to_employer[1]
            )
            jobs_services.rating_create(order=order, rater=owner, stars=to_worker[0], comment=to_worker[1])

        end = start + hours
        at = {
            "published": start - dt.timedelta(days=3, hours=2),
            Order.Status.CONFIRMED: start - dt.timedelta(days=2, hours=5),
            Order.Status.CHECKED_IN: start - dt.timedelta(minutes=8),
            Order.Status.CHECKED_OUT: end + dt.timedelta(minutes=4),
            Order.Status.COMPLETED: end + dt.timedelta(hours=2),
        }
        Post.objects.filter(pk=post.pk).update(
            starts_at=start,
            ends_at=end,
            created_at=at["published"] - dt.timedelta(minutes=12),
            published_at=at["published"],
        )
        Claim.objects.filter(pk=order.claim_id).update(
            created_at=at[Order.Status.CONFIRMED], decided_at=at[Order.Status.CONFIRMED]
        )
        # The policy's cover is the shift (check-in to check-out), moved with it.
        Policy.objects.filter(order=order).update(
            cover_from=at[Order.Status.CHECKED_IN], cover_to=at[Order.Status.CHECKED_OUT]
        )
        Order.objects.filter(pk=order.pk).update(
            starts_at=start,
            ends_at=end,
            confirmed_at=at[Order.Status.CONFIRMED],
            checked_in_at=at[Order.Status.CHECKED_IN],
            checked_out_at=at[Order.Status.CHECKED_OUT],
            completed_at=at[Order.Status.COMPLETED],
        )
        for event in OrderEvent.objects.filter(order=order):
            OrderEvent.objects.filter(pk=event.pk).update(created_at=at.get(event.to_status, start))
        for hours_after, rating in enumerate(Rating.objects.filter(order=order).order_by("pk"), start=1):
            Rating.objects.filter(pk=rating.pk).update(
                created_at=at[Order.Status.COMPLETED] + dt.timedelta(hours=hours_after)
            )
        order = Order.objects.select_related("post__trade", "post__area", "employer", "worker__realname").get(
            pk=order.pk
        )
        body = render_contract(order)
        Contract.objects.filter(order=order).update(
            body=body,
            content_hash=content_hash(body),
            created_at=at[Order.Status.CONFIRMED],
            worker_signed_at=at[Order.Status.CONFIRMED] + dt.timedelta(minutes=6),
            employer_signed_at=at[Order.Status.CONFIRMED] + dt.timedelta(minutes=31),
            employer_signed_by=owner,
        )
        return order

    def _demo_accident_claim(self, seeker: User) -> None:
        """报案 on the demo seeker's newest insured past shift, waiting for staff: they review it, send it to
        the (local) insurer and, playing the insurer from the console, watch it come back paid."""
        if AccidentClaim.objects.filter(policy__order__worker=seeker).exists():
            return
        policy = (
            Policy.objects.filter(order__worker=seeker, status__in=Policy.BOUGHT, cover_from__isnull=False)
            .select_related("order")
            .order_by("-cover_from")
            .first()
        )
        if policy is None:
            return
        photo = SimpleUploadedFile(
            "现场照片.png", _png((190, 200, 210), seal=False), content_type="image/png"
        )
        insurance_services.claim_report(
            order=policy.order, actor=seeker, accident_at=policy.cover_from + dt.timedelta(hours=2),
            place=policy.order.post.address, description="搬运钢管时被滑落的钢管砸伤右脚，送县医院拍片，右脚趾骨折。",
            documents=[photo],
        )  # fmt: skip
        self._count("理赔报案")

    def _demo_claim(self, worker: User, title: str) -> None:
        post = next(
            (p for e, _ in self.demo_employers.values() if (p := self._active_post(e, title)) is not None),
            None,
        )
        if post is None or Claim.objects.filter(post=post, worker=worker).exists():
            return
        try:
            claim = jobs_services.claim_create(post=post, worker=worker)
        except DomainError as exc:  # e.g. a certificate that lapsed since: the demo goes on without it
            self.stderr.write(f"跳过演示接单（{worker.name} → {title}）：{exc.message}")
            return
        self._count("接单/报名")
        if claim.status == Claim.Status.CONFIRMED:
            self._count("订单")

    # ------------------------------------------------------------------------------------------ bulk

    def _points(self) -> list[ServicePoint]:
        return list(
            ServicePoint.objects.filter(
                kind__in=[ServicePoint.Kind.VILLAGE_STATION, ServicePoint.Kind.STREET_MARKET],
                name__in=[D.market_name(t) for t in D.TOWNS]
                + [D.station_name(t, v) for t in D.TOWNS for v in t.villages],
            )
            .select_related("area")
            .order_by("name")
        )

    def _insert_users(self, users: list[User], batch_size: int) -> list[User]:
        User.objects.bulk_create(users, batch_size=batch_size)
        if users and users[0].pk is None:  # databases that cannot return ids from a bulk insert
            ids = dict(User.objects.filter(phone__in=[u.phone for u in users]).values_list("phone", "pk"))
            for user in users:
                user.pk = ids[user.phone]
        return users

    def seed_bulk_workers(self, count: int, batch_size: int) -> None:
        points = self._points()
        trades = list(Trade.objects.filter(name__in=[t.name for t in D.TRADES]).order_by("sort_order"))
        specs = {t.name: t for t in D.TRADES}
        through = WorkerProfile.wanted_trades.through
        rng = random.Random(D.BULK_SEED)  # noqa: S311 - reproducible demo data, not secrets
        created = 0
        bar = tqdm(total=count, desc="批量求职者", unit="人", file=sys.stderr, disable=self.no_progress)
        for batch in _batches(0, count, batch_size):
            phones = [f"{D.BULK_WORKER_PREFIX}{i:08d}" for i in batch]
            existing = set(User.objects.filter(phone__in=phones).values_list("phone", flat=True))
            rows = []
            for phone in phones:
                # Draw for every index, existing or not, so index i always gets the same person.
                drawn = bulk_worker_draw(rng, points, trades, specs)
                if phone in existing:
                    continue
                name, point, wanted, spec, pay, joined, availability, skills, distance, jitter = drawn
                user = User(
                    phone=phone,
                    name=name,
                    role=User.Role.SEEKER,
                    password=self.password_hash,
                    service_point=point,
                    phone_confirmed_at=joined,
                    date_joined=joined,
                )
                profile = WorkerProfile(
                    skills=skills,
                    expected_pay_fen=pay,
                    expected_pay_unit=spec.pay_unit,
                    area=point.area,
                    lat=(point.lat + Decimal(f"{jitter[0]:.6f}")) if point.lat is not None else None,
                    lng=(point.lng + Decimal(f"{jitter[1]:.6f}")) if point.lng is not None else None,
                    availability=availability,
                    max_distance_km=distance,
                )
                rows.append((user, profile, wanted))
            if rows:
                with transaction.atomic():
                    self._insert_users([u for u, _, _ in rows], batch_size)
                    for user, profile, _ in rows:
                        profile.user_id = user.pk
                    WorkerProfile.objects.bulk_create([p for _, p, _ in rows], batch_size=batch_size)
                    if rows[0][1].pk is None:
                        ids = dict(
                            WorkerProfile.objects.filter(user_id__in=[u.pk for u, _, _ in rows]).values_list(
                                "user_id", "pk"
                            )
                        )
                        for user, profile, _ in rows:
                            profile.pk = ids[user.pk]
                    through.objects.bulk_create(
                        [
                            through(workerprofile_id=profile.pk, trade_id=trade.pk)
                            for _, profile, wanted in rows
                            for trade in wanted
                        ],
                        batch_size=batch_size,
                    )
                created += len(rows)
            bar.update(len(batch))
        bar.close()
        self._count("批量求职者", created)

    def seed_bulk_employers(self, count: int, batch_size: int) -> None:
        points = [p for p in self._points() if p.kind == ServicePoint.Kind.STREET_MARKET]
        rng = random.Random(D.BULK_SEED + 1)  # noqa: S311 - reproducible demo data, not secrets
        actor = self.staff
        towns = [t.name.removesuffix("街道").removesuffix("镇").removesuffix("乡") for t in D.TOWNS]
        combos = len(towns) * len(D.EMPLOYER_WORDS) * len(D.EMPLOYER_BUSINESS)
        created = 0
        bar = tqdm(total=count, desc="批量用工主体", unit="家", file=sys.stderr, disable=self.no_progress)
        for batch in _batches(0, count, batch_size):
            phones = {i: f"{D.BULK_EMPLOYER_PREFIX}{i:08d}" for i in batch}
            existing = set(User.objects.filter(phone__in=phones.values()).values_list("phone", flat=True))
            rows = []
            for i in batch:
                owner_name = D.person_name(rng)
                point = rng.choice(points)
                approved = rng.random() > 0.1
                created_at = BULK_EPOCH - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
                licence_days = rng.randrange(200, 3650)
                if phones[i] in existing:
                    continue
                # Names spread the index over town × word × business: distinct for the first `combos`
                # employers (7919 is prime, so the multiplication permutes), repeating after that.
                town, rest = divmod((i * 7919) % combos, len(D.EMPLOYER_WORDS) * len(D.EMPLOYER_BUSINESS))
                word, business = divmod(rest, len(D.EMPLOYER_BUSINESS))
                suffix, kind = D.EMPLOYER_BUSINESS[business]
                name = f"{D.CITY}{towns[town]}{D.EMPLOYER_WORDS[word]}{suffix}"
                owner = User(
                    phone=phones[i],
                    name=owner_name,
                    role=User.Role.EMPLOYER,
                    password=self.password_hash,
                    service_point=point,
                    phone_confirmed_at=created_at,
                    date_joined=created_at,
                )
                employer = Employer(
                    kind=kind,
                    name=name,
                    uscc=D.uscc_code(100_000 + i, kind=kind),
                    legal_representative=owner_name,
                    licence_expires_on=(BULK_EPOCH + dt.timedelta(days=licence_days)).date(),
                    contact_name=owner_name,
                    address=f"{D.CITY}{point.area.name}",
                    area=point.area,
                    service_point=point,
                    status=Employer.Status.APPROVED if approved else Employer.Status.PENDING,
                    created_at=created_at,
                    decided_at=created_at + dt.timedelta(hours=3) if approved else None,
                    decided_by=actor if approved else None,
                )
                rows.append((owner, employer))
            if rows:
                with transaction.atomic():
                    self._insert_users([o for o, _ in rows], batch_size)
                    for owner, employer in rows:
                        employer.created_by_id = owner.pk
                    Employer.objects.bulk_create([e for _, e in rows], batch_size=batch_size)
                    if rows[0][1].pk is None:
                        ids = dict(
                            Employer.objects.filter(created_by_id__in=[o.pk for o, _ in rows]).values_list(
                                "created_by_id", "pk"
                            )
                        )
                        for owner, employer in rows:
                            employer.pk = ids[owner.pk]
                    EmployerMember.objects.bulk_create(
                        [
                            EmployerMember(
                                employer_id=e.pk,
                                user_id=o.pk,
                                role=EmployerMember.Role.OWNER,
                                added_at=e.created_at,
                            )
                            for o, e in rows
                        ],
                        batch_size=batch_size,
                    )
                    events = []
                    for owner, employer in rows:
                        events.append(
                            ReviewEvent(
                                subject=ReviewEvent.Subject.EMPLOYER,
                                object_id=employer.pk,
                                actor_id=owner.pk,
                                from_status="",
                                to_status=Employer.Status.PENDING,
                                created_at=employer.created_at,
                            )
                        )
                        if employer.status == Employer.Status.APPROVED:
                            events.append(
                                ReviewEvent(
                                    subject=ReviewEvent.Subject.EMPLOYER,
                                    object_id=employer.pk,
                                    actor=actor,
                                    from_status=Employer.Status.PENDING,
                                    to_status=Employer.Status.APPROVED,
                                    created_at=employer.decided_at,
                                )
                            )
                    ReviewEvent.objects.bulk_create(events, batch_size=batch_size)
                created += len(rows)
            bar.update(len(batch))
        bar.close()
        self._count("批量用工主体", created)

    def seed_bulk_posts(self, count: int, batch_size: int) -> None:
        """``count`` open posts spread over the city's streets and villages, for the board benchmark."""
        owners = dict(
            EmployerMember.objects.filter(
                role=EmployerMember.Role.OWNER, employer__status=Employer.Status.APPROVED
            ).values_list("employer_id", "user_id")
        )
        employers = list(
            Employer.objects.filter(pk__in=owners)
            .order_by("pk")
            .values_list("pk", "contact_name", "service_point_id")
        )
        if not employers:
            raise CommandError("--posts needs approved employers: run seed_demo (and --employers) first")
        trades = {t.name: t for t in Trade.objects.filter(name__in=[t.name for t in D.TRADES])}
        specs = [t for t in D.TRADES if t.name in trades]
        district_of = district_of_areas()
        areas = list(
            Area.objects.filter(
                code__startswith=D.COUNTY_CODE, level__in=[Area.Level.STREET, Area.Level.VILLAGE]
            )
            .exclude(lat=None)
            .order_by("code")
        )
        rng = random.Random(D.BULK_SEED + 2)  # noqa: S311 - reproducible demo data, not secrets
        premiums: dict[tuple[bool, int], int] = {}
        now = timezone.now().replace(second=0, microsecond=0)
        today = timezone.localdate()
        created = 0
        bar = tqdm(total=count, desc="批量岗位", unit="条", file=sys.stderr, disable=self.no_progress)
        for batch in _batches(0, count, batch_size):
            phones = {i: f"{D.BULK_POST_PREFIX}{i:08d}" for i in batch}
            existing = set(
                Post.objects.filter(contact_phone__in=phones.values()).values_list("contact_phone", flat=True)
            )
            rows = []
            for i in batch:
                # Draw for every index, existing or not, so index i always gets the same post.
                employer_id, contact_name, point_id = rng.choice(employers)
                spec = rng.choice(specs)
                area = rng.choice(areas)
                site = rng.choice(D.SITES[spec.category])
                skill = rng.choice(spec.skills) if spec.skills else spec.name
                place = area.name
                perk, perk2 = rng.sample(D.PERKS, 2)
                requirement = rng.choice(D.REQUIREMENTS)
                slots = rng.choice((1, 1, 2, 2, 3, 4, 5, 8, 10, 20))
                pattern = rng.choice(D.TITLE_PATTERNS)
                low, high = spec.pay_range
                pay_fen = rng.randint(low, high) * 100
                quantity = {"hour": rng.choice((4, 6, 8)), "piece": rng.choice((20, 50, 100))}.get(
                    spec.pay_unit, rng.choice((1, 1, 1, 2, 3)) if spec.pay_unit == "day" else 1
                )
                day = today + dt.timedelta(days=rng.randint(1, 45))
                start = timezone.make_aware(
                    dt.datetime.combine(
                        day, dt.time(rng.choice((6, 7, 7, 8, 8, 9, 13, 19)), rng.choice((0, 30)))
                    )
                )
                hours = quantity if spec.pay_unit == "hour" else rng.choice((4, 8, 9, 10))
                published = now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60))
                mode = Post.Mode.GRAB if rng.random() < 0.6 else Post.Mode.APPLY
                jitter = (rng.uniform(-0.008, 0.008), rng.uniform(-0.008, 0.008))
                address = f"{place}{rng.choice(D.ROADS)}{rng.randint(1, 300)}号"
                if phones[i] in existing:
                    continue
                title = pattern.format(
                    place=place, site=site, skill=skill, trade=spec.name, n=slots, perk=perk
                )
                description = f"{place}{site}{skill}，{spec.name}{slots}名。{perk}，{perk2}。{requirement}。"
                rows.append(
                    Post(
                        employer_id=employer_id,
                        created_by_id=owners[employer_id],
                        service_point_id=point_id,
                        trade=trades[spec.name],
                        title=title[:60],
                        description=description,
                        pay_fen=pay_fen,
                        pay_unit=spec.pay_unit,
                        quantity=Decimal(quantity),
                        slots=slots,
                        slots_left=slots,
                        area=area,
                        district_id=district_of[area.pk],
                        address=address,
                        lat=round(float(area.lat) + jitter[0], 6),
                        lng=round(float(area.lng) + jitter[1], 6),
                        starts_at=start,
                        ends_at=start + dt.timedelta(hours=hours),
                        mode=mode,
                        insurance_required=trades[spec.name].risk_class >= 4,
                        contact_name=contact_name or "联系人",
                        contact_phone=phones[i],
                        status=Post.Status.OPEN,
                        search_tokens=index_tokens(title, spec.name, description, area.name),
                        created_at=published - dt.timedelta(minutes=5),
                        published_at=published,
                    )
                )
            if rows:
                with transaction.atomic():
                    Post.objects.bulk_create(rows, batch_size=batch_size)
                    self._hold_bulk_posts(
                        rows, key=f"bulk-posts:{batch.start}-{batch.stop}", premiums=premiums
                    )
                created += len(rows)
            bar.update(len(batch))
        bar.close()
        self._count("批量岗位", created)
        self._refresh_bulk_posts(batch_size)

    def _hold_bulk_posts(self, posts: list[Post], *, key: str, premiums: dict[tuple[bool, int], int]) -> None:
        """Set each new post's money aside as publishing does (pay plus premium for every slot), in one
        balanced ledger transaction per batch: topped up from the bank straight into the posts' holds."""
        holds = Account.objects.bulk_create(
            [Account(kind=Account.Kind.POST_HOLD, post=post) for post in posts]
        )
        if holds[0].pk is None:  # databases that cannot return ids from a bulk insert
            ids = dict(
                Account.objects.filter(kind=Account.Kind.POST_HOLD, post__in=posts).values_list(
                    "post_id", "pk"
                )
            )
            for hold in holds:
                hold.pk = ids[hold.post_id]
        legs = []
        for post, hold in zip(posts, holds, strict=True):
            memo_key = (post.insurance_required, post.trade_id)
            if memo_key not in premiums:
                premiums[memo_key] = premium_for_post(post=post)
            legs.append((hold, (post.expected_amount_fen + premiums[memo_key]) * post.slots))
        total = sum(amount for _, amount in legs)
        ledger.transfer(
            key=key,
            kind=LedgerTransaction.Kind.ESCROW_FUND,
            legs=[(ledger.bank(), -total), *legs],
            memo=f"批量演示岗位托管（{len(posts)}条）",
        )

    def _refresh_bulk_posts(self, batch_size: int) -> None:
        """Bulk posts whose start has passed move forward by whole weeks (same weekday and hour)."""
        now = timezone.now()
        stale = Post.objects.filter(
            contact_phone__startswith=D.BULK_POST_PREFIX,
            status__in=[Post.Status.OPEN, Post.Status.EXPIRED],
            starts_at__lte=now + dt.timedelta(hours=1),
        ).only("pk", "starts_at", "ends_at", "status")
        moved = []
        for post in stale.iterator(chunk_size=batch_size):
            weeks = max(1, (now - post.starts_at) // dt.timedelta(weeks=1) + 1)
            post.starts_at += dt.timedelta(weeks=weeks)
            post.ends_at += dt.timedelta(weeks=weeks)
            post.status = Post.Status.OPEN
            moved.append(post)
        for first in range(0, len(moved), batch_size):
            Post.objects.bulk_update(moved[first : first + batch_size], ["starts_at", "ends_at", "status"])
        if moved:
            self._refreshed("批量岗位开工时间", len(moved))

    # ---------------------------------------------------------------------------------------- output

    def print_logins(self, base_url: str) -> None:
        try:
            site_login = reverse("accounts:login")
        except NoReverseMatch:
            site_login = "/login/"
        admin_login = reverse("admin:index")
        rows = [("角色", "手机号", "密码", "登录地址")]
        for login in D.DEMO_LOGINS:
            where = admin_login if login.where == "admin" else site_login
            rows.append((login.role_label, login.phone, self.password, f"{base_url}{where}"))
        widths = [max(_display_width(row[col]) for row in rows) for col in range(4)]
        self.stdout.write("")
        self.stdout.write("演示账号（青溪市零工市场）")
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, widths[col]) for col, cell in enumerate(row)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.print_authenticators()

    def print_authenticators(self) -> None:
        """Staff and mediators also type their authenticator's 6 digits after the password (二次验证)."""
        phones = [login.phone for login in D.DEMO_LOGINS]
        devices = {
            device.user.phone: device
            for device in TOTPDevice.objects.filter(user__phone__in=phones, confirmed=True).select_related(
                "user"
            )
        }
        rows = []
        for login in D.DEMO_LOGINS:
            device = devices.get(login.phone)
            if device is None:
                continue
            demo = device.key == D.demo_totp_key(login.phone)
            rows.append(
                (
                    login.role_label,
                    login.phone,
                    second_factor.secret_in_groups(device) if demo else "（已自行绑定）",
                )
            )
        if not rows:
            return
        self.stdout.write("")
        self.stdout.write(
            "工作人员和调解员登录后还要输入身份验证器的6位数字（二次验证）：把下面的密钥加入任一身份验证器 App"
            "（选“输入密钥”），或运行 manage.py demo_otp_code 手机号 查看当前的6位数字。"
        )
        widths = [max(_display_width(row[col]) for row in rows) for col in range(3)]
        for row in rows:
            self.stdout.write("  ".join(_pad(cell, widths[col]) for col, cell in enumerate(row)).rstrip())
