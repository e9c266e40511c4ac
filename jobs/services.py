"""Job writes: posts, claims, orders, contracts, ratings, blocks.

Capacity lives in the database: ``Post.slots_left`` only moves through guarded UPDATEs
(``… WHERE slots_left > 0``) and a CHECK constraint keeps it within 0..slots; a worker's overlapping
orders are excluded under a row lock on the worker. Every order transition is one function that checks the
current status with a compare-and-swap UPDATE and writes an :class:`~jobs.models.OrderEvent`; messages to
the other side go into the outbox in the same transaction.

**Lock order.** Every path that touches an order and its post takes its row locks in one order, so two
of them (a worker cancelling while the employer cancels the whole post, a check-in racing a dispute's
end…) queue behind each other instead of deadlocking:

1. the worker's user row — only where the worker's overlapping orders are checked (claims, a dispute's end);
2. the post row;
3. the post's order rows, in pk order (:func:`order_lock` takes 2 then 3 for one order);
4. the order's policy (insurance);
5. ledger accounts, in pk order (:mod:`wallet.ledger`).

A 抢单 inserts its claim and order before it takes the post's slot with the guarded UPDATE (new rows no
other transaction can see, so that is still worker → post); the disputes area locks its case before any of
these. The one exception is paying owed wages when money reaches an employer's account (wallet): it runs
after the account is locked and therefore only takes order rows nobody holds (``SKIP LOCKED``), never waits.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Area, Employer, EmployerMember, PayUnit, PhoneCode, User
from accounts.selectors import default_service_point, valid_certificate_exists
from accounts.validators import normalize_phone
from core import live
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed
from core.scoping import object_visible_to
from insurance import premiums as insurance_premiums
from insurance import services as insurance_services
from notifications.models import Message
from notifications.services import message_queue

from . import grab_front, money, selectors
from .contract import TEMPLATE_VERSION, content_hash, render_contract
from .models import Block, Claim, Contract, Order, OrderEvent, Post, Rating, Trade, WorkerStats
from .rules import distance_m, reliability, rules
from .search import index_tokens
from .signals import post_opened

MAX_PAY_FEN = 10_000_00  # 10,000 yuan per unit: anything above is a typo
MAX_DURATION = dt.timedelta(days=90)
MAX_LEAD = dt.timedelta(days=180)  # a post far in the future is a typo, and would sit on the board

# ----------------------------------------------------------------------------------------- helpers


def _local(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%m月%d日 %H:%M}"


def _notify(*, user: User, template: str, params: dict[str, Any], event: str, sms: bool = True) -> None:
    """An in-app notice always; an SMS too for what a worker must not miss."""
    message_queue(
        event_key=event, template=template, params=params, recipient=user, channel=Message.Channel.INAPP
    )
    if sms:
        message_queue(event_key=event, template=template, params=params, recipient=user)


def _notify_employer(*, employer: Employer, template: str, params: dict[str, Any], event: str) -> None:
    for member in EmployerMember.objects.filter(employer=employer).select_related("user"):
        sms = member.role == EmployerMember.Role.OWNER
        _notify(user=member.user, template=template, params=params, event=event, sms=sms)


def _is_member(employer: Employer | int, user: User) -> bool:
    employer_id = employer if isinstance(employer, int) else employer.pk
    return EmployerMember.objects.filter(employer_id=employer_id, user=user).exists()


def _require_member(employer: Employer | int, user: User) -> None:
    if not _is_member(employer, user):
        raise NotAllowed("您不是该用工主体的成员")


def _event(order: Order, *, actor: User | None, old: str, new: str, **data: Any) -> None:
    OrderEvent.objects.create(
        order=order,
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=old,
        to_status=new,
        data=data,
    )


def _move(order: Order, *, expected: tuple[str, ...], new: str, actor: User | None, message: str, **fields):
    """Compare-and-swap an order's status; refuse with ``message`` if it is no longer in ``expected``."""
    changed = Order.objects.filter(pk=order.pk, status__in=expected).update(status=new, **fields)
    if changed != 1:
        order.refresh_from_db(fields=["status"])
        raise InvalidTransition(f"{message}（订单当前：{order.get_status_display()}）")
    old = order.status
    for name, value in {"status": new, **fields}.items():
        setattr(order, name, value)
    return old


def _stats(user: User) -> WorkerStats:
    stats, _ = WorkerStats.objects.get_or_create(user=user)
    return stats


def _bump_stats(user: User, **increments: int) -> None:
    _stats(user)
    WorkerStats.objects.filter(user=user).update(**{k: F(k) + v for k, v in increments.items()})
    stats = WorkerStats.objects.get(user=user)
    score = reliability(completed=stats.completed, no_shows=stats.no_shows, late_cancels=stats.late_cancels)
    if score != stats.reliability:
        WorkerStats.objects.filter(pk=stats.pk).update(reliability=score)


def order_lock(*, order: Order | int, worker: bool = False) -> Order:
    """Lock one order for a transition, in the module's lock order: (its worker,) its post, then the order.
    Returns the order as stored, with its post and worker."""
    pk = order if isinstance(order, int) else order.pk
    post_id, worker_id = Order.objects.filter(pk=pk).values_list("post_id", "worker_id").get()
    if worker:
        User.objects.select_for_update().filter(pk=worker_id).first()
    Post.objects.select_for_update().filter(pk=post_id).first()
    return Order.objects.select_for_update(of=("self",)).select_related("post", "worker").get(pk=pk)


def quantity_ceiling(post: Post) -> Decimal:
    """The most a worker can report for one order of this post: the shift's length in the post's unit
    (hours; days counted as started 24-hour periods), the post's own figure for pieces and class hours, 1
    for a whole job (整单) — and never less than the quantity the post's money was set aside for. More
    than that is only paid when the employer confirms it."""
    span = Decimal(int((post.ends_at - post.starts_at).total_seconds()))
    if post.pay_unit == PayUnit.HOUR:
        by_post = (span / 3600).quantize(Decimal("0.01"), ROUND_CEILING)
    elif post.pay_unit == PayUnit.DAY:
        by_post = Decimal(math.ceil(span / 86400))
    elif post.pay_unit == PayUnit.JOB:
        by_post = Decimal(1)
    else:
        by_post = post.quantity
    return max(by_post, Decimal(post.quantity))


def _quantity(value: Any, *, field: str = "quantity") -> Decimal:
    try:
        quantity = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise DomainError("请填写正确的数量", field=field) from exc
    if not Decimal("0.01") <= quantity <= Decimal("10000"):
        raise DomainError("数量应在0.01到10000之间", field=field)
    return quantity


# -------------------------------------------------------------------------------------------- posts

POST_FIELDS = (
    "trade", "title", "description", "pay_fen", "pay_unit", "quantity", "slots", "area", "address", "lat",
    "lng", "starts_at", "ends_at", "mode", "insurance_required", "contact_name", "contact_phone",
)  # fmt: skip


