"""Matching reads: candidate retrieval from indexes, then ranking with :mod:`matching.scoring`.

Retrieval never scores the city: a post looks for seekers who want its trade in its own town (street or
town plus its villages, through the wanted-trades and area indexes), and widens to the travel radius around
it only when that gives too few; a seeker's posts are found the same way the other way round. Pairs the
claim gates would refuse anyway (blocked by the employer, already claimed, a clashing confirmed order, a
missing certificate, the employer's own members) are left out in the same query.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Area, Certificate, EmployerMember, RealName, ServicePoint, User, WorkerProfile
from jobs.models import Block, Claim, Order, Post, Trade

from . import scoring
from .models import Channel, Invitation, Recommendation, WorkerIndex
from .scoring import KM_PER_DEGREE, Fit, PostFacts, WorkerFacts

ACTIVE_CLAIMS = (Claim.Status.PENDING, Claim.Status.CONFIRMED)


def cfg(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ---------------------------------------------------------------------------------------------- facts


@dataclass
class AreaMap:
    """The small area table in memory: each area's town (street/town level) and district."""

    parent: dict[int, int | None]
    level: dict[int, str]
    name: dict[int, str]

    @classmethod
    def load(cls) -> AreaMap:
        rows = list(Area.objects.values_list("pk", "parent_id", "level", "name"))
        return cls(
            parent={pk: parent for pk, parent, _, _ in rows},
            level={pk: level for pk, _, level, _ in rows},
            name={pk: name for pk, _, _, name in rows},
        )

    def town(self, area_id: int | None) -> int | None:
        if area_id is None:
            return None
        level = self.level.get(area_id)
        if level == Area.Level.VILLAGE:
            return self.parent.get(area_id)
        return area_id if level == Area.Level.STREET else None

    def district(self, area_id: int | None) -> int | None:
        node = area_id
        while node is not None and self.level.get(node) != Area.Level.DISTRICT:
            node = self.parent.get(node)
        return node

    def town_areas(self, town_id: int) -> list[int]:
        return [town_id, *(pk for pk, parent in self.parent.items() if parent == town_id)]


def trade_table() -> dict[int, tuple[str, str, int | None]]:
    return {
        pk: (name, cat, cert)
        for pk, name, cat, cert in Trade.objects.values_list("pk", "name", "category", "certificate_type_id")
    }


POST_FIELDS = (
    "pk", "trade_id", "employer_id", "area_id", "district_id", "lat", "lng", "pay_fen", "pay_unit", "quantity",
    "starts_at", "ends_at", "slots", "slots_left", "title", "description",
)  # fmt: skip


def post_facts(row: dict, *, applicants: int, areas: AreaMap, trades: dict) -> PostFacts:
    name, category, cert = trades[row["trade_id"]]
    tz = timezone.get_current_timezone()
    return PostFacts(
        id=row["pk"],
        trade_id=row["trade_id"],
        trade_name=name,
        category=category,
        cert_type_id=cert,
        employer_id=row["employer_id"],
        area_id=row["area_id"],
        area_name=areas.name.get(row["area_id"], ""),
        town_id=areas.town(row["area_id"]),
        district_id=row["district_id"],
        lat=row["lat"],
        lng=row["lng"],
        pay_fen=row["pay_fen"],
        pay_unit=row["pay_unit"],
        quantity=float(row["quantity"]),
        starts_at=row["starts_at"].astimezone(tz),
        ends_at=row["ends_at"].astimezone(tz),
        slots=row["slots"],
        slots_left=row["slots_left"],
        applicants=applicants,
        text=f"{row['title']} {name} {row['description']}",
    )


PROFILE_FIELDS = (
    "pk", "user_id", "skills", "expected_pay_fen", "expected_pay_unit", "area_id", "lat", "lng", "availability",
    "available_from", "max_distance_km", "help_tier", "user__worker_stats__reliability",
    "user__worker_stats__rating_sum", "user__worker_stats__rating_count",
)  # fmt: skip


