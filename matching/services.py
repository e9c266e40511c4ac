"""Matching writes: pushing a post to the seekers who fit it (活找人), the second push before the start,
employers' invitations with a one-tap claim link, the nightly digest, and the funnel marks (viewed,
claimed).

Every recommendation is a :class:`~matching.models.Recommendation` row written in the same transaction as
its message; the notifications rules decide whether a marketing SMS may go (consent, switches, quiet hours,
daily cap) and ``message_queue`` returning None leaves the row with ``sent_at`` empty. Each push wave of a
post is claimed once through a unique :class:`~matching.models.PostPush` row, so a repeated signal, a retried
task or two beat workers never push twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from jobs import services as jobs_services
from jobs.models import Block, Claim, Post
from jobs.selectors import is_member
from notifications.models import Message, Preference
from notifications.push import push_recommendation
from notifications.services import Outgoing, message_queue, message_queue_bulk

from . import scoring, selectors
from .models import Channel, Invitation, PostPush, Recommendation, Suggestion

logger = logging.getLogger(__name__)

LINK_SALT = "matching.recommendation"
INVITE_SALT = "matching.invitation"
PUSH_CHANNELS = (Channel.SMS, Channel.INAPP)


def _cfg(name: str, default):
    return getattr(settings, name, default)


def site_url(path: str) -> str:
    return _cfg("MATCHING_SITE_URL", "").rstrip("/") + path


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".")


def _post_params(post: Post, *, reason: str, link: str) -> dict:
    return {
        "post": post.title,
        "pay": f"{_yuan(post.pay_fen)}元/{post.get_pay_unit_display()}",
        "place": post.area.name,
        "start": f"{timezone.localtime(post.starts_at):%m月%d日 %H:%M}",
        "reason": reason,
        "link": link,
    }


# --------------------------------------------------------------------------------------------- links


def short_code() -> str:
    """A link's short code: 8 random bytes (64 bits) in 11 URL-safe characters, so an SMS link stays near
    30 characters and nobody can guess another worker's."""
    return secrets.token_urlsafe(8)


def recommendation_link(rec: Recommendation) -> str:
    """The short link for a recommendation (``/r/<code>``); a row without a code gets the long signed one."""
    if rec.code:
        return site_url(reverse("short_recommendation", args=[rec.code]))
    token = signing.dumps(rec.pk, salt=LINK_SALT, compress=True)
    return site_url(reverse("matching:open_link", args=[token]))


def recommendation_from_code(code: str) -> Recommendation:
    """The recommendation behind a short link; an unknown code → DoesNotExist (404)."""
    return Recommendation.objects.select_related("post").get(code=code)


def invitation_link(invitation: Invitation) -> str:
    if invitation.code:
        return site_url(reverse("short_invitation", args=[invitation.code]))
    return site_url(reverse("matching:invitation", args=[invitation_token(invitation)]))


def invitation_path_from_code(code: str) -> str:
    """Where a short invitation link leads: the invitation page under its signed token (which checks who
    opens it and the expiry). Unknown code → DoesNotExist (404)."""
    return reverse("matching:invitation", args=[invitation_token(Invitation.objects.get(code=code))])


def recommendation_from_token(token: str) -> Recommendation:
    """The recommendation a link stands for; a forged or mangled token → DoesNotExist (404)."""
    try:
        pk = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature as exc:
        raise Recommendation.DoesNotExist from exc
    if not isinstance(pk, int):
        raise Recommendation.DoesNotExist
    return Recommendation.objects.select_related("post").get(pk=pk)


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "w": invitation.worker_id}, salt=INVITE_SALT, compress=True)


def invitation_from_token(token: str, *, now: dt.datetime | None = None) -> Invitation:
    """The invitation behind a one-tap link. Forged → DoesNotExist; past the post's start → DomainError."""
    try:
        data = signing.loads(token, salt=INVITE_SALT)
    except signing.BadSignature as exc:
        raise Invitation.DoesNotExist from exc
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise Invitation.DoesNotExist
    invitation = Invitation.objects.select_related("post__area", "post__trade", "post__employer").get(
        pk=data["i"], worker_id=data.get("w")
    )
    if (now or timezone.now()) >= invitation.expires_at:
        raise DomainError("邀请链接已过期（岗位已开工）", code="expired")
    return invitation


