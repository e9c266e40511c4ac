"""Insurance writes: an order's policy from confirmation to the end of its cover, and accident claims.

Policy: ``pending`` (opened inside the order's confirmation; the premium moved to insurance payable with
the order's pay) → ``issued`` (the insurer's policy number, asked for after commit) → ``active`` (check-in)
→ ``ended`` (check-out). ``pending`` → ``failed`` when the insurer refuses, and ``pending``/``issued`` →
``cancelled`` when the order ends before check-in; both send the premium back. A policy still waiting for
its number at check-in keeps the cover times and takes the right status when the number arrives.

Claim: ``reported`` (the insured worker, or staff for them) → ``under_review`` → ``approved`` (payout from
the insurer into the worker's wallet through the ledger, keyed on the claim) | ``rejected`` (reason).

Every change is a compare-and-swap on the status with an event row in the same transaction; messages go to
the outbox in that transaction; calls to the insurer happen outside any transaction and are retried.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import EmployerMember
from core.dispatch import dispatch, dispatch_on_commit
from core.errors import DomainError, InvalidTransition, NotAllowed
from core.scoping import object_visible_to
from core.uploads import CheckedUpload, upload_check
from notifications.models import Message
from notifications.services import message_queue
from wallet import ledger
from wallet import services as wallet
from wallet.models import LedgerTransaction

from .backends import InsurerRefused, InsurerUnavailable, IssueRequest, get_insurer
from .models import AccidentClaim, ClaimDocument, ClaimEvent, Policy, PolicyEvent
from .payable import premium_account_of
from .premiums import post_quote
from .selectors import order_model

logger = logging.getLogger("gigmarket.insurance")

MAX_DOCUMENTS = 10
OVERDUE_COVER_GRACE = dt.timedelta(hours=12)
RETRY_PENDING_AFTER = dt.timedelta(minutes=5)
RETRY_PENDING_MAX_ATTEMPTS = 30

# ------------------------------------------------------------------------------------------ helpers


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _policy_event(policy: Policy, *, actor, old: str, new: str, **data: Any) -> None:
    PolicyEvent.objects.create(
        policy=policy, actor=actor if getattr(actor, "pk", None) else None, from_status=old, to_status=new,
        data=data,
    )  # fmt: skip


def _claim_event(claim: AccidentClaim, *, actor, old: str, new: str, **data: Any) -> None:
    ClaimEvent.objects.create(
        claim=claim, actor=actor if getattr(actor, "pk", None) else None, from_status=old, to_status=new,
        data=data,
    )  # fmt: skip


def _move(model, obj, *, expected: tuple[str, ...], new: str, message: str, **fields) -> str:
    """Compare-and-swap ``obj``'s status; refuse with ``message`` if it is no longer in ``expected``."""
    changed = model.objects.filter(pk=obj.pk, status__in=expected).update(status=new, **fields)
    if changed != 1:
        obj.refresh_from_db(fields=["status"])
        raise InvalidTransition(f"{message}（当前：{obj.get_status_display()}）")
    old = obj.status
    for name, value in {"status": new, **fields}.items():
        setattr(obj, name, value)
    return old


def _notify(*, user, template: str, params: dict[str, Any], event: str, sms: bool = True) -> None:
    message_queue(
        event_key=event, template=template, params=params, recipient=user, channel=Message.Channel.INAPP
    )
    if sms:
        message_queue(event_key=event, template=template, params=params, recipient=user)


def _notify_employer(*, employer, template: str, params: dict[str, Any], event: str) -> None:
    for member in EmployerMember.objects.filter(employer=employer).select_related("user"):
        _notify(
            user=member.user, template=template, params=params, event=event,
            sms=member.role == EmployerMember.Role.OWNER,
        )  # fmt: skip


def _require_staff_perm(actor, perm: str, message: str, obj=None) -> None:
    if not (actor.is_active and actor.is_staff and actor.has_perm(perm)):
        raise NotAllowed(message)
    if obj is not None and not object_visible_to(actor, obj):
        raise NotAllowed("该记录不属于您的网点")


# ------------------------------------------------------------------------------------------ policies