def worker_facts(
    row: dict, *, wanted: list[int], certificates: frozenset[int], areas: AreaMap, trades: dict
) -> WorkerFacts:
    count = row["user__worker_stats__rating_count"] or 0
    reliability = row["user__worker_stats__reliability"]
    skills = row["skills"] if isinstance(row["skills"], list) else []
    availability = row["availability"] if isinstance(row["availability"], list) else []
    return WorkerFacts(
        id=row["user_id"],
        wanted=frozenset(wanted),
        wanted_names={t: trades[t][0] for t in wanted if t in trades},
        wanted_categories=frozenset(trades[t][1] for t in wanted if t in trades),
        skills=tuple(str(s) for s in skills if isinstance(s, str) and len(s) >= 2),
        expected_pay_fen=row["expected_pay_fen"],
        expected_pay_unit=row["expected_pay_unit"],
        area_id=row["area_id"],
        town_id=areas.town(row["area_id"]),
        district_id=areas.district(row["area_id"]),
        lat=float(row["lat"]) if row["lat"] is not None else None,
        lng=float(row["lng"]) if row["lng"] is not None else None,
        availability=frozenset(str(a) for a in availability),
        available_from=row["available_from"],
        max_distance_km=row["max_distance_km"] or 20,
        reliability=100 if reliability is None else reliability,
        stars=round(row["user__worker_stats__rating_sum"] / count, 1) if count else None,
        help_tier=row["help_tier"] or 0,
        certificates=certificates,
    )


def wanted_by_profile(profile_ids: list[int]) -> dict[int, list[int]]:
    through = WorkerProfile.wanted_trades.through
    wanted: dict[int, list[int]] = {}
    for profile_id, trade_id in through.objects.filter(workerprofile_id__in=profile_ids).values_list(
        "workerprofile_id", "trade_id"
    ):
        wanted.setdefault(profile_id, []).append(trade_id)
    return wanted


def valid_certificates(user_ids: list[int]) -> dict[int, frozenset[int]]:
    held: dict[int, set[int]] = {}
    for user_id, type_id in Certificate.objects.filter(
        user_id__in=user_ids, status=Certificate.Status.APPROVED, expires_on__gte=timezone.localdate()
    ).values_list("user_id", "cert_type_id"):
        held.setdefault(user_id, set()).add(type_id)
    return {k: frozenset(v) for k, v in held.items()}


def applicant_counts(post_ids: list[int]) -> dict[int, int]:
    return dict(
        Claim.objects.filter(post_id__in=post_ids, status__in=ACTIVE_CLAIMS)
        .values_list("post_id")
        .annotate(n=Count("id"))
        .values_list("post_id", "n")
    )


def _box(lat: float, lng: float, km: float) -> Q:
    deg = km / KM_PER_DEGREE
    dlng = deg / max(0.01, math.cos(math.radians(lat)))
    return Q(lat__range=(lat - deg, lat + deg), lng__range=(lng - dlng, lng + dlng))


# ---------------------------------------------------------------------------------- posts for a worker


@dataclass
class PostMatch:
    post: Post
    score: float
    reason: str
    distance_km: float | None = None


def _profile_facts(worker: User, areas: AreaMap, trades: dict) -> WorkerFacts | None:
    row = WorkerProfile.objects.filter(user=worker).values(*PROFILE_FIELDS).first()
    if row is None:
        return None
    wanted = wanted_by_profile([row["pk"]]).get(row["pk"], [])
    certs = valid_certificates([worker.pk]).get(worker.pk, frozenset())
    return worker_facts(row, wanted=wanted, certificates=certs, areas=areas, trades=trades)


def open_posts_for(worker: User, *, now: dt.datetime) -> QuerySet[Post]:
    """Open posts this worker could still claim: not claimed yet, not blocked, not their own employer's, no
    clash with a confirmed order."""
    return (
        Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
        .exclude(Exists(Claim.objects.filter(post_id=OuterRef("pk"), worker=worker)))
        .exclude(Exists(Block.objects.filter(employer_id=OuterRef("employer_id"), worker=worker)))
        .exclude(Exists(EmployerMember.objects.filter(employer_id=OuterRef("employer_id"), user=worker)))
        .exclude(
            Exists(
                Order.objects.filter(
                    worker=worker,
                    status__in=Order.ACTIVE,
                    starts_at__lt=OuterRef("ends_at"),
                    ends_at__gt=OuterRef("starts_at"),
                )
            )
        )
    )


