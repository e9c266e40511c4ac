"""Quiet hours (``NOTIFY_QUIET_HOURS``): when SMS and pushes wait for the morning. Read by the queue
(services) and by delivery, below both."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def _parse_hhmm(value: str) -> dt.time:
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))


def quiet_hours_end(*, at: dt.datetime) -> dt.datetime | None:
    """The end of the quiet period ``at`` falls in (an aware datetime), or None outside quiet hours."""
    start, end = (_parse_hhmm(v) for v in settings.NOTIFY_QUIET_HOURS)
    if start == end:
        return None
    local = timezone.localtime(at)
    now = local.time()
    quiet = (start <= now < end) if start < end else (now >= start or now < end)
    if not quiet:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += dt.timedelta(days=1)
    return until