def policy_open(*, order) -> Policy | None:
    """Inside the order's confirmation: the pending policy, on the terms the post was published with, when
    the post needs cover. The insurer is asked for the number after commit."""
    fixed = post_quote(post=order.post)
    if fixed is None or not fixed.required or not fixed.insurable:
        return None
    policy, created = Policy.objects.get_or_create(
        order=order,
        defaults={
            "risk_class": fixed.risk_class,
            "premium_fen": fixed.premium_fen,
            "cover_fen": fixed.cover_fen,
        },
    )
    if created:
        _policy_event(policy, actor=None, old="", new=policy.status, premium_fen=policy.premium_fen)
        dispatch_on_commit("insurance.tasks.issue_policy", policy.pk)
    return policy


def _issue_request(policy: Policy) -> IssueRequest:
    order = policy.order
    realname = getattr(order.worker, "realname", None)
    return IssueRequest(
        policy_id=policy.pk, request_no=str(policy.request_no), order_no=f"GM{order.pk:010d}",
        policyholder_name=order.employer.name, insured_name=realname.name if realname else order.worker.name,
        insured_id_number=realname.id_number if realname else "", trade=order.post.trade.name,
        risk_class=policy.risk_class, cover_start=order.starts_at, cover_end=order.ends_at,
        cover_fen=policy.cover_fen, premium_fen=policy.premium_fen,
    )  # fmt: skip


def policy_issue(*, policy_id: int) -> Policy | None:
    """Ask the insurer for the policy number; idempotent (the request number is the policy's own).

    Raises :class:`InsurerUnavailable` when it should be tried again (the attempt is recorded); a refusal
    fails the policy and returns the premium."""
    policy = (
        Policy.objects.select_related("order__post__trade", "order__employer", "order__worker__realname")
        .filter(pk=policy_id)
        .first()
    )
    if policy is None or policy.status != Policy.Status.PENDING:
        return policy
    Policy.objects.filter(pk=policy.pk).update(attempts=F("attempts") + 1)
    try:
        issued = get_insurer().issue(_issue_request(policy))
    except InsurerRefused as exc:
        try:
            return policy_fail(policy=policy, reason=exc.reason, code=exc.code)
        except InvalidTransition:  # cancelled meanwhile: the premium went back with the order already
            policy.refresh_from_db()
            return policy
    except InsurerUnavailable as exc:
        Policy.objects.filter(pk=policy.pk).update(last_error=str(exc)[:200])
        raise
    with transaction.atomic():
        # Only the policy row: in jobs.services' lock order the policy comes after its order and post.
        policy = (
            Policy.objects.select_for_update(of=("self",)).select_related("order__post").get(pk=policy_id)
        )
        if policy.status != Policy.Status.PENDING:
            if policy.status == Policy.Status.CANCELLED and not policy.policy_number:
                # The order was cancelled while the insurer was writing the policy: take it back there too.
                Policy.objects.filter(pk=policy.pk).update(
                    policy_number=issued.policy_number, insurer=issued.insurer
                )
                _queue_insurer_cancel(policy.pk)
            return policy
        new = (
            Policy.Status.ENDED
            if policy.cover_to
            else Policy.Status.ACTIVE
            if policy.cover_from
            else Policy.Status.ISSUED
        )
        old = _move(
            Policy, policy, expected=(Policy.Status.PENDING,), new=new, message="保单已处理",
            policy_number=issued.policy_number, insurer=issued.insurer, issued_at=timezone.now(), last_error="",
        )  # fmt: skip
        _policy_event(policy, actor=None, old=old, new=new, policy_number=issued.policy_number)
        order = policy.order
        _notify(
            user=order.worker, template="policy_issued",
            params={"post": order.post.title, "number": issued.policy_number, "cover": _yuan(policy.cover_fen)},
            event=f"policy:{policy.pk}:issued",
        )  # fmt: skip
    return policy


@transaction.atomic
def premium_refund(*, order, premium_fen: int, back_to_post: bool, memo: str) -> LedgerTransaction:
    """A policy undone before its cover began (order cancelled, insurer refused): the premium leaves insurance
    payable (the account it went into) for the post's hold (the slot is open again) or the employer's account. At most once per order.
    Its callers pay owed wages from it when they are done (see :func:`jobs.money.owed_wages_pay`)."""
    target = ledger.post_hold(order.post) if back_to_post else ledger.employer_account(order.employer)
    # From the insurer-payable account the premium went into (insurance/payable.py).
    source = premium_account_of(order=order) or ledger.insurance_payable()
    return ledger.transfer(
        key=f"order:{order.pk}:premium-refund", kind=LedgerTransaction.Kind.REFUND,
        legs=[(source, -premium_fen), (target, premium_fen)], order=order, memo=memo,
    )  # fmt: skip