# ---------------------------------------------------------------------------------------------- push


def push_post(*, post_id: int, wave: int = 1, now: dt.datetime | None = None) -> int:
    """Push an open post to the best-fitting seekers not yet pushed it: an in-app message for each, a
    marketing SMS for those who consented. Returns how many seekers were picked (0 if this wave ran)."""
    now = now or timezone.now()
    size = _cfg("MATCHING_PUSH_SIZE", 30)
    with transaction.atomic():
        post = Post.objects.select_related("area").filter(pk=post_id).first()
        if post is None or post.status != Post.Status.OPEN or post.starts_at <= now:
            return 0
        if wave > 1 and post.slots_left == 0:
            return 0
        try:
            with transaction.atomic():
                push = PostPush.objects.create(post=post, wave=wave, created_at=now)
        except IntegrityError:
            return 0  # this wave already went out
        matches = selectors.workers_for_post(post=post, limit=size, exclude_channels=PUSH_CHANNELS, now=now)
        users = User.objects.in_bulk([m.worker_id for m in matches])
        for match in matches:
            user = users.get(match.worker_id)
            if user is not None:
                _push_one(post=post, user=user, score=match.score, reason=match.reason, wave=wave, now=now)
        push.workers = len(matches)
        push.save(update_fields=["workers"])
    logger.info("post %s wave %s pushed to %s seekers", post_id, wave, len(matches))
    return len(matches)


def _push_one(*, post: Post, user: User, score: float, reason: str, wave: int, now: dt.datetime) -> None:
    for channel, template in ((Channel.INAPP, "post_recommended_inapp"), (Channel.SMS, "post_recommended")):
        rec = Recommendation.objects.create(
            post=post, worker=user, channel=channel, wave=wave, score=score, reason=reason, created_at=now,
            code=short_code(),
        )  # fmt: skip
        message = message_queue(
            event_key=f"match:{post.pk}:{user.pk}",
            template=template,
            params=_post_params(post, reason=reason, link=recommendation_link(rec)),
            recipient=user,
            channel=Message.Channel.INAPP if channel == Channel.INAPP else Message.Channel.SMS,
        )
        if message is not None:
            Recommendation.objects.filter(pk=rec.pk).update(sent_at=now)
        if channel == Channel.INAPP and message is not None:
            # 叮咚: the same recommendation as a Web Push to the seeker's installed app, if they turned it on.
            push_recommendation(recipient=user, event_key=message.event_key, params=message.params)


def posts_push_due(*, now: dt.datetime | None = None) -> int:
    """Beat: the second push for open posts still short of workers close to their start, and the first push
    for a recently opened post whose task was lost. Returns the number of posts pushed."""
    now = now or timezone.now()
    lead = _cfg("MATCHING_SECOND_PUSH_LEAD", dt.timedelta(hours=12))
    pushed = 0
    open_posts = Post.objects.filter(status=Post.Status.OPEN, starts_at__gt=now)
    second = open_posts.filter(starts_at__lte=now + lead, slots_left__gt=0).exclude(
        Exists(PostPush.objects.filter(post_id=OuterRef("pk"), wave=2))
    )
    for pk in second.values_list("pk", flat=True)[:500]:
        pushed += bool(push_post(post_id=pk, wave=2, now=now))
    missed = open_posts.filter(published_at__gte=now - dt.timedelta(hours=1)).exclude(
        Exists(PostPush.objects.filter(post_id=OuterRef("pk"), wave=1))
    )
    for pk in missed.values_list("pk", flat=True)[:500]:
        pushed += bool(push_post(post_id=pk, wave=1, now=now))
    return pushed


# --------------------------------------------------------------------------------------------- funnel


