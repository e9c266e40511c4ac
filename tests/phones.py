"""The test suite's phones: every SMS delivered during a test, as the gateway gets it.

Codes are never readable from the outbox rows (they keep them redacted), so tests read them the way a person
does: from the phone. With the ``outbox`` backend each delivered SMS lands on the simulated phone
(``notifications.phone_simulator``), which the autouse fixture in ``tests/conftest.py`` records here.
Tests run inside a transaction, where Celery's after-commit delivery never fires: :func:`code` delivers the
newest code message through the real delivery path first, as the worker would.
"""

from __future__ import annotations

import threading
import time

from notifications.phone_simulator import SimulatedSms

_received: list[SimulatedSms] = []
_lock = threading.Lock()


def record(sms: SimulatedSms) -> None:
    with _lock:
        _received.append(sms)


def clear() -> None:
    with _lock:
        _received.clear()


def received(phone: str | None = None) -> list[SimulatedSms]:
    with _lock:
        return [sms for sms in _received if phone is None or sms.phone == phone]


def code(phone: str, *, wait: float = 5.0) -> str:
    """The code in the newest code message to ``phone`` (delivered now if it is still waiting).

    ``wait``: how long to wait for a delivery made by another thread (a live server in browser tests)."""
    from notifications.delivery import deliver
    from notifications.models import Message

    message = Message.objects.filter(phone=phone, secret_until__isnull=False).order_by("-pk").first()
    assert message is not None, f"no code message to {phone}"
    if message.status == Message.Status.PENDING:
        deliver(first_id=message.pk, limit=1)
    deadline = time.monotonic() + wait
    while True:
        mine = [sms for sms in received(phone) if sms.message_id == message.pk]
        if mine:
            return mine[-1].params["code"]
        if time.monotonic() > deadline:
            raise AssertionError(f"code message {message.pk} to {phone} never reached the phone")
        time.sleep(0.05)