@transaction.atomic
def policy_fail(*, policy: Policy, reason: str, code: str = "", actor=None) -> Policy:
    """The insurer refused the policy: it fails, the premium goes back to the employer, and the employer is
    told (the order goes on without cover; staff see failed policies in the console and the figures)."""
    policy = (
        Policy.objects.select_for_update(of=("self",))
        .select_related("order__post", "order__employer")
        .get(pk=policy.pk)
    )
    old = _move(
        Policy, policy, expected=(Policy.Status.PENDING,), new=Policy.Status.FAILED, message="只有出单中的保单会出单失败",
        failed_at=timezone.now(), last_error=reason[:200],
    )  # fmt: skip
    _policy_event(policy, actor=actor, old=old, new=policy.status, reason=reason, code=code)
    order = policy.order
    premium_refund(
        order=order, premium_fen=policy.premium_fen, back_to_post=False, memo="保险出单失败退回保费"
    )
    wallet.employer_credited_announce(employer=order.employer)
    _notify_employer(
        employer=order.employer, template="policy_failed",
        params={"post": order.post.title, "reason": reason, "premium": _yuan(policy.premium_fen)},
        event=f"policy:{policy.pk}:failed",
    )  # fmt: skip
    logger.warning("policy %s failed: insurer code %s", policy.pk, code or "-")
    return policy


def policy_cancel_for_order(*, order, back_to_post: bool, reason: str) -> Policy | None:
    """Called by jobs (jobs.money) when an order ends before check-in (cancelled, no-show): a policy whose cover
    never began is cancelled and its premium returned with the order's pay (to the post's hold when the slot
    opens again, else to the employer). A no-show's issued policy ends instead, its premium earned."""
    policy = Policy.objects.select_for_update().filter(order_id=order.pk).first()
    if policy is None or policy.status not in (Policy.Status.PENDING, Policy.Status.ISSUED):
        return policy
    if policy.cover_from is not None:
        return policy  # the worker was on site: cover began, nothing to undo
    if order.status == "no_show" and policy.status == Policy.Status.ISSUED:
        # The insurer wrote cover for the shift and the worker did not come: the premium stays earned.
        old = _move(
            Policy,
            policy,
            expected=(Policy.Status.ISSUED,),
            new=Policy.Status.ENDED,
            message="保单状态已变化",
        )
        _policy_event(policy, actor=None, old=old, new=policy.status, reason=reason, no_show=True)
        return policy
    old = _move(
        Policy, policy, expected=(Policy.Status.PENDING, Policy.Status.ISSUED), new=Policy.Status.CANCELLED,
        message="保单不能退保", cancelled_at=timezone.now(),
    )  # fmt: skip
    _policy_event(policy, actor=None, old=old, new=policy.status, reason=reason, back_to_post=back_to_post)
    premium_refund(
        order=order, premium_fen=policy.premium_fen, back_to_post=back_to_post, memo="退保退回保费"
    )
    if policy.policy_number:
        _queue_insurer_cancel(policy.pk)
    return policy


def _queue_insurer_cancel(policy_id: int) -> None:
    dispatch_on_commit("insurance.tasks.cancel_policy_at_insurer", policy_id)


def policy_insurer_cancel(*, policy_id: int) -> Policy | None:
    """Tell the insurer a cancelled policy is taken back (after commit; retried when unavailable)."""
    policy = Policy.objects.filter(pk=policy_id).first()
    if (
        policy is None
        or policy.status != Policy.Status.CANCELLED
        or not policy.policy_number
        or policy.insurer_cancelled_at
    ):
        return policy
    try:
        get_insurer().cancel(
            policy_number=policy.policy_number,
            request_no=f"{policy.request_no}-cancel",
            reason="订单未开工取消",
        )
    except InsurerRefused as exc:
        Policy.objects.filter(pk=policy.pk).update(last_error=f"退保未被接受：{exc.reason}"[:200])
        logger.error("insurer refused to cancel policy %s (code %s)", policy.pk, exc.code or "-")
        return policy
    except InsurerUnavailable as exc:
        Policy.objects.filter(pk=policy.pk).update(last_error=f"退保通知未送达：{exc}"[:200])
        raise
    with transaction.atomic():
        if Policy.objects.filter(pk=policy.pk, insurer_cancelled_at__isnull=True).update(
            insurer_cancelled_at=timezone.now(), last_error=""
        ):
            _policy_event(policy, actor=None, old=policy.status, new=policy.status, insurer_cancelled=True)
    policy.refresh_from_db()
    return policy