def record_shown(*, worker: User, matches: list, channel: str = Channel.FOR_YOU) -> None:
    """为你推荐 shown to the seeker: one row per post (the first showing counts), sent = shown."""
    now = timezone.now()
    Recommendation.objects.bulk_create(
        [
            Recommendation(
                post=m.post,
                worker=worker,
                channel=channel,
                score=m.score,
                reason=m.reason[:120],
                created_at=now,
                sent_at=now,
            )
            for m in matches
        ],
        ignore_conflicts=True,
    )


def mark_viewed(*, rec: Recommendation, now: dt.datetime | None = None) -> None:
    Recommendation.objects.filter(pk=rec.pk, viewed_at__isnull=True).update(viewed_at=now or timezone.now())


def mark_viewed_from_for_you(*, worker: User, post: Post, now: dt.datetime | None = None) -> None:
    """The seeker opened the post from 为你推荐 (a row exists once the page showed it)."""
    Recommendation.objects.filter(
        post=post, worker=worker, channel=Channel.FOR_YOU, viewed_at__isnull=True
    ).update(viewed_at=now or timezone.now())


def mark_invitation_viewed(*, invitation: Invitation, now: dt.datetime | None = None) -> None:
    Recommendation.objects.filter(
        post_id=invitation.post_id,
        worker_id=invitation.worker_id,
        channel=Channel.INVITE,
        viewed_at__isnull=True,
    ).update(viewed_at=now or timezone.now())


def mark_claimed(*, post_id: int, worker_id: int, now: dt.datetime | None = None) -> int:
    """A claim (抢单/报名) on a recommended post closes the funnel for every channel that reached them."""
    now = now or timezone.now()
    Invitation.objects.filter(post_id=post_id, worker_id=worker_id, accepted_at__isnull=True).update(
        accepted_at=now
    )
    return Recommendation.objects.filter(
        post_id=post_id, worker_id=worker_id, sent_at__isnull=False, claimed_at__isnull=True
    ).update(claimed_at=now)


# ------------------------------------------------------------------------------------------- invites


