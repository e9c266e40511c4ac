"""The simulated phone of local development.

With the ``outbox`` backend nothing leaves the building, so in local settings (``SMS_PHONE_SIMULATOR``)
each delivered SMS is "received" here instead: printed in full, one-time code included, on the standard
error of the process that delivered it — the terminal running ``scripts/run`` / ``runserver`` (Celery is
eager there), or the Celery worker's terminal when one runs. It is not a log line: it never goes through
``logging``, so no log handler, file or aggregator gets it. Production settings force the simulator off.

Tests listen instead of printing (:func:`listening`): what a listener gets is exactly what the SMS gateway
would get (the template, its variables with the code, the text).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from core.masking import mask_phone


@dataclass(frozen=True)
class SimulatedSms:
    message_id: int
    phone: str
    template: str
    params: dict
    text: str


_listeners: list[Callable[[SimulatedSms], None]] = []
_lock = threading.Lock()


def receive(*, message) -> SimulatedSms:
    """One SMS arrives on the simulated phone of ``message.phone``."""
    sms = SimulatedSms(
        message_id=message.pk,
        phone=message.phone,
        template=message.template,
        params=message.delivery_params(),
        text=message.delivery_text(),
    )
    with _lock:
        listeners = list(_listeners)
    if listeners:
        for listener in listeners:
            listener(sms)
    else:
        sys.stderr.write(
            f"\n📱 模拟手机 {mask_phone(sms.phone)} 收到短信：【{settings.SMS_SIGN_NAME}】{sms.text}\n\n"
        )
        sys.stderr.flush()
    return sms


@contextmanager
def listening(listener: Callable[[SimulatedSms], None]) -> Iterator[None]:
    """Hand every simulated SMS to ``listener`` (instead of the terminal) while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