def policy_cover_start(*, order, at: dt.datetime, actor=None) -> Policy | None:
    """Check-in: cover begins (issued → active; a policy still waiting for its number keeps the time)."""
    policy = Policy.objects.select_for_update().filter(order_id=order.pk).first()
    if policy is None or policy.cover_from is not None:
        return policy
    if policy.status == Policy.Status.ISSUED:
        old = _move(
            Policy, policy, expected=(Policy.Status.ISSUED,), new=Policy.Status.ACTIVE, message="保单状态已变化",
            cover_from=at,
        )  # fmt: skip
        _policy_event(policy, actor=actor, old=old, new=policy.status, cover_from=at.isoformat())
    elif policy.status == Policy.Status.PENDING:
        Policy.objects.filter(pk=policy.pk).update(cover_from=at)
        policy.cover_from = at
        _policy_event(policy, actor=actor, old=policy.status, new=policy.status, cover_from=at.isoformat())
    return policy


def policy_cover_end(*, order, at: dt.datetime, actor=None) -> Policy | None:
    """Check-out: cover ends (active → ended; a policy still waiting for its number keeps the time)."""
    policy = Policy.objects.select_for_update().filter(order_id=order.pk).first()
    if policy is None or policy.cover_from is None or policy.cover_to is not None:
        return policy
    if policy.status == Policy.Status.ACTIVE:
        old = _move(
            Policy, policy, expected=(Policy.Status.ACTIVE,), new=Policy.Status.ENDED, message="保单状态已变化",
            cover_to=at,
        )  # fmt: skip
        _policy_event(policy, actor=actor, old=old, new=policy.status, cover_to=at.isoformat())
    elif policy.status == Policy.Status.PENDING:
        Policy.objects.filter(pk=policy.pk).update(cover_to=at)
        policy.cover_to = at
        _policy_event(policy, actor=actor, old=policy.status, new=policy.status, cover_to=at.isoformat())
    return policy


def policies_end_overdue(*, now: dt.datetime | None = None) -> int:
    """Beat task body: cover of a worker who never checked out ends with the order's planned end (the period
    the insurer wrote), once that is well past."""
    now = now or timezone.now()
    count = 0
    overdue = Policy.objects.filter(
        status=Policy.Status.ACTIVE, cover_to__isnull=True, order__ends_at__lte=now - OVERDUE_COVER_GRACE
    ).select_related("order")
    for policy in overdue:
        with transaction.atomic():
            end = max(policy.order.ends_at, policy.cover_from)
            if Policy.objects.filter(pk=policy.pk, status=Policy.Status.ACTIVE).update(
                status=Policy.Status.ENDED, cover_to=end
            ):
                _policy_event(
                    policy, actor=None, old=Policy.Status.ACTIVE, new=Policy.Status.ENDED,
                    cover_to=end.isoformat(), overdue=True,
                )  # fmt: skip
                count += 1
    return count


def policies_retry_pending(*, now: dt.datetime | None = None) -> int:
    """Beat task body: policies still waiting for their number (the insurer was down) are asked again."""
    now = now or timezone.now()
    stale = Policy.objects.filter(
        status=Policy.Status.PENDING,
        created_at__lte=now - RETRY_PENDING_AFTER,
        attempts__lt=RETRY_PENDING_MAX_ATTEMPTS,
    ).values_list("pk", flat=True)
    count = 0
    for pk in stale:
        dispatch("insurance.tasks.issue_policy", pk)
        count += 1
    return count


def policies_retry_insurer_cancel(*, now: dt.datetime | None = None) -> int:
    """Sweep (beat and the worker's own timer): cancelled policies the insurer was never told about (its
    after-commit task was lost with the broker, or it gave up while the insurer was down) are told again."""
    now = now or timezone.now()
    missed = Policy.objects.filter(
        status=Policy.Status.CANCELLED,
        insurer_cancelled_at__isnull=True,
        cancelled_at__lte=now - RETRY_PENDING_AFTER,
    ).exclude(policy_number="")
    count = 0
    for pk in missed.order_by("pk").values_list("pk", flat=True)[:500]:
        dispatch("insurance.tasks.cancel_policy_at_insurer", pk)
        count += 1
    return count