def posts_for_worker(*, worker: User, limit: int = 20, now: dt.datetime | None = None) -> list[PostMatch]:
    """为你推荐: the best open posts for a seeker, each with its score and reason (best first)."""
    now = now or timezone.now()
    if not getattr(worker, "is_authenticated", False) or worker.role != User.Role.SEEKER:
        return []
    areas, trades = AreaMap.load(), trade_table()
    wf = _profile_facts(worker, areas, trades)
    if wf is None:
        return []
    cap = cfg("MATCHING_CANDIDATES_PER_STAGE", 300)
    base = open_posts_for(worker, now=now)
    found: dict[int, dict] = {}

    def take(qs: QuerySet[Post]) -> None:
        for row in qs.exclude(pk__in=list(found)).order_by("-published_at", "-pk").values(*POST_FIELDS)[:cap]:
            found[row["pk"]] = row

    wanted = list(wf.wanted)
    # 1. the trades they want, in their own town (street/town and its villages)
    if wanted and wf.town_id:
        take(base.filter(trade_id__in=wanted, area_id__in=areas.town_areas(wf.town_id)))
    # 2. widen: the same trades within their travel radius (or district)
    if wanted and len(found) < limit * 3:
        if wf.lat is not None:
            take(base.filter(trade_id__in=wanted).filter(_box(wf.lat, wf.lng, wf.max_distance_km)))
        elif wf.district_id:
            take(base.filter(trade_id__in=wanted, district_id=wf.district_id))
    # 3. widen: the same kinds of work (trade category), nearby
    if len(found) < limit:
        categories = list(wf.wanted_categories)
        near = (
            _box(wf.lat, wf.lng, wf.max_distance_km)
            if wf.lat is not None
            else Q(district_id=wf.district_id)
            if wf.district_id
            else Q()
        )
        if categories:
            take(base.filter(trade__category__in=categories).filter(near))
        elif not wanted and (wf.lat is not None or wf.district_id):
            take(base.filter(near))  # no trade chosen yet: what is near them
    if not found:
        return []
    counts = applicant_counts(list(found))
    w = scoring.weights()
    ranked: list[tuple[float, PostFacts, Fit]] = []
    for row in found.values():
        pf = post_facts(row, applicants=counts.get(row["pk"], 0), areas=areas, trades=trades)
        fit = scoring.evaluate(wf, pf, w)
        if fit is not None:
            ranked.append((fit.score, pf, fit))
    ranked.sort(key=lambda t: (-t[0], t[1].starts_at, t[1].id))
    top = ranked[:limit]
    posts = Post.objects.select_related("trade", "employer", "area", "district").in_bulk(
        [pf.id for _, pf, _ in top]
    )
    return [
        PostMatch(
            post=posts[pf.id],
            score=fit.score,
            reason=scoring.reason(wf, pf, fit),
            distance_km=round(fit.distance_km, 1) if fit.distance_km is not None else None,
        )
        for _, pf, fit in top
        if pf.id in posts
    ]


# ---------------------------------------------------------------------------------- workers for a post


@dataclass
class WorkerMatch:
    worker_id: int
    score: float
    reason: str
    facts: WorkerFacts
    distance_km: float | None


def _exclusions(qs: QuerySet, post: Post, *, user_field: str, exclude_channels: tuple[str, ...]) -> QuerySet:
    """What the claim gates would refuse, as anti-joins on ``user_field``: blocked by the employer, already
    claimed, the employer's own member, a clashing confirmed order; and anyone already pushed this post."""
    ref = OuterRef(user_field)
    qs = (
        qs.exclude(Exists(Block.objects.filter(employer_id=post.employer_id, worker_id=ref)))
        .exclude(Exists(Claim.objects.filter(post_id=post.pk, worker_id=ref)))
        .exclude(Exists(EmployerMember.objects.filter(employer_id=post.employer_id, user_id=ref)))
        .exclude(
            Exists(
                Order.objects.filter(
                    worker_id=ref,
                    status__in=Order.ACTIVE,
                    starts_at__lt=post.ends_at,
                    ends_at__gt=post.starts_at,
                )
            )
        )
    )
    if exclude_channels:
        qs = qs.exclude(
            Exists(
                Recommendation.objects.filter(post_id=post.pk, worker_id=ref, channel__in=exclude_channels)
            )
        )
    return qs