@transaction.atomic
def invitation_create(
    *, post: Post, worker_id: int, actor: User, now: dt.datetime | None = None
) -> Invitation:
    """An employer's member invites a recommended seeker: an Invitation, and an SMS (not marketing: it was
    asked for personally, but the per-number limits still apply) plus an in-app message with a one-tap
    claim link valid until the post starts."""
    now = now or timezone.now()
    post = (
        Post.objects.select_for_update(of=("self",))
        .select_related("area", "trade", "employer")
        .get(pk=post.pk)
    )
    if not is_member(employer_id=post.employer_id, user=actor):
        raise NotAllowed("您不是该用工主体的成员")
    if post.status != Post.Status.OPEN or post.starts_at <= now:
        raise InvalidTransition("岗位不在招工中，不能邀请")
    worker = User.objects.filter(pk=worker_id, role=User.Role.SEEKER, is_active=True).first()
    if worker is None:
        raise DomainError("没有这位求职者", field="worker", code="not_found")
    if Block.objects.filter(employer_id=post.employer_id, worker=worker).exists():
        raise NotAllowed("您已拉黑这位工人，不能邀请", code="blocked")
    if Claim.objects.filter(post=post, worker=worker).exists():
        raise Conflict("这位工人已经接过/报过这个岗位", code="duplicate")
    if Invitation.objects.filter(post=post, worker=worker).exists():
        raise Conflict("已经邀请过这位工人", code="duplicate")
    limit = _cfg("MATCHING_INVITES_PER_POST", 30)
    if Invitation.objects.filter(post=post).count() >= max(limit, post.slots):
        raise Conflict(f"每个岗位最多邀请{max(limit, post.slots)}人", code="invite_limit")
    areas, trades = selectors.AreaMap.load(), selectors.trade_table()
    post_row = Post.objects.filter(pk=post.pk).values(*selectors.POST_FIELDS).first()
    applicants = selectors.applicant_counts([post.pk]).get(post.pk, 0)
    pf = selectors.post_facts(post_row, applicants=applicants, areas=areas, trades=trades)
    # Only a seeker the recommendations could show: verified, wants the trade, certificate, no clash.
    row = (
        selectors.candidate_profiles(post, pf=pf)
        .filter(user_id=worker.pk)
        .values(*selectors.PROFILE_FIELDS)
        .first()
    )
    if row is None:
        raise DomainError(
            "这位求职者目前不适合这个岗位（未实名、缺少证书、时间冲突或不想干这个工种）",
            field="worker",
            code="not_a_match",
        )
    wf = selectors.worker_facts(
        row,
        wanted=selectors.wanted_by_profile([row["pk"]]).get(row["pk"], []),
        certificates=selectors.valid_certificates([worker.pk]).get(worker.pk, frozenset()),
        areas=areas,
        trades=trades,
    )
    fit = scoring.evaluate(wf, pf)
    why = scoring.reason(wf, pf, fit, for_employer=False) if fit else "雇主邀请"
    score = fit.score if fit else 0.0
    invitation = Invitation.objects.create(
        post=post,
        worker=worker,
        invited_by=actor,
        created_at=now,
        expires_at=post.starts_at,
        code=short_code(),
    )
    Recommendation.objects.create(
        post=post, worker=worker, channel=Channel.INVITE, score=score, reason=why, created_at=now, sent_at=now
    )
    link = invitation_link(invitation)
    params = {**_post_params(post, reason=why, link=link), "employer": post.employer.name}
    event = f"invite:{invitation.pk}"
    message_queue(
        event_key=event, template="post_invitation", params=params, recipient=worker, channel="inapp"
    )
    sms = message_queue(event_key=event, template="post_invitation", params=params, recipient=worker)
    invitation.sms_sent = sms is not None
    invitation.save(update_fields=["sms_sent"])
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Claim:
    """The invited seeker taps 接受: a claim through every gate of ``claim_create``."""
    if invitation.worker_id != user.pk:
        raise Invitation.DoesNotExist
    return jobs_services.claim_create(post=invitation.post, worker=user, note="应雇主邀请")


# -------------------------------------------------------------------------------------------- digest