def policy_issue_retry(*, policy: Policy, actor) -> None:
    """Staff ask the insurer again for a policy still waiting for its number."""
    _require_staff_perm(actor, "insurance.change_policy", "没有处理保单的权限", policy)
    if policy.status != Policy.Status.PENDING:
        raise InvalidTransition(f"只有出单中的保单可以重新出单（当前：{policy.get_status_display()}）")
    Policy.objects.filter(pk=policy.pk).update(attempts=0)
    dispatch_on_commit("insurance.tasks.issue_policy", policy.pk)


# -------------------------------------------------------------------------------------------- claims


def _check_document(upload) -> CheckedUpload:
    """The shared upload check (core.uploads): a JPEG/PNG, re-encoded, or a PDF; the message names the file."""
    try:
        return upload_check(upload, allow_pdf=True)
    except ValidationError as exc:
        name = (getattr(upload, "name", "") or "文件")[-60:]
        raise ValidationError(f"“{name}”：{exc.messages[0]}", code=exc.code) from exc


def _claim_policy(order, actor) -> Policy:
    """The policy a claim on this order would be made under, or a clear refusal."""
    if order.worker_id != actor.pk:
        _require_staff_perm(actor, "insurance.add_accidentclaim", "只能为自己的订单报案", order)
    if order.status == order_model().Status.CANCELLED:
        raise InvalidTransition("订单已取消，不能报案", code="order_cancelled")
    policy = Policy.objects.select_for_update().filter(order_id=order.pk).first()
    if policy is None:
        raise DomainError("该订单没有投保意外险，不能报案", code="not_insured")
    if policy.status in (Policy.Status.FAILED, Policy.Status.CANCELLED):
        raise DomainError(
            f"该订单的保单{policy.get_status_display()}，不在保障中，不能报案", code="not_insured"
        )
    if policy.cover_from is None:
        raise DomainError("保障尚未开始：工人签到后才在保障期内", code="cover_not_started")
    return policy


