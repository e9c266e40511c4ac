"""Dates and times the way people here say them: 今天 08:45, 明天 14:00, 昨天 19:30, 12月7日 08:45, and the
year only when it is not this one (2025年12月7日 08:45). ``{% load cn_dates %}{{ value|when }}``."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()

_NEAR = {-1: "昨天", 0: "今天", 1: "明天", 2: "后天"}


def when_text(value, *, now: dt.datetime | None = None) -> str:
    if value in (None, ""):
        return ""
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        day, clock = value.date(), f" {value:%H:%M}"
    elif isinstance(value, dt.date):
        day, clock = value, ""
    else:
        return str(value)
    near = _NEAR.get((day - today).days)
    if near:
        return near + clock
    if day.year == today.year:
        return f"{day.month}月{day.day}日{clock}"
    return f"{day.year}年{day.month}月{day.day}日{clock}"


@register.filter
def when(value) -> str:
    return when_text(value)


@register.filter
def cn_date(value) -> str:
    """A calendar date in full (2026年12月7日): for expiry dates and the like, where 明天 would be vaguer."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    return f"{value.year}年{value.month}月{value.day}日"
