"""Web Push delivery (叮咚): the ``webpush`` channel of the outbox.

A push row is a :class:`~notifications.models.Message` with channel ``webpush``, written by
``notifications.push`` through ``message_queue`` (so consent, the per-type switch and quiet hours apply as
for a recommendation SMS). Delivering it sends one Web Push (RFC 8030) to each of the recipient's
subscriptions: the payload is encrypted for that browser alone (RFC 8291, ``aes128gcm``, by pywebpush /
http_ece) and signed with our VAPID key (RFC 8292: ``Authorization: vapid t=<JWT>, k=<public key>``).

Like SMS delivery, a row is claimed under a lease (compare-and-swap PENDING → SENDING with a fresh token)
before anything is sent, and its outcome is recorded only while the token holds. A push service has no
"did you get it?" query, so a row whose answer was lost is sent again; a retry skips the devices that
already took it (``PushSubscription.last_message_id``) and every push carries a ``Topic`` (RFC 8030 §5.4)
and the notification a ``tag``, so a rare duplicate replaces the first instead of chiming twice.

Per device: 201/202 → delivered; 404/410 → the browser dropped the subscription, which is deleted;
429/5xx/timeout → the row is retried with back-off; any other answer counts a failure on that device
(deleted after ``WEBPUSH_MAX_FAILURES`` in a row). Logs name rows and subscription ids, never an endpoint
or a key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import threading
import uuid
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from core.dispatch import dispatch_on_commit

from .models import Message, PushSubscription, VapidKey
from .quiet_hours import quiet_hours_end

logger = logging.getLogger("gigmarket.push")

SENT, GONE, RETRY, FAILED = "sent", "gone", "retry", "failed"
TITLE_MAX = 60
BODY_MAX = 140


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ------------------------------------------------------------------------------------------ VAPID key

_vapid_lock = threading.Lock()
_vapid_cache: dict[str, Vapid] = {}


def _stored_private_pem() -> str:
    """The key made for this installation (on first use) when none is configured."""
    row = VapidKey.objects.filter(name="default").first()
    if row is not None:
        return row.private_pem
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    try:
        with transaction.atomic():
            VapidKey.objects.create(name="default", private_pem=pem)
    except IntegrityError:  # another process made it first: use theirs
        return VapidKey.objects.get(name="default").private_pem
    logger.info("VAPID key pair made for this installation (kept encrypted in the database)")
    return pem


def vapid() -> Vapid:
    """Our VAPID signer: ``WEBPUSH_VAPID_PRIVATE_KEY`` (PEM or the raw key in base64url) or the stored one."""
    configured = settings.WEBPUSH_VAPID_PRIVATE_KEY
    cache_key = hashlib.sha256(configured.encode()).hexdigest() if configured else "stored"
    with _vapid_lock:
        signer = _vapid_cache.get(cache_key)
        if signer is None:
            if configured and "-----BEGIN" in configured:
                key = serialization.load_pem_private_key(configured.encode(), password=None)
                signer = Vapid(key)
            elif configured:
                signer = Vapid.from_raw(configured.strip().encode())
            else:
                pem = _stored_private_pem()
                signer = Vapid(serialization.load_pem_private_key(pem.encode(), password=None))
            _vapid_cache[cache_key] = signer
    return signer


def vapid_public_key() -> str:
    """The public key browsers subscribe with (``applicationServerKey``): the uncompressed point, base64url."""
    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def forget_cached_key() -> None:
    """Tests: drop the signer kept in memory (the stored key changes with the test database)."""
    with _vapid_lock:
        _vapid_cache.clear()


# -------------------------------------------------------------------------------------------- payload


def payload(message: Message) -> dict:
    """What the service worker shows: title, body, the page to open (a path on this site) and a tag."""
    params = message.params
    link = str(params.get("link", ""))
    parts = urlsplit(link)
    url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = "，".join(str(params[k]) for k in ("pay", "place") if params.get(k))
    if params.get("start"):
        body += f"，{params['start']}开工"
    return {
        "title": f"叮咚！新活：{params.get('post', '')}"[:TITLE_MAX],
        "body": body[:BODY_MAX],
        "url": url if url.startswith("/") and not url.startswith("//") else "/",
        "tag": topic(message.event_key),
        "grab": True,
    }


def topic(event_key: str) -> str:
    """RFC 8030 Topic: at most 32 characters of the base64url alphabet, the same for a repeat."""
    return b64url(hashlib.sha256(event_key.encode()).digest()[:24])


# ------------------------------------------------------------------------------------------- sending

_local = threading.local()


def _session() -> requests.Session:
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def send_one(subscription: PushSubscription, data: dict, *, topic_value: str) -> tuple[str, int | None]:
    """One encrypted, signed push to one browser. Returns (outcome, HTTP status or None)."""
    try:
        response = webpush(
            subscription_info=subscription.info(),
            data=json.dumps(data, ensure_ascii=False),
            vapid_private_key=vapid(),
            vapid_claims={"sub": settings.WEBPUSH_CONTACT},
            ttl=settings.WEBPUSH_TTL_SECONDS,
            headers={"Topic": topic_value, "Urgency": "high"},
            timeout=settings.WEBPUSH_HTTP_TIMEOUT,
            requests_session=_session(),
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            return GONE, status
        if status is None or status == 429 or status >= 500:
            return RETRY, status
        return FAILED, status
    except (requests.RequestException, OSError):
        return RETRY, None
    return SENT, response.status_code


def deliver(*, message_id: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Claim this push row if it is due and send it to each of the recipient's devices. Idempotent: a row
    not PENDING (already sent, or being sent by another worker) is left alone."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = Message.objects.filter(
        pk=message_id, channel=Message.Channel.WEBPUSH, status=Message.Status.PENDING
    )
    due = due.filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
    if quiet_hours_end(at=now) is not None:
        due = due.exclude(marketing=True)  # whatever made it due (a retry's back-off), never at night
    claimed = due.update(
        status=Message.Status.SENDING,
        claim_token=token,
        lease_until=now + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        backend="webpush",
    )
    if not claimed:
        return {"skipped": 1}
    message = Message.objects.get(pk=message_id)
    data = payload(message)
    counts = {SENT: 0, GONE: 0, RETRY: 0, FAILED: 0}
    devices = PushSubscription.objects.filter(user_id=message.recipient_id).exclude(
        last_message_id=message.pk
    )
    for subscription in devices.order_by("pk"):
        outcome, status = send_one(subscription, data, topic_value=data["tag"])
        counts[outcome] += 1
        _record_device(subscription=subscription, message=message, outcome=outcome, now=now)
        if outcome != SENT:
            logger.info(
                "push %s to subscription %s: %s (HTTP %s)", message.pk, subscription.pk, outcome, status
            )
    reached_before = PushSubscription.objects.filter(user_id=message.recipient_id, last_message_id=message.pk)
    mine = Message.objects.filter(pk=message.pk, claim_token=token, status=Message.Status.SENDING)
    if counts[RETRY] and message.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        backoff = min(3600, settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (message.attempts - 1))
        mine.update(
            status=Message.Status.PENDING,
            send_after=now + dt.timedelta(seconds=backoff),
            lease_until=None,
            last_error=f"{counts[RETRY]} 台设备暂时推送不了，稍后重试",
        )
    elif counts[SENT] or reached_before.exists():
        mine.update(status=Message.Status.SENT, sent_at=now, lease_until=None, provider_id=data["tag"])
    else:
        mine.update(status=Message.Status.FAILED, lease_until=None, last_error="没有能收到推送的设备")
    return counts


def _record_device(*, subscription: PushSubscription, message: Message, outcome: str, now) -> None:
    rows = PushSubscription.objects.filter(pk=subscription.pk)
    if outcome == SENT:
        rows.update(last_success_at=now, failures=0, last_message_id=message.pk)
    elif outcome == GONE:
        rows.delete()
    elif outcome == FAILED:
        rows.update(failures=F("failures") + 1)
        rows.filter(failures__gte=settings.WEBPUSH_MAX_FAILURES).delete()


def sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Push rows whose worker died mid-send go back to PENDING once their lease is over, and every due
    push row (quiet hours over, back-off over, a lost task) is queued again."""
    now = now or timezone.now()
    requeued = Message.objects.filter(
        channel=Message.Channel.WEBPUSH, status=Message.Status.SENDING, lease_until__lt=now
    ).update(status=Message.Status.PENDING, lease_until=None)
    due = Message.objects.filter(channel=Message.Channel.WEBPUSH, status=Message.Status.PENDING).filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now)
    )
    if quiet_hours_end(at=now) is not None:
        due = due.exclude(marketing=True)
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:500])
    for pk in ids:
        dispatch_on_commit("notifications.tasks.deliver_push", pk)
    return {"push_requeued": requeued, "push_due": len(ids)}
