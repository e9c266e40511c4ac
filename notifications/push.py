"""Writes for Web Push (叮咚): a person's devices (subscribe, switch off, sign-out) and queueing a pushed
recommendation. Delivery is ``webpush.py``.

A subscription is what a browser's ``PushManager.subscribe()`` gives: an endpoint URL at its push service
and two keys. Each is checked here (the endpoint is a URL we will POST to, so only https, never an address
literal or a local name, unless ``WEBPUSH_ALLOW_LOCAL_ENDPOINTS`` for tests and the local fake; the keys are
a real P-256 point and a 16-byte secret) and stored encrypted. Only the owner lists or removes theirs.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction

from core.crypto import blind_index
from core.dispatch import dispatch
from core.errors import DomainError

from .models import Message, PushSubscription
from .services import message_queue
from .webpush import b64url_decode

logger = logging.getLogger("gigmarket.push")

ENDPOINT_MAX = 1000
LABEL_MAX = 60
SESSION_KEY = "push_subscriptions"


def endpoint_hash(endpoint: str) -> str:
    return blind_index(endpoint, purpose="push-endpoint")


def _check_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or "").strip()
    if not endpoint:
        raise DomainError("缺少推送地址", field="endpoint")
    if len(endpoint) > ENDPOINT_MAX:
        raise DomainError("推送地址太长", field="endpoint")
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    local_ok = settings.WEBPUSH_ALLOW_LOCAL_ENDPOINTS
    if parts.scheme != "https" and not (local_ok and parts.scheme == "http"):
        raise DomainError("推送地址必须是 https 地址", field="endpoint")
    if not host or parts.username or parts.password:
        raise DomainError("推送地址不正确", field="endpoint")
    if not local_ok:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            raise DomainError("推送地址必须是推送服务的域名", field="endpoint")
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host:
            raise DomainError("推送地址必须是推送服务的域名", field="endpoint")
    return endpoint


def _check_keys(p256dh: str, auth: str) -> tuple[str, str]:
    try:
        point = b64url_decode((p256dh or "").strip())
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError
    except (ValueError, TypeError):
        raise DomainError("加密公钥不正确", field="p256dh") from None
    try:
        secret = b64url_decode((auth or "").strip())
    except (ValueError, TypeError):
        secret = b""
    if len(secret) != 16:
        raise DomainError("认证密钥不正确", field="auth")
    return p256dh.strip(), auth.strip()


@transaction.atomic
def subscription_save(*, user, endpoint: str, p256dh: str, auth: str, label: str = "") -> PushSubscription:
    """Turn pushes on for this browser. A browser already subscribed (same endpoint) is updated and, if it
    was another person's (a shared phone, signed in by someone else now), becomes this person's."""
    endpoint = _check_endpoint(endpoint)
    p256dh, auth = _check_keys(p256dh, auth)
    label = " ".join((label or "").split())[:LABEL_MAX] or "手机浏览器"
    key = endpoint_hash(endpoint)
    sub = PushSubscription.objects.select_for_update().filter(endpoint_hash=key).first()
    if sub is None:
        return PushSubscription.objects.create(
            user=user, endpoint=endpoint, endpoint_hash=key, p256dh=p256dh, auth=auth, label=label
        )
    sub.user, sub.endpoint, sub.p256dh, sub.auth, sub.label = user, endpoint, p256dh, auth, label
    sub.failures = 0
    sub.save(update_fields=["user", "endpoint", "p256dh", "auth", "label", "failures"])
    return sub


def remember_in_session(request, subscription: PushSubscription) -> None:
    """This browser's session knows which subscriptions it turned on, so signing out here stops them."""
    session = getattr(request, "session", None)
    if session is None:
        return
    ids = [i for i in session.get(SESSION_KEY, []) if i != subscription.pk]
    session[SESSION_KEY] = [*ids, subscription.pk][-10:]


def subscription_delete(*, user, subscription_id: int) -> None:
    """Switch one of the user's own devices off; another user's is 'not found'."""
    deleted, _ = PushSubscription.objects.filter(user=user, pk=subscription_id).delete()
    if not deleted:
        raise PushSubscription.DoesNotExist


def subscription_delete_endpoint(*, user, endpoint: str) -> int:
    """Switch this browser off by its endpoint (the page knows it); only the user's own row goes."""
    deleted, _ = PushSubscription.objects.filter(
        user=user, endpoint_hash=endpoint_hash(endpoint or "")
    ).delete()
    return deleted


def subscriptions_signed_out(*, user, subscription_ids) -> int:
    """The person signed out on this browser: its subscriptions stop, so whoever uses the phone next never
    gets their pushes (``apps.py`` connects this to ``user_logged_out``)."""
    ids = [int(i) for i in subscription_ids or [] if str(i).isdigit()]
    if not ids or user is None:
        return 0
    deleted, _ = PushSubscription.objects.filter(user=user, pk__in=ids).delete()
    return deleted


def push_recommendation(*, recipient, event_key: str, params: dict) -> Message | None:
    """A post recommendation as a Web Push, for a seeker with at least one subscribed device. Written
    through ``message_queue`` (marketing: consent, the 手机推送 switch, quiet hours hold it to the morning);
    sent after commit by ``notifications.tasks.deliver_push``. None when nothing was written."""
    if recipient is None or not PushSubscription.objects.filter(user=recipient).exists():
        return None
    message = message_queue(
        event_key=event_key,
        template="post_recommended_push",
        params=params,
        recipient=recipient,
        channel=Message.Channel.WEBPUSH,
    )
    if message is not None and message.status == Message.Status.PENDING and message.send_after is None:
        pk = message.pk
        transaction.on_commit(lambda: dispatch("notifications.tasks.deliver_push", pk))
    return message
