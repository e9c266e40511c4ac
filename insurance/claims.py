"""Claims at the insurer: a claim staff accept is forwarded to the insurer backend, which answers with signed
status callbacks — 受理 (accepted), 补材料 (need_documents), 赔付 (paid), 拒赔 (rejected).

``under_review`` → ``forwarded`` (staff accept; the submission and its documents go out after commit and are
retried while the insurer is unavailable) → ``accepted`` / ``need_docs`` (the worker is told by SMS and in
the inbox, and adds documents, which go to the insurer and put the claim back to ``forwarded``) →
``approved`` (the insurer's payout lands in the worker's wallet through the ledger, keyed on the claim) |
``rejected`` (the insurer's reason).

A callback is believed only with the insurer's signature over its exact body and a fresh timestamp; its
``event_id`` is kept, so a repeated delivery changes nothing. The local backend's decisions, made by staff
from the console, travel the same way: a signed body handed to :func:`insurer_callback`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import time
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.dispatch import dispatch, dispatch_on_commit
from core.errors import DomainError, InvalidTransition, NotAllowed
from wallet import ledger
from wallet.models import LedgerTransaction

from .backends import (
    ClaimDocumentUpload,
    ClaimSubmission,
    InsurerRefused,
    InsurerUnavailable,
    callback_key,
    get_insurer,
    sign,
)
from .models import AccidentClaim, ClaimDocument, InsurerCallback
from .services import (
    MAX_DOCUMENTS,
    _check_document,
    _claim_event,
    _claim_locked,
    _move,
    _notify,
    _require_staff_perm,
    _yuan,
)

logger = logging.getLogger("gigmarket.insurance")

CALLBACK_MAX_AGE_SECONDS = 300
STATUSES = {
    "accepted": AccidentClaim.Status.INSURER_ACCEPTED,
    "need_documents": AccidentClaim.Status.NEED_DOCUMENTS,
    "paid": AccidentClaim.Status.APPROVED,
    "rejected": AccidentClaim.Status.REJECTED,
}
MAX_BACKOFF = dt.timedelta(hours=6)


def request_no(claim: AccidentClaim) -> str:
    """Ours, stable across retries: the insurer returns the same claim for it."""
    return f"GMCLAIM{claim.pk:010d}"


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(minutes=2) * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _queue_forward(claim_id: int) -> None:
    dispatch_on_commit("insurance.tasks.forward_claim", claim_id)


# ---------------------------------------------------------------------------------------- staff accept


@transaction.atomic
def claim_forward(*, claim: AccidentClaim, actor, note: str = "") -> AccidentClaim:
    """Staff accept a claim under review: it goes to the insurer with its documents (after commit)."""
    _require_staff_perm(actor, "insurance.review_accidentclaim", "没有审核理赔的权限", claim)
    claim = _claim_locked(claim)
    old = _move(
        AccidentClaim, claim, expected=(AccidentClaim.Status.UNDER_REVIEW,), new=AccidentClaim.Status.FORWARDED,
        message="只有审核中的理赔可以报保险公司", reviewed_by=actor, next_forward_at=timezone.now(),
        decision_note=(note or "").strip()[:300],
    )  # fmt: skip
    _claim_event(claim, actor=actor, old=old, new=claim.status)
    _notify(
        user=claim.policy.order.worker, template="claim_forwarded", params={"number": claim.number},
        event=f"insurance-claim:{claim.pk}:forwarded", sms=False,
    )  # fmt: skip
    _queue_forward(claim.pk)
    return claim


def claim_submit(*, claim_id: int, now: dt.datetime | None = None) -> AccidentClaim | None:
    """Send a forwarded claim and its unsent documents to the insurer (outside any transaction).

    Raises :class:`InsurerUnavailable` to be tried again (recorded, with the next try's time); a refusal is
    recorded for staff, who decide the claim themselves."""
    now = now or timezone.now()
    claim = AccidentClaim.objects.select_related("policy__order").filter(pk=claim_id).first()
    if claim is None or claim.status not in AccidentClaim.AT_INSURER:
        return claim
    AccidentClaim.objects.filter(pk=claim.pk).update(forward_attempts=F("forward_attempts") + 1)
    insurer = get_insurer()
    try:
        if not claim.insurer_claim_no:
            number = insurer.submit_claim(
                ClaimSubmission(
                    request_no=request_no(claim),
                    policy_number=claim.policy.policy_number,
                    order_no=f"GM{claim.policy.order_id:010d}",
                    accident_at=claim.accident_at,
                    place=claim.place,
                    description=claim.description,
                    reported_at=claim.reported_at,
                )
            )
            AccidentClaim.objects.filter(pk=claim.pk, insurer_claim_no="").update(
                insurer_claim_no=number, forwarded_at=now
            )
            claim.refresh_from_db()
        for document in claim.documents.filter(sent_at__isnull=True).order_by("pk"):
            with document.file.open("rb") as handle:
                content = handle.read()
            insurer.send_claim_document(
                claim_no=claim.insurer_claim_no,
                document=ClaimDocumentUpload(
                    request_no=f"{request_no(claim)}D{document.pk:06d}",
                    file_name=document.original_name,
                    content_type=document.content_type,
                    content=content,
                ),
            )
            ClaimDocument.objects.filter(pk=document.pk).update(sent_at=timezone.now())
    except InsurerRefused as exc:
        AccidentClaim.objects.filter(pk=claim.pk).update(
            forward_error=f"保险公司未受理：{exc.reason}"[:200], next_forward_at=None
        )
        logger.error("insurer refused claim %s (code %s)", claim.pk, exc.code or "-")
        return claim
    except InsurerUnavailable as exc:
        attempts = claim.forward_attempts + 1
        AccidentClaim.objects.filter(pk=claim.pk).update(
            forward_error=f"报送未完成：{exc}"[:200], next_forward_at=now + _backoff(attempts)
        )
        raise
    AccidentClaim.objects.filter(pk=claim.pk).update(forward_error="", next_forward_at=None)
    claim.refresh_from_db()
    return claim


def claims_retry_forwarding(*, now: dt.datetime | None = None) -> int:
    """Sweep: claims at the insurer with a submission or documents still to send, due for another try."""
    now = now or timezone.now()
    due = AccidentClaim.objects.filter(
        status__in=AccidentClaim.AT_INSURER, next_forward_at__lte=now
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due.order_by("pk")[:200]):
        dispatch("insurance.tasks.forward_claim", pk)
        count += 1
    return count


# ------------------------------------------------------------------------------ the worker's documents


@transaction.atomic
def claim_add_documents(*, claim: AccidentClaim, actor, documents: list) -> AccidentClaim:
    """补材料: the insured worker (or staff for them) adds documents the insurer asked for."""
    claim = _claim_locked(claim)
    if claim.policy.order.worker_id != actor.pk:
        _require_staff_perm(actor, "insurance.add_accidentclaim", "只能为自己的理赔补充材料", claim)
    if claim.status not in AccidentClaim.AT_INSURER:
        raise InvalidTransition(f"该理赔现在不需要补充材料（当前：{claim.get_status_display()}）")
    documents = [d for d in (documents or []) if d]
    if not documents:
        raise ValidationError({"documents": ["请上传要补充的材料"]})
    if claim.documents.count() + len(documents) > MAX_DOCUMENTS * 2:
        raise ValidationError({"documents": [f"一件理赔最多{MAX_DOCUMENTS * 2}份材料"]})
    checked, errors = [], []
    for upload in documents:
        try:
            checked.append(_check_document(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"documents": errors})
    for upload, stored in zip(documents, checked, strict=True):
        doc = ClaimDocument(
            claim=claim, original_name=(getattr(upload, "name", "") or "材料")[-120:],
            content_type=stored.content_type, size=stored.size, uploaded_by=actor,
        )  # fmt: skip
        content = stored.as_file()
        doc.file.save(content.name, content, save=False)
        doc.save()
    old = claim.status
    new = AccidentClaim.Status.FORWARDED if old == AccidentClaim.Status.NEED_DOCUMENTS else old
    if new != old:
        _move(
            AccidentClaim, claim, expected=(old,), new=new, message="理赔状态已变化", documents_needed="",
            next_forward_at=timezone.now(),
        )  # fmt: skip
    else:
        AccidentClaim.objects.filter(pk=claim.pk).update(next_forward_at=timezone.now())
    _claim_event(claim, actor=actor, old=old, new=new, documents_added=len(documents))
    _queue_forward(claim.pk)
    return claim


# ------------------------------------------------------------------------------------ insurer callbacks


class CallbackRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def verify_callback(*, body: bytes, headers, now: float | None = None) -> dict:
    """The callback's data, if the insurer signed exactly this body recently; else :class:`CallbackRefused`."""
    timestamp = headers.get("X-GM-Timestamp", "")
    nonce = headers.get("X-GM-Nonce", "")
    given = headers.get("X-GM-Signature", "")
    if not (timestamp and nonce and given) or not hmac.compare_digest(
        given, sign(callback_key(), timestamp, nonce, body)
    ):
        raise CallbackRefused(401, "4001", "签名错误")
    try:
        age = abs((now or time.time()) - int(timestamp))
    except ValueError as exc:
        raise CallbackRefused(401, "4002", "时间戳无效") from exc
    if age > CALLBACK_MAX_AGE_SECONDS:
        raise CallbackRefused(401, "4002", "时间戳过期")
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError
        event_id = str(data["event_id"]).strip()
        status = str(data["status"])
        claim_no = str(data["claim_no"]).strip()
    except (ValueError, KeyError, TypeError) as exc:
        raise CallbackRefused(400, "1001", "请求内容无法解析") from exc
    if not event_id or len(event_id) > 64 or status not in STATUSES or not claim_no:
        raise CallbackRefused(400, "1001", "请求内容不完整")
    return data


def _amount(data: dict) -> int:
    amount = data.get("amount_fen")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise CallbackRefused(400, "1001", "赔付金额无效")
    return amount


def insurer_callback(*, body: bytes, headers) -> dict[str, Any]:
    """Apply one signed status callback; returns ``{"code": "0000", …}`` (also for a repeat) or raises
    :class:`CallbackRefused` (bad signature, stale, unreadable, unknown claim)."""
    data = verify_callback(body=body, headers=headers)
    with transaction.atomic():
        claim = (
            AccidentClaim.objects.select_for_update(of=("self",))
            .select_related("policy__order__worker", "policy__order__post")
            .filter(insurer_claim_no=str(data["claim_no"]).strip())
            .first()
        )
        if claim is None or (data.get("request_no") and str(data["request_no"]) != request_no(claim)):
            raise CallbackRefused(404, "3001", "没有该案件")
        try:
            with transaction.atomic():
                InsurerCallback.objects.create(event_id=data["event_id"], claim=claim, status=data["status"])
        except IntegrityError:
            return {"code": "0000", "message": "重复通知，已处理"}
        _apply(claim, data)
    return {"code": "0000", "message": "ok"}


def _insurer_time(data: dict) -> str:
    at = parse_datetime(str(data.get("at") or ""))
    return (at or timezone.now()).isoformat()


def _apply(claim: AccidentClaim, data: dict) -> None:
    status = data["status"]
    new = STATUSES[status]
    worker = claim.policy.order.worker
    at = _insurer_time(data)
    if claim.status not in AccidentClaim.AT_INSURER:
        # A late or out-of-order callback on a decided claim: kept (InsurerCallback), nothing changes.
        logger.warning("insurer callback %s on claim %s in status %s ignored", status, claim.pk, claim.status)
        return
    if status == "paid":
        amount = _amount(data)
        txn = ledger.transfer(
            key=f"insurance-claim:{claim.pk}:payout", kind=LedgerTransaction.Kind.CLAIM_PAYOUT,
            legs=[(ledger.bank(), -amount), (ledger.worker_account(worker), amount)], order=claim.policy.order,
            memo=f"意外险理赔 {claim.number}（保单{claim.policy.policy_number}）",
        )  # fmt: skip
        old = _move(
            AccidentClaim, claim, expected=AccidentClaim.AT_INSURER, new=new, message="理赔状态已变化",
            payout_fen=amount, payout_transaction=txn, decided_at=timezone.now(), documents_needed="",
        )  # fmt: skip
        _claim_event(
            claim, actor=None, old=old, new=new, insurer_at=at, payout_fen=amount, transaction=txn.pk
        )
        _notify(
            user=worker, template="claim_approved", params={"number": claim.number, "amount": _yuan(amount)},
            event=f"insurance-claim:{claim.pk}:approved",
        )  # fmt: skip
        return
    if status == "rejected":
        reason = str(data.get("reason") or "").strip()[:300] or "保险公司拒赔"
        old = _move(
            AccidentClaim, claim, expected=AccidentClaim.AT_INSURER, new=new, message="理赔状态已变化",
            decided_at=timezone.now(), decision_note=reason, documents_needed="",
        )  # fmt: skip
        _claim_event(claim, actor=None, old=old, new=new, insurer_at=at, reason=reason)
        _notify(
            user=worker, template="claim_rejected", params={"number": claim.number, "reason": reason},
            event=f"insurance-claim:{claim.pk}:rejected",
        )  # fmt: skip
        return
    if status == "need_documents":
        needed = (
            str(data.get("documents_needed") or data.get("reason") or "").strip()[:300] or "请补充理赔材料"
        )
        old = _move(
            AccidentClaim, claim, expected=AccidentClaim.AT_INSURER, new=new, message="理赔状态已变化",
            documents_needed=needed,
        )  # fmt: skip
        _claim_event(claim, actor=None, old=old, new=new, insurer_at=at, documents_needed=needed)
        _notify(
            user=worker, template="claim_need_documents", params={"number": claim.number, "needed": needed},
            event=f"insurance-claim:{claim.pk}:need-documents:{data['event_id']}",
        )  # fmt: skip
        return
    if claim.status == new:
        return
    old = _move(AccidentClaim, claim, expected=AccidentClaim.AT_INSURER, new=new, message="理赔状态已变化")
    _claim_event(claim, actor=None, old=old, new=new, insurer_at=at)
    _notify(
        user=worker, template="claim_insurer_accepted", params={"number": claim.number},
        event=f"insurance-claim:{claim.pk}:insurer-accepted", sms=False,
    )  # fmt: skip


# ---------------------------------------------------------------------- the local insurer, from the console

LOCAL_DECISIONS = {
    "accepted": "受理",
    "need_documents": "补材料",
    "paid": "赔付",
    "rejected": "拒赔",
}


def signed_callback(*, payload: dict, key: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A callback body and its headers as the insurer signs them (the local insurer, and tests)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return body, {
        "X-GM-Timestamp": timestamp,
        "X-GM-Nonce": nonce,
        "X-GM-Signature": sign(key or callback_key(), timestamp, nonce, body),
    }


def local_insurer_decide(
    *, claim: AccidentClaim, actor, decision: str, amount_fen: int | None = None, note: str = ""
) -> AccidentClaim:
    """Staff play the local insurer (demo and development only): its decision arrives as a signed callback."""
    _require_staff_perm(actor, "insurance.review_accidentclaim", "没有审核理赔的权限", claim)
    if get_insurer().name != "fake":
        raise NotAllowed("只有本地模拟保险公司可以在后台操作")
    if decision not in LOCAL_DECISIONS:
        raise DomainError("未知的保险公司处理结果", field="decision")
    claim.refresh_from_db()
    if claim.status not in AccidentClaim.AT_INSURER or not claim.insurer_claim_no:
        raise InvalidTransition(f"该理赔不在保险公司处理中（当前：{claim.get_status_display()}）")
    payload: dict[str, Any] = {
        "event_id": uuid.uuid4().hex, "claim_no": claim.insurer_claim_no, "request_no": request_no(claim),
        "status": decision, "at": timezone.now().isoformat(),
    }  # fmt: skip
    if decision == "paid":
        if not isinstance(amount_fen, int) or amount_fen <= 0:
            raise DomainError("请填写赔付金额", field="amount")
        payload["amount_fen"] = amount_fen
    if decision == "rejected":
        payload["reason"] = note or "不属于保险责任范围"
    if decision == "need_documents":
        payload["documents_needed"] = note or "请补充医院诊断证明和医疗费用发票"
    body, headers = signed_callback(payload=payload)
    try:
        insurer_callback(body=body, headers=headers)
    except CallbackRefused as exc:
        raise DomainError(exc.message) from exc
    claim.refresh_from_db()
    return claim