def _certified(qs: QuerySet, pf: PostFacts, *, user_field: str) -> QuerySet:
    if pf.cert_type_id is None:
        return qs
    return qs.filter(
        Exists(
            Certificate.objects.filter(
                user_id=OuterRef(user_field),
                cert_type_id=pf.cert_type_id,
                status=Certificate.Status.APPROVED,
                expires_on__gte=timezone.localdate(),
            )
        )
    )


def candidate_profiles(
    post: Post, *, pf: PostFacts, exclude_channels: tuple[str, ...] = (), verified_only: bool = True
) -> QuerySet[WorkerProfile]:
    """Seekers who want this post's trade and could claim it; the rest of the gates are in the score."""
    qs = WorkerProfile.objects.filter(
        wanted_trades=post.trade_id, user__role=User.Role.SEEKER, user__is_active=True
    )
    if verified_only:
        qs = qs.filter(
            Exists(RealName.objects.filter(user_id=OuterRef("user_id"), status=RealName.Status.VERIFIED))
        )
    qs = _exclusions(qs, post, user_field="user_id", exclude_channels=exclude_channels)
    return _certified(qs, pf, user_field="user_id")


def _candidate_index(
    post: Post, *, pf: PostFacts, exclude_channels: tuple[str, ...]
) -> QuerySet[WorkerIndex]:
    qs = WorkerIndex.objects.filter(
        trade_id=post.trade_id,
        user__role=User.Role.SEEKER,
        user__is_active=True,
    ).filter(Exists(RealName.objects.filter(user_id=OuterRef("user_id"), status=RealName.Status.VERIFIED)))
    qs = _exclusions(qs, post, user_field="user_id", exclude_channels=exclude_channels)
    return _certified(qs, pf, user_field="user_id")


def workers_for_post(
    *,
    post: Post,
    limit: int = 20,
    exclude_channels: tuple[str, ...] = (),
    now: dt.datetime | None = None,
) -> list[WorkerMatch]:
    """The seekers who fit an open post best (best first). Retrieval through :class:`WorkerIndex`: those who
    want the trade in the post's town, nearest first, then within the widening radius (or the district)."""
    areas, trades = AreaMap.load(), trade_table()
    row = Post.objects.filter(pk=post.pk).values(*POST_FIELDS).first()
    if row is None:
        return []
    pf = post_facts(row, applicants=applicant_counts([post.pk]).get(post.pk, 0), areas=areas, trades=trades)
    base = _candidate_index(post, pf=pf, exclude_channels=exclude_channels)
    # Each step takes the nearest seekers first and stops at a pool a few times the list: a town can hold
    # thousands who want the trade, and each costs a score.
    cap = max(cfg("MATCHING_CANDIDATES_PER_STAGE", 300), limit * 8)
    if pf.lat is not None:
        k = math.cos(math.radians(pf.lat))
        table = WorkerIndex._meta.db_table
        nearness = RawSQL(  # noqa: S611 - k is computed here, the post's place goes in as parameters
            f'power("{table}"."lat" - %s, 2) + power(("{table}"."lng" - %s) * {k!r}, 2)',
            (pf.lat, pf.lng),
            output_field=FloatField(),
        )
        base = base.annotate(nearness=nearness).order_by(F("nearness").asc(nulls_last=True), "pk")
    else:
        base = base.order_by("pk")
    user_ids: list[int] = []

    def take(qs: QuerySet[WorkerIndex]) -> None:
        user_ids.extend(qs.exclude(user_id__in=user_ids).values_list("user_id", flat=True)[:cap])

    if pf.town_id:
        take(base.filter(town_id=pf.town_id))
    if len(user_ids) < limit * 3:
        if pf.lat is not None:
            take(base.filter(_box(pf.lat, pf.lng, cfg("MATCHING_WIDEN_KM", 30))))
        else:
            take(base.filter(Q(town__parent_id=pf.district_id) | Q(area_id=pf.district_id)))
    if not user_ids:
        return []
    found = {r["pk"]: r for r in WorkerProfile.objects.filter(user_id__in=user_ids).values(*PROFILE_FIELDS)}
    wanted = wanted_by_profile(list(found))
    certs = valid_certificates(user_ids) if pf.cert_type_id else {}
    w = scoring.weights()
    ranked: list[tuple[float, WorkerFacts, Fit]] = []
    for pk, r in found.items():
        wf = worker_facts(
            r,
            wanted=wanted.get(pk, []),
            certificates=certs.get(r["user_id"], frozenset()),
            areas=areas,
            trades=trades,
        )
        fit = scoring.evaluate(wf, pf, w)
        if fit is not None:
            ranked.append((fit.score, wf, fit))
    ranked.sort(key=lambda t: (-t[0], t[1].id))
    return [
        WorkerMatch(
            worker_id=wf.id,
            score=fit.score,
            reason=scoring.reason(wf, pf, fit, for_employer=True, w=w),
            facts=wf,
            distance_km=round(fit.distance_km, 1) if fit.distance_km is not None else None,
        )
        for _, wf, fit in ranked[:limit]
    ]