@transaction.atomic
def claim_report(
    *,
    order,
    actor,
    accident_at: dt.datetime | None,
    place: str,
    description: str,
    documents: list,
) -> AccidentClaim:
    """报案: an accident during the cover of an insured order, with its documents (photos or PDF)."""
    order = order_model().objects.select_related("post", "worker").get(pk=order.pk)
    policy = _claim_policy(order, actor)
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    cover_end = policy.cover_to or now
    if not isinstance(accident_at, dt.datetime):
        errors["accident_at"] = ["请填写出险时间"]
    elif accident_at > now:
        errors["accident_at"] = ["出险时间不能晚于现在"]
    elif not policy.cover_from <= accident_at <= cover_end:
        errors["accident_at"] = [
            f"出险时间不在保障期内（{timezone.localtime(policy.cover_from):%m月%d日 %H:%M}"
            f"–{timezone.localtime(cover_end):%m月%d日 %H:%M}）"
        ]
    place = (place or "").strip()
    if not 2 <= len(place) <= 200:
        errors["place"] = ["请填写出险地点（2–200字）"]
    description = (description or "").strip()
    if not 10 <= len(description) <= 2000:
        errors["description"] = ["请写清事故经过和受伤情况（10–2000字）"]
    documents = [d for d in (documents or []) if d]
    checked: list[CheckedUpload] = []
    if not documents:
        errors["documents"] = ["请上传至少一份材料（现场照片、诊断证明等）"]
    elif len(documents) > MAX_DOCUMENTS:
        errors["documents"] = [f"最多上传{MAX_DOCUMENTS}份材料"]
    else:
        for upload in documents:
            try:
                checked.append(_check_document(upload))
            except ValidationError as exc:
                errors.setdefault("documents", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    claim = AccidentClaim.objects.create(
        policy=policy, accident_at=accident_at, place=place, description=description, reported_by=actor,
        reported_at=now,
    )  # fmt: skip
    for upload, stored in zip(documents, checked, strict=True):
        doc = ClaimDocument(
            claim=claim, original_name=(getattr(upload, "name", "") or "材料")[-120:],
            content_type=stored.content_type, size=stored.size, uploaded_by=actor,
        )  # fmt: skip
        content = stored.as_file()
        doc.file.save(content.name, content, save=False)
        doc.save()
    by_staff = actor.pk != order.worker_id
    _claim_event(claim, actor=actor, old="", new=claim.status, documents=len(documents), by_staff=by_staff)
    _notify(
        user=order.worker, template="claim_reported",
        params={"number": claim.number, "post": order.post.title}, event=f"insurance-claim:{claim.pk}:reported",
    )  # fmt: skip
    return claim


def _claim_locked(claim: AccidentClaim) -> AccidentClaim:
    return (
        AccidentClaim.objects.select_for_update(of=("self",))
        .select_related("policy__order__worker", "policy__order__post")
        .get(pk=claim.pk)
    )


@transaction.atomic
def claim_review_start(*, claim: AccidentClaim, actor) -> AccidentClaim:
    _require_staff_perm(actor, "insurance.review_accidentclaim", "没有审核理赔的权限", claim)
    claim = _claim_locked(claim)
    old = _move(
        AccidentClaim, claim, expected=(AccidentClaim.Status.REPORTED,), new=AccidentClaim.Status.UNDER_REVIEW,
        message="只有已报案的理赔可以开始审核", reviewed_by=actor,
    )  # fmt: skip
    _claim_event(claim, actor=actor, old=old, new=claim.status)
    _notify(
        user=claim.policy.order.worker, template="claim_under_review", params={"number": claim.number},
        event=f"insurance-claim:{claim.pk}:under_review", sms=False,
    )  # fmt: skip
    return claim


def remaining_cover_fen(policy: Policy) -> int:
    paid = policy.claims.filter(status=AccidentClaim.Status.APPROVED).aggregate(s=Sum("payout_fen"))["s"] or 0
    return max(policy.cover_fen - paid, 0)


@transaction.atomic
def claim_approve(*, claim: AccidentClaim, actor, payout_fen: int, note: str = "") -> AccidentClaim:
    """Approve with the payout the insurer agreed: recorded on the claim and paid into the worker's wallet."""
    _require_staff_perm(actor, "insurance.review_accidentclaim", "没有审核理赔的权限", claim)
    if not isinstance(payout_fen, int) or isinstance(payout_fen, bool) or payout_fen <= 0:
        raise DomainError("赔付金额必须大于0", field="payout")
    claim = _claim_locked(claim)
    if claim.status != AccidentClaim.Status.UNDER_REVIEW:
        raise InvalidTransition(f"只有审核中的理赔可以核准赔付（当前：{claim.get_status_display()}）")
    # One payout at a time per policy: together they never exceed the cover.
    policy = Policy.objects.select_for_update().get(pk=claim.policy_id)
    left = remaining_cover_fen(policy)
    if payout_fen > left:
        raise DomainError(
            f"赔付金额超过保额：本保单最高{_yuan(policy.cover_fen)}元，剩余可赔{_yuan(left)}元", field="payout",
            code="above_cover",
        )  # fmt: skip
    order = claim.policy.order
    txn = wallet.claim_payout(
        order=order, worker=order.worker, amount_fen=payout_fen, key=f"insurance-claim:{claim.pk}:payout",
        memo=f"意外险理赔 {claim.number}（保单{policy.policy_number}）", actor=actor,
    )  # fmt: skip
    old = _move(
        AccidentClaim, claim, expected=(AccidentClaim.Status.UNDER_REVIEW,), new=AccidentClaim.Status.APPROVED,
        message="只有审核中的理赔可以核准赔付", payout_fen=payout_fen, payout_transaction=txn, reviewed_by=actor,
        decided_at=timezone.now(), decision_note=(note or "").strip()[:300],
    )  # fmt: skip
    _claim_event(claim, actor=actor, old=old, new=claim.status, payout_fen=payout_fen, transaction=txn.pk)
    _notify(
        user=order.worker, template="claim_approved", params={"number": claim.number, "amount": _yuan(payout_fen)},
        event=f"insurance-claim:{claim.pk}:approved",
    )  # fmt: skip
    return claim


@transaction.atomic
def claim_reject(*, claim: AccidentClaim, actor, reason: str) -> AccidentClaim:
    _require_staff_perm(actor, "insurance.review_accidentclaim", "没有审核理赔的权限", claim)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写不予赔付的原因，工人会看到它", field="reason")
    claim = _claim_locked(claim)
    old = _move(
        AccidentClaim, claim, expected=(AccidentClaim.Status.REPORTED, AccidentClaim.Status.UNDER_REVIEW),
        new=AccidentClaim.Status.REJECTED, message="该理赔已结案或已报保险公司", reviewed_by=actor, decided_at=timezone.now(), decision_note=reason[:300],
    )  # fmt: skip
    _claim_event(claim, actor=actor, old=old, new=claim.status, reason=reason)
    _notify(
        user=claim.policy.order.worker, template="claim_rejected", params={"number": claim.number, "reason": reason},
        event=f"insurance-claim:{claim.pk}:rejected",
    )  # fmt: skip
    return claim