def _clean_post(data: dict[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """Field-level checks for a post; raises ValidationError with every problem at once."""
    errors: dict[str, list[str]] = {}
    clean = dict(data)
    trade = data.get("trade")
    if not isinstance(trade, Trade) or not trade.is_active:
        errors["trade"] = ["请选择工种"]
    title = (data.get("title") or "").strip()
    if not 2 <= len(title) <= 60:
        errors["title"] = ["标题2–60个字"]
    clean["title"] = title
    clean["description"] = (data.get("description") or "").strip()[:2000]
    pay = data.get("pay_fen")
    if not isinstance(pay, int) or isinstance(pay, bool) or pay < 1:
        errors["pay_fen"] = ["报酬必须大于0"]
    elif pay > MAX_PAY_FEN:
        errors["pay_fen"] = ["报酬过高，请核对（单价不超过1万元）"]
    if data.get("pay_unit") not in PayUnit.values:
        errors["pay_unit"] = ["请选择计价单位"]
    try:
        clean["quantity"] = _quantity(data.get("quantity", 1))
    except DomainError as exc:
        errors["quantity"] = [exc.message]
    slots = data.get("slots")
    if not isinstance(slots, int) or isinstance(slots, bool) or not 1 <= slots <= 500:
        errors["slots"] = ["招工人数应为1–500人"]
    if not isinstance(data.get("area"), Area):
        errors["area"] = ["请选择工作地区"]
    if not (data.get("address") or "").strip():
        errors["address"] = ["请填写详细地址"]
    lat, lng = data.get("lat"), data.get("lng")
    if (lat is None) != (lng is None):
        errors["lat"] = ["经纬度需同时填写"]
    elif lat is not None and not (3.0 <= float(lat) <= 54.0 and 73.0 <= float(lng) <= 136.0):
        errors["lat"] = ["位置不在中国境内，请重新选择"]
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not isinstance(starts, dt.datetime):
        errors["starts_at"] = ["请填写开工时间"]
    elif starts <= now:
        errors["starts_at"] = ["开工时间已过，请重新选择"]
    elif starts - now > MAX_LEAD:
        errors["starts_at"] = ["只能发布半年内开工的岗位"]
    if not isinstance(ends, dt.datetime):
        errors["ends_at"] = ["请填写收工时间"]
    elif isinstance(starts, dt.datetime) and (ends <= starts or ends - starts > MAX_DURATION):
        errors["ends_at"] = ["收工时间应晚于开工时间，且不超过90天"]
    if data.get("mode", Post.Mode.GRAB) not in Post.Mode.values:
        errors["mode"] = ["请选择接单方式"]
    if not (data.get("contact_name") or "").strip():
        errors["contact_name"] = ["请填写联系人"]
    try:
        clean["contact_phone"] = normalize_phone(data.get("contact_phone") or "")
    except ValidationError as exc:
        errors["contact_phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return clean


def _district_of(area: Area) -> Area:
    node = area
    while node.level != Area.Level.DISTRICT and node.parent_id:
        node = node.parent
    return node


@transaction.atomic
def post_create(*, employer: Employer, actor: User, publish: bool = False, **data: Any) -> Post:
    """Create a post as a draft (or publish it at once). Employer members post for their employer; staff
    with ``jobs.post_on_behalf`` post for a walk-in employer, and are recorded as having done so."""
    unknown = set(data) - set(POST_FIELDS)
    if unknown:
        raise DomainError(f"未知字段：{', '.join(sorted(unknown))}")
    on_behalf = None
    if not _is_member(employer, actor):
        if actor.is_staff and actor.has_perm("jobs.post_on_behalf"):
            if not object_visible_to(actor, employer):
                raise NotAllowed("该用工主体不属于您的网点")
            on_behalf = actor
        else:
            raise NotAllowed("您不是该用工主体的成员")
    clean = _clean_post(data, now=timezone.now())
    post = Post(
        employer=employer,
        created_by=actor,
        on_behalf_by=on_behalf,
        service_point=(actor.service_point if on_behalf else employer.service_point)
        or default_service_point(),
        slots_left=clean["slots"],
        district=_district_of(clean["area"]),
        **{k: v for k, v in clean.items() if k in POST_FIELDS},
    )
    post.search_tokens = index_tokens(post.title, post.trade.name, post.description, post.area.name)
    post.save()
    if publish:
        post = post_publish(post=post, actor=actor)
    return post


@transaction.atomic
def post_update(*, post: Post, actor: User, **data: Any) -> Post:
    """Drafts can be edited freely; a published post cannot change under workers who already claimed."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_poster(post, actor)
    if post.status != Post.Status.DRAFT:
        raise InvalidTransition("已发布的岗位不能修改，请关闭后重新发布")
    merged = {name: getattr(post, name) for name in POST_FIELDS}
    merged.update(data)
    clean = _clean_post(merged, now=timezone.now())
    for name in POST_FIELDS:
        setattr(post, name, clean[name])
    post.slots_left = post.slots
    post.district = _district_of(post.area)
    post.search_tokens = index_tokens(post.title, post.trade.name, post.description, post.area.name)
    post.save()
    return post


def _require_poster(post: Post, actor: User) -> None:
    if _is_member(post.employer_id, actor):
        return
    if actor.is_staff and actor.has_perm("jobs.post_on_behalf") and post.on_behalf_by_id:
        return
    raise NotAllowed("您不能管理这个岗位")


@transaction.atomic
def post_publish(*, post: Post, actor: User) -> Post:
    post = Post.objects.select_for_update().select_related("employer").get(pk=post.pk)
    _require_poster(post, actor)
    # The employer's vetting gate lives in accounts; staff posting for a walk-in pass it as the employer.
    owner = post.employer.memberships.filter(role=EmployerMember.Role.OWNER).select_related("user").first()
    account_services.employer_assert_can_publish(
        employer=post.employer, user=actor if _is_member(post.employer_id, actor) else owner.user
    )
    if post.status != Post.Status.DRAFT:
        raise InvalidTransition("只有草稿可以发布")
    if post.starts_at <= timezone.now():
        raise DomainError("开工时间已过，不能发布", field="starts_at")
    if insurance_premiums.cover_required(post=post):
        quote = insurance_premiums.quote(risk_class=post.trade.risk_class)
        if not quote.insurable:
            raise DomainError(quote.reason, field="insurance_required", code="not_insurable")
    post.status, post.published_at = Post.Status.OPEN, timezone.now()
    post.save(update_fields=["status", "published_at"])
    # Money for every slot is set aside now, so no worker's 抢单 can fail for want of it.
    money.post_hold_fund(post=post, actor=actor)
    post_id = post.pk
    transaction.on_commit(lambda: post_opened.send(sender=Post, post_id=post_id))
    return post


@transaction.atomic
def post_close(*, post: Post, actor: User) -> Post:
    """Stop taking claims (招满了/不招了); confirmed orders stay. Pending applications are closed."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_poster(post, actor)
    if post.status not in (Post.Status.OPEN, Post.Status.FILLED):
        raise InvalidTransition("只有招工中或已招满的岗位可以关闭")
    post.status = Post.Status.CLOSED
    post.save(update_fields=["status"])
    grab_front.forget_on_commit(post.pk)  # the front's 「名额已满」 would now be 「已停止招工」
    for claim in post.claims.filter(status=Claim.Status.PENDING).select_related("worker"):
        _claim_close(claim, status=Claim.Status.EXPIRED, reason="岗位已停止招工")
    money.post_hold_release(post=post, reason="停止招工")
    return post


@transaction.atomic
def post_cancel(*, post: Post, actor: User, reason: str) -> Post:
    """Cancel the whole post: every confirmed order is cancelled by the employer, under the late-cancel
    compensation rule. An order in dispute that had not started is marked to be cancelled the same way when
    its case ends without an agreement (its escrow is held by the case until then). After the start nothing
    is cancelled: a worker who did not come is a no-show once the grace has passed."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_poster(post, actor)
    if post.status in (Post.Status.CANCELLED, Post.Status.EXPIRED):
        raise InvalidTransition("岗位已结束")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写取消原因，工人会看到它", field="reason")
    now, r = timezone.now(), rules()
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .filter(post=post, status__in=(*Order.ACTIVE, Order.Status.DISPUTED))
        .select_related("post", "worker")
        .order_by("pk")
    )
    origins = {o.pk: _disputed_from(o) for o in orders if o.status == Order.Status.DISPUTED}
    started = [o for o in orders if o.status in (Order.Status.CHECKED_IN, Order.Status.CHECKED_OUT)]
    started += [o for o in orders if origins.get(o.pk) in (Order.Status.CHECKED_IN, Order.Status.CHECKED_OUT)]
    if started:
        raise InvalidTransition("已有工人签到，不能取消整个岗位")
    if r.in_no_show_grace(starts_at=post.starts_at, now=now) and any(
        o.status == Order.Status.CONFIRMED for o in orders
    ):
        raise InvalidTransition(
            f"已过开工时间，工人仍可签到；开工{_minutes(r.no_show_grace)}后未签到的记为未到岗，之后再取消岗位"
        )
    for order in orders:
        if order.status == Order.Status.CONFIRMED and now >= order.starts_at:
            _no_show(order, actor=None)
        elif order.status == Order.Status.CONFIRMED:
            order_cancel_by_employer(order=order, actor=actor, reason=reason, _post_locked=True)
        elif origins.get(order.pk) == Order.Status.CONFIRMED:
            _mark_cancel_after_dispute(order, actor=actor, reason=reason, now=now)
    for claim in post.claims.filter(status=Claim.Status.PENDING):
        _claim_close(claim, status=Claim.Status.EXPIRED, reason="岗位已取消")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.CANCELLED, hidden_from="")
    post.status, post.hidden_from = Post.Status.CANCELLED, ""
    grab_front.forget_on_commit(post.pk)
    money.post_hold_release(post=post, reason="岗位取消")
    return post


def _mark_cancel_after_dispute(order: Order, *, actor: User, reason: str, now: dt.datetime) -> None:
    """The post of a disputed, not yet started order is cancelled: record the employer's cancellation (and
    the compensation due at this moment) for when the case ends; the escrow stays held until then."""
    r = rules()
    late = r.employer_cancel_is_late(starts_at=order.starts_at, now=now)
    compensation = r.compensation_fen(order.post.expected_amount_fen) if late else 0
    _event(
        order, actor=actor, old=order.status, new=order.status, post_cancelled=True, reason=reason[:200],
        late=late, compensation_fen=compensation,
    )  # fmt: skip
    extra = f"原因：{reason}。该订单正在调解，调解结束后按雇主取消处理" + (
        f"，您将获得补偿{compensation / 100:.2f}元。" if compensation else "。"
    )
    _notify(
        user=order.worker, template="order_cancelled",
        params={"post": order.post.title, "start": _local(order.starts_at), "by": "雇主", "extra": extra},
        event=f"order:{order.pk}:post_cancelled",
    )  # fmt: skip


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _hidden() -> Q:
    return Q(status=Post.Status.CLOSED) & ~Q(hidden_from="")


def posts_expire(*, now: dt.datetime | None = None) -> int:
    """Beat task body: posts whose start has passed stop taking claims (open, or hidden while a report is
    checked → expired) and give back what they still hold."""
    now = now or timezone.now()
    count = 0
    due = Post.objects.filter(Q(status=Post.Status.OPEN) | _hidden(), starts_at__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            expired = Post.objects.filter(Q(status=Post.Status.OPEN) | _hidden(), pk=pk).update(
                status=Post.Status.EXPIRED, hidden_from=""
            )
            count += expired
            if expired:
                grab_front.forget_on_commit(pk)
                money.post_hold_release(post=Post.objects.get(pk=pk), reason="岗位过期")
            for claim in Claim.objects.filter(post_id=pk, status=Claim.Status.PENDING).select_related("post"):
                _claim_close(claim, status=Claim.Status.EXPIRED, reason="岗位已开工")
    return count


@transaction.atomic
def posts_close_for_suspended_employer(*, employer: Employer, actor: User | None = None) -> int:
    """The employer was suspended: its posts still taking claims (or hidden for a report) leave the board
    and give back their holds; pending applications close. Confirmed orders run their course."""
    count = 0
    live = Post.objects.filter(Q(status__in=(Post.Status.OPEN, Post.Status.FILLED)) | _hidden())
    for post in live.filter(employer=employer).select_for_update().order_by("pk"):
        Post.objects.filter(pk=post.pk).update(status=Post.Status.CLOSED, hidden_from="")
        post.status, post.hidden_from = Post.Status.CLOSED, ""
        grab_front.forget_on_commit(post.pk)
        for claim in post.claims.filter(status=Claim.Status.PENDING).select_related("post", "worker"):
            _claim_close(claim, status=Claim.Status.EXPIRED, reason="用工主体已被暂停")
        money.post_hold_release(post=post, reason="用工主体暂停")
        count += 1
    return count


# ------------------------------------------------------------------------------------------- claims


def _take_slot(post_id: int) -> bool | str:
    """The guarded UPDATE: one slot, only if one is left, and the post marked filled in the same statement
    when it was the last (then answers ``FILLED_NOW``, which is truthy too). One statement holds the post's
    row lock, the one row every grab of a rush competes for, until the commit."""
    with connection.cursor() as cursor:
        cursor.execute(TAKE_SLOT, take_slot_params(post_id))
        row = cursor.fetchone()
    if row is None:
        return False
    live.slots_changed_on_commit(Post, post_id)  # 还剩 N 人 on open pages (docs/live.md)
    return FILLED_NOW if row[0] == Post.Status.FILLED else True


# SET reads the row as it was: the slot taken was the last when slots_left was 1. (PostgreSQL and SQLite.)
# jobs.grabbing runs the same UPDATE inside the statement that writes a grab's claim.
TAKE_SLOT = (
    f"UPDATE {Post._meta.db_table} SET slots_left = slots_left - 1, "  # noqa: S608 (the model's table name)
    "status = CASE WHEN slots_left = 1 THEN %(filled)s ELSE status END "
    "WHERE id = %(post)s AND status = %(open)s AND slots_left > 0 RETURNING status"
)


def take_slot_params(post_id: int) -> dict[str, Any]:
    return {"post": post_id, "filled": Post.Status.FILLED.value, "open": Post.Status.OPEN.value}


FILLED_NOW = "filled"


def _free_slot(post_id: int) -> None:
    Post.objects.filter(pk=post_id, slots_left__lt=F("slots")).update(slots_left=F("slots_left") + 1)
    grab_front.forget_on_commit(post_id)  # no 「名额已满」 from the front for a post with a free slot
    future = Post.objects.filter(pk=post_id, starts_at__gt=timezone.now())
    future.filter(status=Post.Status.FILLED).update(status=Post.Status.OPEN)
    # A hidden post that was full comes back open: it has a free slot now.
    future.filter(status=Post.Status.CLOSED, hidden_from=Post.Status.FILLED).update(
        hidden_from=Post.Status.OPEN
    )
    live.slots_changed_on_commit(Post, post_id)  # 还剩 N 人 on open pages (docs/live.md)


def _takes_claims(post_id: int) -> bool:
    """Whether a freed slot's money goes back to the post's hold: it takes claims, or will again once the
    report that hid it is checked."""
    return Post.objects.filter(
        Q(status=Post.Status.OPEN) | _hidden(), pk=post_id, starts_at__gt=timezone.now()
    ).exists()


def _employer_active(post: Post) -> None:
    if post.employer.status != Employer.Status.APPROVED:
        raise NotAllowed("该用工主体已被暂停，岗位暂不能接单", code="employer_suspended")


def _slot_refused(post_id: int, *, full: str) -> DomainError:
    """Why the guarded UPDATE took no slot, read after it (a cancel that committed meanwhile wins)."""
    status = Post.objects.filter(pk=post_id).values_list("status", flat=True).get()
    if status == Post.Status.CANCELLED:
        return InvalidTransition("岗位已取消", code="post_cancelled")
    if status not in (Post.Status.OPEN, Post.Status.FILLED):
        return InvalidTransition("该岗位已停止招工", code="post_closed")
    return Conflict(full, code="full")


def _check_worker_gates(post: Post, worker: User, *, rows: bool = True) -> None:
    """The worker may take this post; ``rows=False`` leaves out the membership and block rows (the short
    grab asks those with the worker's row lock, jobs/grabbing.py)."""
    if worker.role != User.Role.SEEKER or not worker.is_active:
        raise NotAllowed("只有求职者可以接单")
    if not worker.is_verified:
        raise NotAllowed("请先完成实名认证再接单", code="realname_required")
    if post.trade.certificate_type_id and not valid_certificate_exists(
        user=worker, cert_type_id=post.trade.certificate_type_id
    ):
        raise NotAllowed(
            f"“{post.trade.name}”是限制性工种，需要有效的{post.trade.certificate_type.name}",
            code="certificate_required",
        )
    if not rows:
        return
    if _is_member(post.employer_id, worker):
        raise NotAllowed("不能接自己单位发布的岗位")
    if Block.objects.filter(employer_id=post.employer_id, worker=worker).exists():
        raise NotAllowed("该雇主暂不接受您的报名", code="blocked")


def _check_no_overlap(post: Post, worker: User) -> None:
    """Called with the worker's row locked, so two parallel claims cannot both pass. An order in dispute
    counts while it had not finished (it may come back to that course when its case ends)."""
    clash = _overlapping(worker, starts_at=post.starts_at, ends_at=post.ends_at).first()
    if clash is not None:
        raise Conflict(
            f"与您已接的订单时间冲突：{clash.post.title}（{_local(clash.starts_at)}）", code="overlap"
        )


def _overlapping(worker: User | int, *, starts_at: dt.datetime, ends_at: dt.datetime):
    return (
        selectors.blocking_orders(worker=worker)
        .filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("post")
    )


def _open_order(claim: Claim, post: Post, *, actor: User | None, fund: bool = True) -> Order:
    order = Order.objects.create(
        claim=claim, post=post, worker=claim.worker, employer=post.employer, starts_at=post.starts_at,
        ends_at=post.ends_at,
    )  # fmt: skip
    _event(order, actor=actor, old="", new=Order.Status.CONFIRMED, claim=claim.pk, mode=post.mode)
    body = render_contract(order)
    Contract.objects.create(
        order=order, body=body, content_hash=content_hash(body), template_version=TEMPLATE_VERSION
    )
    _stats(claim.worker)
    insurance_services.policy_open(order=order)
    if fund:
        money.order_escrow_fund(order=order)
    return order


@transaction.atomic
def claim_create(*, post: Post, worker: User, note: str = "") -> Claim:
    """抢单 or 报名. Grab posts confirm at once while a slot is left; apply posts wait for the employer."""
    # Lock order: the worker first (overlap check), then the post row only through the guarded UPDATE.
    User.objects.select_for_update().filter(pk=worker.pk).first()
    post = Post.objects.select_related("trade__certificate_type", "employer", "area").get(pk=post.pk)
    if post.status == Post.Status.FILLED:
        raise Conflict("名额已满", code="full")
    if post.status == Post.Status.CANCELLED:
        raise InvalidTransition("岗位已取消", code="post_cancelled")
    if post.status != Post.Status.OPEN or post.starts_at <= timezone.now():
        raise InvalidTransition("该岗位已停止招工")
    _employer_active(post)
    _check_worker_gates(post, worker)
    if Claim.objects.filter(post=post, worker=worker).exists():
        raise Conflict("您已经接过/报过这个岗位", code="duplicate")
    _check_no_overlap(post, worker)
    if post.mode == Post.Mode.GRAB and post.slots_left <= 0:  # a quick no; the guarded UPDATE below decides
        raise Conflict("手慢了，名额已被抢完", code="full")
    status = Claim.Status.CONFIRMED if post.mode == Post.Mode.GRAB else Claim.Status.PENDING
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                post=post, worker=worker, status=status, note=(note or "").strip()[:200],
                decided_at=timezone.now() if status == Claim.Status.CONFIRMED else None,
            )  # fmt: skip
    except IntegrityError as exc:  # a parallel duplicate; the savepoint rollback undoes nothing else
        raise Conflict("您已经接过/报过这个岗位", code="duplicate") from exc
    params = {"post": post.title, "start": _local(post.starts_at), "place": f"{post.area.name}{post.address}"}
    if status == Claim.Status.CONFIRMED:
        order = _open_order(claim, post, actor=worker, fund=False)
        # The rows every grab of this post competes for (the post's slot count, then its money hold) are
        # locked last, as pretix takes its quota locks late: they stay locked for the commit only, not for
        # the whole claim. No slot left → everything above rolls back with the transaction.
        if not _take_slot(post.pk):
            raise _slot_refused(post.pk, full="手慢了，名额已被抢完")
        money.order_escrow_fund(order=order)
        _notify(user=worker, template="claim_confirmed", params=params, event=f"order:{order.pk}:confirmed")
        _notify_employer(
            employer=post.employer, template="contract_ready", params={"post": post.title},
            event=f"order:{order.pk}:contract",
        )  # fmt: skip
    else:
        _notify_employer(
            employer=post.employer, template="application_received", params={"post": post.title},
            event=f"claim:{claim.pk}:received",
        )  # fmt: skip
    return claim


@transaction.atomic
def claim_accept(*, claim: Claim, actor: User) -> Order:
    claim = Claim.objects.select_related("post").get(pk=claim.pk)
    _require_member(claim.post.employer_id, actor)
    User.objects.select_for_update().filter(pk=claim.worker_id).first()
    claim.refresh_from_db()
    post = Post.objects.select_related("trade", "employer", "area").get(pk=claim.post_id)
    if claim.status != Claim.Status.PENDING:
        raise InvalidTransition(f"该报名已{claim.get_status_display()}")
    if post.status == Post.Status.FILLED or post.slots_left == 0:
        raise Conflict("名额已满，不能再录用", code="full")
    if post.status != Post.Status.OPEN or post.starts_at <= timezone.now():
        raise InvalidTransition("该岗位已停止招工")
    _employer_active(post)
    _check_worker_gates(post, claim.worker)
    _check_no_overlap(post, claim.worker)
    if not _take_slot(post.pk):
        raise _slot_refused(post.pk, full="名额已满，不能再录用")
    now = timezone.now()
    if (
        Claim.objects.filter(pk=claim.pk, status=Claim.Status.PENDING).update(
            status=Claim.Status.CONFIRMED, decided_at=now
        )
        != 1
    ):
        raise InvalidTransition("该报名已被处理")
    claim.status, claim.decided_at = Claim.Status.CONFIRMED, now
    order = _open_order(claim, post, actor=actor)
    _notify(
        user=claim.worker, template="application_accepted",
        params={"post": post.title, "start": _local(post.starts_at), "place": f"{post.area.name}{post.address}"},
        event=f"order:{order.pk}:confirmed",
    )  # fmt: skip
    return order


def _claim_close(claim: Claim, *, status: str, reason: str = "") -> bool:
    closed = Claim.objects.filter(pk=claim.pk, status=Claim.Status.PENDING).update(
        status=status, decided_at=timezone.now(), reject_reason=reason[:200]
    )
    if closed:
        template = "application_rejected" if status == Claim.Status.REJECTED else "application_expired"
        _notify(
            user=claim.worker, template=template,
            params={"post": claim.post.title, "reason": f"原因：{reason}。" if reason and status == "rejected" else ""},
            event=f"claim:{claim.pk}:{status}",
        )  # fmt: skip
    return bool(closed)


@transaction.atomic
def claim_reject(*, claim: Claim, actor: User, reason: str = "") -> Claim:
    claim = Claim.objects.select_related("post").get(pk=claim.pk)
    _require_member(claim.post.employer_id, actor)
    if not _claim_close(claim, status=Claim.Status.REJECTED, reason=(reason or "").strip()):
        raise InvalidTransition("只能处理待确认的报名")
    claim.refresh_from_db()
    return claim


@transaction.atomic
def claim_withdraw(*, claim: Claim, worker: User, reason: str = "") -> Claim:
    """The worker takes back an application, or cancels a confirmed claim's order (freeing the slot)."""
    claim = Claim.objects.select_related("post").get(pk=claim.pk)
    if claim.worker_id != worker.pk:
        raise NotAllowed("不是您的报名")
    if claim.status == Claim.Status.PENDING:
        Claim.objects.filter(pk=claim.pk, status=Claim.Status.PENDING).update(
            status=Claim.Status.WITHDRAWN, decided_at=timezone.now()
        )
    elif claim.status == Claim.Status.CONFIRMED and claim.order_pending:
        raise InvalidTransition("订单正在生成，请几秒钟后再取消", code="order_pending")
    elif claim.status == Claim.Status.CONFIRMED:
        order_cancel_by_worker(order=claim.order, worker=worker, reason=reason or "工人撤回")
    else:
        raise InvalidTransition(f"该报名已{claim.get_status_display()}")
    claim.refresh_from_db()
    return claim


def applications_expire(*, now: dt.datetime | None = None) -> int:
    """Beat task body: applications unanswered for the configured time (or at the post's start) close."""
    now = now or timezone.now()
    ttl = rules().application_ttl
    stale = Claim.objects.filter(status=Claim.Status.PENDING).filter(
        Q(created_at__lte=now - ttl) | Q(post__starts_at__lte=now)
    )
    count = 0
    for claim in stale.select_related("post", "worker"):
        with transaction.atomic():
            count += _claim_close(claim, status=Claim.Status.EXPIRED)
    return count


# ------------------------------------------------------------------------------------------- orders


@transaction.atomic
def order_check_in(
    *, order: Order, worker: User, lat: float | None = None, lng: float | None = None
) -> Order:
    order = order_lock(order=order)
    if order.worker_id != worker.pk:
        raise NotAllowed("不是您的订单")
    if order.post.status == Post.Status.CANCELLED:
        raise InvalidTransition("岗位已取消，不能签到", code="post_cancelled")
    now, r = timezone.now(), rules()
    if r.check_in_too_early(starts_at=order.starts_at, now=now):
        raise DomainError(
            f"开工前{int(r.check_in_early.total_seconds() // 60)}分钟才能签到", code="too_early"
        )
    if now > order.ends_at:
        raise DomainError("已过收工时间，不能签到", code="too_late")
    data: dict[str, Any] = {}
    if (lat is None) != (lng is None):
        raise DomainError("位置信息不完整", field="lat")
    if lat is not None and order.post.lat is not None:
        try:
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError) as exc:
            raise DomainError("位置信息格式不正确", field="lat") from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise DomainError("位置信息超出范围", field="lat")
        meters = distance_m(lat, lng, order.post.lat, order.post.lng)
        if r.check_in_too_far(meters):
            raise DomainError(
                f"您离工作地点约{meters / 1000:.1f}公里，请到现场再签到", field="lat", code="too_far"
            )
        data = {"lat": lat, "lng": lng, "distance_m": round(meters)}
    old = _move(
        order, expected=(Order.Status.CONFIRMED,), new=Order.Status.CHECKED_IN, actor=worker,
        message="只有已确认的订单可以签到", checked_in_at=now,
    )  # fmt: skip
    _event(order, actor=worker, old=old, new=order.status, **data)
    insurance_services.policy_cover_start(order=order, at=now, actor=worker)
    _notify_employer(
        employer=order.employer, template="order_checked_in",
        params={"worker": worker.name, "post": order.post.title}, event=f"order:{order.pk}:checked_in",
    )  # fmt: skip
    return order


@transaction.atomic
def order_check_out(*, order: Order, worker: User, quantity: Any = None) -> Order:
    """Check-out with the hours/days/pieces worked, at most :func:`quantity_ceiling` of the post."""
    order = order_lock(order=order)
    if order.worker_id != worker.pk:
        raise NotAllowed("不是您的订单")
    now = timezone.now()
    # A checked-in worker before the start has worked nothing yet (an order in another state is refused by
    # the state check below, as before).
    if order.status == Order.Status.CHECKED_IN and rules().check_out_too_early(
        starts_at=order.starts_at, now=now
    ):
        raise DomainError(
            f"还没到开工时间（{_local(order.starts_at)}），开工后才能签退、填报工时", code="not_started"
        )
    qty = _quantity(order.post.quantity if quantity in (None, "") else quantity)
    ceiling = quantity_ceiling(order.post)
    if qty > ceiling:
        raise DomainError(
            f"最多可填报{ceiling.normalize():f}{order.post.get_pay_unit_display()}（按岗位的工作时长或数量）；"
            "实际更多的，请雇主确认完工时填写",
            field="quantity", code="above_ceiling",
        )  # fmt: skip
    old = _move(
        order, expected=(Order.Status.CHECKED_IN,), new=Order.Status.CHECKED_OUT, actor=worker,
        message="签到后才能签退", checked_out_at=now, worker_quantity=qty,
    )  # fmt: skip
    _event(order, actor=worker, old=old, new=order.status, quantity=str(qty))
    insurance_services.policy_cover_end(order=order, at=now, actor=worker)
    _notify_employer(
        employer=order.employer, template="order_checked_out",
        params={
            "worker": worker.name, "post": order.post.title, "quantity": str(qty),
            "unit": order.post.get_pay_unit_display(), "hours": int(rules().auto_approve.total_seconds() // 3600),
        },
        event=f"order:{order.pk}:checked_out",
    )  # fmt: skip
    return order


def _complete(order: Order, *, actor: User | None, quantity: Decimal, auto: bool, **data: Any) -> Order:
    amount = int((Decimal(order.post.pay_fen) * quantity).to_integral_value())
    old = _move(
        order, expected=(Order.Status.CHECKED_OUT,), new=Order.Status.COMPLETED, actor=actor,
        message="工人签退后才能确认完工", completed_at=timezone.now(), approved_quantity=quantity,
        amount_fen=amount, auto_approved=auto,
    )  # fmt: skip
    _event(
        order, actor=actor, old=old, new=order.status, quantity=str(quantity), amount_fen=amount, auto=auto,
        **data,
    )  # fmt: skip
    _bump_stats(order.worker, completed=1)
    money.order_release(order=order, actor=actor)
    _notify(
        user=order.worker, template="order_completed",
        params={
            "post": order.post.title, "quantity": str(quantity), "unit": order.post.get_pay_unit_display(),
            "amount": f"{amount / 100:.2f}",
        },
        event=f"order:{order.pk}:completed",
    )  # fmt: skip
    return order


@transaction.atomic
def order_confirm_completion(*, order: Order, actor: User, quantity: Any = None) -> Order:
    """The employer confirms the hours or pieces (defaults to what the worker reported). Confirming more
    than the escrow covers is the employer's own decision: the excess comes from its account, and what that
    cannot pay yet is owed wages, paid first from the next money that reaches the account."""
    order = order_lock(order=order)
    _require_member(order.employer_id, actor)
    if order.status != Order.Status.CHECKED_OUT:
        # Before check-out there is no reported quantity to default to: say what is wrong (the state).
        raise InvalidTransition(f"工人签退后才能确认完工（订单当前：{order.get_status_display()}）")
    qty = _quantity(order.worker_quantity if quantity in (None, "") else quantity)
    return _complete(order, actor=actor, quantity=qty, auto=False)


def orders_auto_approve(*, now: dt.datetime | None = None) -> int:
    """Beat task body: employers silent past the limit → the worker's figures are approved, up to the
    quantity the escrow holds (auto-approval never pays more than the escrow; more needs the employer)."""
    now = now or timezone.now()
    cutoff = now - rules().auto_approve
    count = 0
    due = Order.objects.filter(status=Order.Status.CHECKED_OUT, checked_out_at__lte=cutoff)
    for pk in due.order_by("pk").values_list("pk", flat=True):
        try:
            with transaction.atomic():
                order = order_lock(order=pk)
                reported = order.worker_quantity
                quantity = min(reported, Decimal(order.post.quantity))
                extra = {"reported": str(reported)} if quantity != reported else {}
                _complete(order, actor=None, quantity=quantity, auto=True, **extra)
                count += 1
        except InvalidTransition:
            continue  # confirmed meanwhile by the employer
    return count


@transaction.atomic
def order_cancel_by_worker(*, order: Order, worker: User, reason: str = "") -> Order:
    """The worker cancels before the start (free in the free windows, a late cancel otherwise). From the
    start on there is nothing left to cancel: not coming is a no-show, and is recorded as one."""
    order = order_lock(order=order)
    if order.worker_id != worker.pk:
        raise NotAllowed("不是您的订单")
    now, r = timezone.now(), rules()
    if order.status == Order.Status.CONFIRMED and now >= order.starts_at:
        _no_show(order, actor=worker, reason=reason or "开工后取消")
        _notify_employer(
            employer=order.employer, template="order_cancelled",
            params={"post": order.post.title, "start": _local(order.starts_at), "by": "工人",
                    "extra": "开工后取消，按未到岗处理"},
            event=f"order:{order.pk}:cancelled",
        )  # fmt: skip
        return order
    late = not r.worker_cancel_is_free(confirmed_at=order.confirmed_at, starts_at=order.starts_at, now=now)
    old = _move(
        order, expected=(Order.Status.CONFIRMED,), new=Order.Status.CANCELLED, actor=worker,
        message="只有未开工的订单可以取消", cancelled_by="worker", cancel_reason=(reason or "")[:200], late_cancel=late,
    )  # fmt: skip
    Claim.objects.filter(pk=order.claim_id).update(status=Claim.Status.WITHDRAWN, decided_at=now)
    _event(order, actor=worker, old=old, new=order.status, by="worker", late=late, reason=reason)
    _free_slot(order.post_id)
    money.order_refund(order=order, back_to_post=_takes_claims(order.post_id), reason="工人取消")
    if late:
        _bump_stats(worker, late_cancels=1)
    _notify_employer(
        employer=order.employer, template="order_cancelled",
        params={"post": order.post.title, "start": _local(order.starts_at), "by": "工人", "extra": reason or ""},
        event=f"order:{order.pk}:cancelled",
    )  # fmt: skip
    return order


@transaction.atomic
def order_cancel_by_employer(*, order: Order, actor: User, reason: str, _post_locked: bool = False) -> Order:
    """The employer cancels an order that has not started; closer to the start than the late-cancel
    window it pays the worker compensation. From the start on it cannot: a worker who does not come is a
    no-show after the grace."""
    order = order_lock(order=order)
    _require_member(order.employer_id, actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写取消原因，工人会看到它", field="reason")
    now, r = timezone.now(), rules()
    if order.status == Order.Status.CONFIRMED and now >= order.starts_at:
        raise InvalidTransition(
            f"已过开工时间，不能取消订单；工人开工{_minutes(r.no_show_grace)}分钟后仍未签到的，自动记为未到岗",
            code="started",
        )
    late = r.employer_cancel_is_late(starts_at=order.starts_at, now=now)
    compensation = r.compensation_fen(order.post.expected_amount_fen) if late else 0
    old = _move(
        order, expected=(Order.Status.CONFIRMED,), new=Order.Status.CANCELLED, actor=actor,
        message="只有未开工的订单可以取消", cancelled_by="employer", cancel_reason=reason[:200], late_cancel=late,
        compensation_fen=compensation,
    )  # fmt: skip
    _event(
        order, actor=actor, old=old, new=order.status, by="employer", late=late, compensation_fen=compensation
    )
    if not _post_locked:
        _free_slot(order.post_id)
    money.order_refund(
        order=order,
        compensation_fen=compensation,
        back_to_post=not _post_locked and _takes_claims(order.post_id),
        reason="雇主取消" + ("（含补偿）" if compensation else ""),
    )
    extra = f"您将获得补偿{compensation / 100:.2f}元。" if compensation else ""
    _notify(
        user=order.worker, template="order_cancelled",
        params={"post": order.post.title, "start": _local(order.starts_at), "by": "雇主", "extra": f"原因：{reason}。{extra}"},
        event=f"order:{order.pk}:cancelled",
    )  # fmt: skip
    return order


def _no_show(order: Order, *, actor: User | None, reason: str = "") -> None:
    """A confirmed order whose worker did not come (the caller holds the order's locks)."""
    old = _move(order, expected=(Order.Status.CONFIRMED,), new=Order.Status.NO_SHOW, actor=actor, message="")
    _event(
        order, actor=actor, old=old, new=order.status, reason=reason,
        grace_minutes=_minutes(rules().no_show_grace),
    )  # fmt: skip
    _bump_stats(order.worker, no_shows=1)
    money.order_refund(order=order, reason="工人未到岗")
    _notify(
        user=order.worker, template="order_no_show", params={"post": order.post.title},
        event=f"order:{order.pk}:no_show",
    )  # fmt: skip


def orders_mark_no_show(*, now: dt.datetime | None = None) -> int:
    """Beat task body: confirmed orders not checked in by start + grace become no-shows."""
    now = now or timezone.now()
    cutoff = now - rules().no_show_grace
    count = 0
    due = Order.objects.filter(status=Order.Status.CONFIRMED, starts_at__lte=cutoff)
    for pk in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            order = order_lock(order=pk)
            try:
                _no_show(order, actor=None)
            except InvalidTransition:
                continue
            count += 1
    return count


@transaction.atomic
def order_mark_disputed(
    *, order: Order, actor: User | None, reason: str = "", case_id: int | None = None
) -> Order:
    """Called by the disputes area when a case is filed on an order."""
    order = order_lock(order=order)
    old = _move(
        order, expected=(*Order.ACTIVE, Order.Status.COMPLETED, Order.Status.NO_SHOW), new=Order.Status.DISPUTED,
        actor=actor, message="该订单不能发起争议",
    )  # fmt: skip
    _event(order, actor=actor, old=old, new=order.status, reason=reason, case=case_id)
    return order


# ----------------------------------------------------------------------------------------- contract


def contract_code_send(*, order: Order, user: User) -> None:
    """Send the signer a confirmation code for this order's contract."""
    _contract_party(order, user)
    account_services.phone_code_send(phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM)


def _contract_party(order: Order, user: User) -> str:
    if order.worker_id == user.pk:
        return "worker"
    if _is_member(order.employer_id, user):
        return "employer"
    raise NotAllowed("您不是该协议的当事人")


def contract_sign(*, order: Order, user: User, code: str) -> Contract:
    """Confirm the contract with an SMS code. The code check commits on its own (see accounts)."""
    side = _contract_party(order, user)
    contract = Contract.objects.get(order=order)
    if content_hash(contract.body) != contract.content_hash:
        raise Conflict("协议内容校验失败，请联系服务网点")
    if (side == "worker" and contract.worker_signed_at) or (
        side == "employer" and contract.employer_signed_at
    ):
        raise InvalidTransition("您已确认过该协议")
    account_services.phone_code_check(phone=user.phone, purpose=PhoneCode.Purpose.CONFIRM, code=code)
    with transaction.atomic():
        now = timezone.now()
        if side == "worker":
            Contract.objects.filter(pk=contract.pk, worker_signed_at__isnull=True).update(
                worker_signed_at=now
            )
        else:
            Contract.objects.filter(pk=contract.pk, employer_signed_at__isnull=True).update(
                employer_signed_at=now, employer_signed_by=user
            )
        _event(
            order,
            actor=user,
            old=order.status,
            new=order.status,
            contract_signed=side,
            hash=contract.content_hash,
        )
    contract.refresh_from_db()
    return contract


# ---------------------------------------------------------------------------------- ratings, blocks


@transaction.atomic
def rating_create(*, order: Order, rater: User, stars: int, comment: str = "") -> Rating:
    order = Order.objects.get(pk=order.pk)
    if order.worker_id == rater.pk:
        direction = Rating.Direction.WORKER_TO_EMPLOYER
    elif _is_member(order.employer_id, rater):
        direction = Rating.Direction.EMPLOYER_TO_WORKER
    else:
        raise NotAllowed("不是您的订单")
    if order.status != Order.Status.COMPLETED:
        raise InvalidTransition("完工后才能评价")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise DomainError("请选择1–5星", field="stars")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                order=order,
                direction=direction,
                rater=rater,
                stars=stars,
                comment=(comment or "").strip()[:300],
            )
    except IntegrityError as exc:
        raise Conflict("您已评价过该订单") from exc
    if direction == Rating.Direction.EMPLOYER_TO_WORKER:
        _bump_stats(order.worker, rating_sum=stars, rating_count=1)
    return rating


@transaction.atomic
def block_create(*, employer: Employer, actor: User, worker: User, reason: str = "") -> Block:
    _require_member(employer, actor)
    if not Order.objects.filter(employer=employer, worker=worker).exists():
        raise DomainError("只能拉黑与本单位有过订单的工人")
    block, created = Block.objects.get_or_create(
        employer=employer, worker=worker, defaults={"reason": (reason or "")[:200], "created_by": actor}
    )
    if not created:
        raise Conflict("已在拉黑名单中")
    return block


@transaction.atomic
def block_remove(*, block: Block, actor: User) -> None:
    _require_member(block.employer_id, actor)
    block.delete()


# ============================================================================ disputes hooks
# The way back out of DISPUTED, and hiding a reported post while staff check it (disputes/services.py).


def _disputed_from(order: Order) -> str:
    """The status the order had when its dispute began (the newest move into DISPUTED)."""
    event = (
        OrderEvent.objects.filter(order=order, to_status=Order.Status.DISPUTED)
        .exclude(from_status=Order.Status.DISPUTED)
        .order_by("-pk")
        .first()
    )
    return event.from_status if event and event.from_status else Order.Status.CHECKED_OUT


def _post_cancelled_during(order: Order) -> OrderEvent | None:
    """The record :func:`post_cancel` left on this disputed order, if its post was cancelled meanwhile."""
    began = (
        OrderEvent.objects.filter(order=order, to_status=Order.Status.DISPUTED)
        .exclude(from_status=Order.Status.DISPUTED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return (
        OrderEvent.objects.filter(order=order, pk__gt=began or 0, data__post_cancelled=True)
        .order_by("pk")
        .last()
    )


@transaction.atomic
def order_dispute_end(
    *, order: Order, actor: User | None, case_id: int, outcome: str, amount_fen: int | None = None
) -> Order:
    """The case on this order ended. The order's ending decides its money (docs/money.md):

    - ``outcome="agreed"`` with ``amount_fen`` (what the agreement makes the employer pay now, on top of
      anything paid before): the order is completed with that pay; the caller moves the escrow
      (money.order_settle_by_agreement). A policy whose cover never began is cancelled, its premium back.
    - any other outcome, on an order that had not started when the case was filed: if its post was
      cancelled meanwhile, it is cancelled by the employer with the compensation due when the post was
      cancelled; if its start has passed meanwhile, it is cancelled without fault (the worker could not work
      an order held by a case); if the worker took another order for the same hours, likewise. Otherwise it
      is confirmed again.
    - any other outcome, otherwise: the order goes back to the status it came from, and the usual rules
      (auto-approval, refunds) take over again.
    """
    order = order_lock(order=order, worker=True)
    now = timezone.now()
    fields: dict[str, Any] = {}
    origin = _disputed_from(order) if order.status == Order.Status.DISPUTED else ""
    refund: dict[str, Any] | None = None
    if outcome == "agreed":
        if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen < 0:
            raise DomainError("协议金额不正确", field="worker_amount_fen")
        fields["amount_fen"] = order.paid_fen + amount_fen
        if order.completed_at is None:
            fields["completed_at"] = now
        new = Order.Status.COMPLETED
    elif origin == Order.Status.CONFIRMED:
        cancelled = _post_cancelled_during(order) if order.post.status == Post.Status.CANCELLED else None
        clash = (
            _overlapping(order.worker_id, starts_at=order.starts_at, ends_at=order.ends_at)
            .exclude(pk=order.pk)
            .first()
        )
        new = Order.Status.CANCELLED
        if cancelled is not None:
            fields = {
                "cancelled_by": "employer", "cancel_reason": cancelled.data.get("reason", "")[:200],
                "late_cancel": bool(cancelled.data.get("late")),
                "compensation_fen": int(cancelled.data.get("compensation_fen") or 0),
            }  # fmt: skip
            refund = {"compensation_fen": fields["compensation_fen"], "reason": "岗位取消（调解结束）"}
        elif now >= order.starts_at or clash is not None:
            why = "调解期间已过开工时间" if clash is None else f"与订单{clash.pk}时间冲突"
            fields = {"cancelled_by": "dispute", "cancel_reason": why}
            refund = {"reason": f"调解结束：{why}"}
        else:
            new = Order.Status.CONFIRMED
    else:
        new = origin or Order.Status.CONFIRMED
    old = _move(
        order, expected=(Order.Status.DISPUTED,), new=new, actor=actor, message="订单不在争议中", **fields
    )
    _event(order, actor=actor, old=old, new=new, case=case_id, outcome=outcome, amount_fen=amount_fen,
           **({"cancelled_by": fields["cancelled_by"]} if refund is not None else {}))  # fmt: skip
    if refund is not None:
        back = order.starts_at > now and order.post.status != Post.Status.CANCELLED
        if back:
            _free_slot(order.post_id)
        Claim.objects.filter(pk=order.claim_id).update(status=Claim.Status.WITHDRAWN, decided_at=now)
        money.order_refund(order=order, back_to_post=back and _takes_claims(order.post_id), **refund)
    elif outcome == "agreed" and order.checked_in_at is None:
        # Agreed before the worker was ever on site: the cover never began, so the premium goes back.
        insurance_services.policy_cancel_for_order(order=order, back_to_post=False, reason="调解结案，未开工")
    elif new == Order.Status.COMPLETED and outcome != "agreed":
        # Owed wages on it were frozen with the case; money that came in meanwhile pays them now. (An
        # agreement's pay is the settlement's to make: money.order_settle_by_agreement, right after.)
        money.owed_wages_pay(employer=order.employer)
    return order


@transaction.atomic
def post_hide_for_review(*, post: Post, actor: User | None) -> str:
    """A reported post stops showing (closed) while staff check it. Its held money stays held (a slot a
    worker frees meanwhile brings its money back to the hold) so it can come back as it was. Returns the
    status it had."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status not in (Post.Status.OPEN, Post.Status.FILLED):
        raise InvalidTransition("该岗位已不在招工中")
    old = post.status
    Post.objects.filter(pk=post.pk).update(status=Post.Status.CLOSED, hidden_from=old)
    grab_front.forget_on_commit(post.pk)
    return old


@transaction.atomic
def post_restore(*, post: Post, actor: User | None, status: str = "") -> Post:
    """The report was unfounded: the post shows again — open while it has a free slot, else filled — or
    expires, if its start passed meanwhile. A post that is no longer hidden (its employer cancelled it, it
    expired, its employer was suspended) stays as it is, so the case can still close. ``status`` is the
    status the case recorded, for posts hidden before the post kept it itself."""
    post = Post.objects.select_for_update(of=("self",)).select_related("employer").get(pk=post.pk)
    if post.status != Post.Status.CLOSED:
        if post.status in (Post.Status.CANCELLED, Post.Status.EXPIRED):
            return post
        raise InvalidTransition("该岗位不能恢复")
    legacy = (
        status in (Post.Status.OPEN, Post.Status.FILLED) and post.employer.status == Employer.Status.APPROVED
    )
    if not (post.hidden_from or legacy):
        return post  # closed for another reason meanwhile (suspension): not the report's to undo
    grab_front.forget_on_commit(post.pk)
    if post.starts_at <= timezone.now():
        Post.objects.filter(pk=post.pk).update(status=Post.Status.EXPIRED, hidden_from="")
        money.post_hold_release(post=post, reason="岗位过期")
        for claim in post.claims.filter(status=Claim.Status.PENDING).select_related("post", "worker"):
            _claim_close(claim, status=Claim.Status.EXPIRED, reason="岗位已开工")
    else:
        new = Post.Status.OPEN if post.slots_left > 0 else Post.Status.FILLED
        Post.objects.filter(pk=post.pk).update(status=new, hidden_from="")
        if new == Post.Status.OPEN:
            transaction.on_commit(lambda: post_opened.send(sender=Post, post_id=post.pk))
    post.refresh_from_db()
    return post


@transaction.atomic
def post_remove_after_review(*, post: Post, actor: User | None) -> Post:
    """The report was upheld: the post stays closed for good, its held money goes back to the employer and
    pending applications are closed. Confirmed orders are left to their own course. A post that already
    ended (cancelled, expired) stays as it is."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status in (Post.Status.CANCELLED, Post.Status.EXPIRED):
        return post
    if post.status != Post.Status.CLOSED:
        raise InvalidTransition("该岗位不在待核实状态")
    Post.objects.filter(pk=post.pk).update(hidden_from="")
    post.hidden_from = ""
    for claim in post.claims.filter(status=Claim.Status.PENDING).select_related("post", "worker"):
        _claim_close(claim, status=Claim.Status.EXPIRED, reason="岗位经核实已下架")
    money.post_hold_release(post=post, reason="举报核实下架")
    return post