def digest_send(*, now: dt.datetime | None = None, per_worker: int = 3, chunk: int = 1000) -> int:
    """Nightly: each seeker who agreed to recommendations gets one SMS with their best open posts from the
    last batch (or computed now when the batch has none for them). Returns the number of SMS queued.

    Set-based: ``chunk`` seekers per transaction, each step one query for all of them (who had today's digest,
    their best suggestions still open and unclaimed, the recommendation rows), the messages written with
    ``message_queue_bulk`` and dispatched a batch per task. Same result as :func:`_digest_one` per seeker."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    consenting = Preference.objects.filter(
        marketing_consent=True, sms_recommendations=True, user__role=User.Role.SEEKER, user__is_active=True
    ).values_list("user_id", flat=True)
    ids = list(User.objects.filter(pk__in=consenting).order_by("pk").values_list("pk", flat=True))
    sent = 0
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            sent += _digest_many(user_ids=ids[start : start + chunk], day=day, now=now, per_worker=per_worker)
    return sent


def _digest_params(picks: list, *, link: str) -> dict:
    first_post, _, first_reason = picks[0]
    return {"count": len(picks), "post": first_post.title, "reason": first_reason, "link": link}


def _digest_many(*, user_ids: list[int], day: dt.date, now: dt.datetime, per_worker: int) -> int:
    keys = {uid: f"digest:{day.isoformat()}:{uid}" for uid in user_ids}
    done = set(
        Message.objects.filter(event_key__in=list(keys.values()), channel=Message.Channel.SMS).values_list(
            "event_key", flat=True
        )
    )
    todo = [uid for uid in user_ids if keys[uid] not in done]  # a rerun of the task skips today's
    if not todo:
        return 0
    users = User.objects.in_bulk(todo)
    best = (
        Suggestion.objects.filter(worker_id__in=todo, post__status=Post.Status.OPEN, post__starts_at__gt=now)
        .exclude(Exists(Claim.objects.filter(post_id=OuterRef("post_id"), worker_id=OuterRef("worker_id"))))
        .annotate(nth=Window(RowNumber(), partition_by=[F("worker_id")], order_by=F("rank").asc()))
        .filter(nth__lte=per_worker)
        .select_related("post__area")
        .order_by("worker_id", "rank")
    )
    picks: dict[int, list] = defaultdict(list)
    for s in best:
        picks[s.worker_id].append((s.post, s.score, s.reason))
    for uid in todo:
        if not picks[uid] and uid in users:  # none from the batch: computed now, as 为你推荐 does
            picks[uid] = [
                (m.post, m.score, m.reason)
                for m in selectors.posts_for_worker(worker=users[uid], limit=per_worker, now=now)
            ]
    chosen = [uid for uid in todo if picks[uid]]
    if not chosen:
        return 0
    wanted = {(uid, post.pk): (post, score, why) for uid in chosen for post, score, why in picks[uid]}
    Recommendation.objects.bulk_create(
        [
            Recommendation(
                post=post,
                worker_id=uid,
                channel=Channel.DIGEST,
                score=score,
                reason=why[:120],
                created_at=now,
            )
            for (uid, _), (post, score, why) in wanted.items()
        ],
        ignore_conflicts=True,  # rows already there (an earlier digest of the same post) are kept as they are
    )
    recs: dict[int, list[int]] = defaultdict(list)
    for pk, worker_id, post_id in Recommendation.objects.filter(
        channel=Channel.DIGEST, worker_id__in=chosen, post_id__in={post_id for _, post_id in wanted}
    ).values_list("pk", "worker_id", "post_id"):
        if (worker_id, post_id) in wanted:
            recs[worker_id].append(pk)
    link = site_url(reverse("matching:for_you"))
    messages = message_queue_bulk(
        Outgoing(keys[uid], "matching_digest", _digest_params(picks[uid], link=link), recipient=users[uid])
        for uid in chosen
    )
    written = [uid for uid, message in zip(chosen, messages, strict=True) if message is not None]
    Recommendation.objects.filter(
        pk__in=[pk for uid in written for pk in recs[uid]], sent_at__isnull=True
    ).update(sent_at=now)
    return len(written)


def _digest_one(*, user: User, day: dt.date, now: dt.datetime, per_worker: int) -> int:
    """One seeker's digest, seeker by seeker: the reference the set-based :func:`_digest_many` is checked
    against (tests/matching)."""
    event_key = f"digest:{day.isoformat()}:{user.pk}"
    if Message.objects.filter(event_key=event_key, channel=Message.Channel.SMS).exists():
        return 0  # today's digest went out already (a rerun of the task)
    rows = list(
        Suggestion.objects.filter(worker=user, post__status=Post.Status.OPEN, post__starts_at__gt=now)
        .exclude(Exists(Claim.objects.filter(post_id=OuterRef("post_id"), worker=user)))
        .select_related("post__area")
        .order_by("rank")[:per_worker]
    )
    picks = [(s.post, s.score, s.reason) for s in rows]
    if not picks:
        picks = [
            (m.post, m.score, m.reason)
            for m in selectors.posts_for_worker(worker=user, limit=per_worker, now=now)
        ]
    if not picks:
        return 0
    first_post, _, first_reason = picks[0]
    recs = []
    for post, score, why in picks:
        rec, _ = Recommendation.objects.get_or_create(
            post=post,
            worker=user,
            channel=Channel.DIGEST,
            defaults={"score": score, "reason": why[:120], "created_at": now},
        )
        recs.append(rec)
    message = message_queue(
        event_key=event_key,
        template="matching_digest",
        params={
            "count": len(picks),
            "post": first_post.title,
            "reason": first_reason,
            "link": site_url(reverse("matching:for_you")),
        },
        recipient=user,
    )
    if message is None:
        return 0
    Recommendation.objects.filter(pk__in=[r.pk for r in recs], sent_at__isnull=True).update(sent_at=now)
    return 1