# ------------------------------------------------------------------------------------- employer's view


@dataclass
class WorkerCard:
    worker: User
    score: float
    reason: str
    distance_km: float | None
    reliability: int
    stars: float | None
    completed: int
    invited: bool


def recommended_workers(*, post: Post, limit: int = 20) -> list[WorkerCard]:
    """What an employer sees for its own post: the matches with masked identity, reliability and stars."""
    matches = workers_for_post(post=post, limit=limit)
    users = User.objects.select_related("realname", "worker_stats").in_bulk([m.worker_id for m in matches])
    invited = set(
        Invitation.objects.filter(post=post, worker_id__in=list(users)).values_list("worker_id", flat=True)
    )
    cards = []
    for m in matches:
        user = users.get(m.worker_id)
        if user is None:
            continue
        stats = getattr(user, "worker_stats", None)
        cards.append(
            WorkerCard(
                worker=user,
                score=m.score,
                reason=m.reason,
                distance_km=m.distance_km,
                reliability=stats.reliability if stats else 100,
                stars=stats.stars if stats else None,
                completed=stats.completed if stats else 0,
                invited=user.pk in invited,
            )
        )
    return cards


def post_for_member(*, pk: int, user: User) -> Post:
    """A post of an employer the user belongs to; anyone else's → DoesNotExist (404)."""
    return Post.objects.select_related("trade", "employer", "area").get(
        pk=pk, employer__in=EmployerMember.objects.filter(user=user).values("employer_id")
    )


def invitations_for_post(*, post: Post) -> QuerySet[Invitation]:
    return Invitation.objects.filter(post=post)


# --------------------------------------------------------------------------------------------- funnel


def funnel_figures(
    *, start: dt.datetime, end: dt.datetime, service_point: ServicePoint | int | None = None
) -> dict:
    """Recommendations made in [start, end): how many reached the seeker (sent), were opened (viewed) and
    led to a claim (claimed), with rates over sent, overall and per channel. ``service_point`` narrows to
    seekers registered at that point."""
    qs = Recommendation.objects.filter(created_at__gte=start, created_at__lt=end)
    if service_point is not None:
        point_id = service_point.pk if isinstance(service_point, ServicePoint) else int(service_point)
        qs = qs.filter(worker__service_point_id=point_id)
    sent_q = Q(sent_at__isnull=False)
    rows = qs.values("channel").annotate(
        recommended=Count("id"),
        sent=Count("id", filter=sent_q),
        viewed=Count("id", filter=sent_q & Q(viewed_at__isnull=False)),
        claimed=Count("id", filter=sent_q & Q(claimed_at__isnull=False)),
    )

    def figures(recommended: int, sent: int, viewed: int, claimed: int) -> dict:
        return {
            "recommended": recommended,
            "sent": sent,
            "viewed": viewed,
            "claimed": claimed,
            "view_rate": round(viewed / sent, 4) if sent else 0.0,
            "claim_rate": round(claimed / sent, 4) if sent else 0.0,
        }

    by_channel = {r["channel"]: figures(r["recommended"], r["sent"], r["viewed"], r["claimed"]) for r in rows}

    # Overall figures count (post, seeker) pairs, so one post sent by SMS and in-app is one recommendation.
    def pairs(extra: Q) -> int:
        return qs.filter(extra).values("post_id", "worker_id").distinct().count()

    totals = figures(
        pairs(Q()),
        pairs(sent_q),
        pairs(sent_q & Q(viewed_at__isnull=False)),
        pairs(sent_q & Q(claimed_at__isnull=False)),
    )
    return {**totals, "by_channel": by_channel, "channels": dict(Channel.choices)}


def recommendations_for_worker(*, worker: User) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(worker=worker)
