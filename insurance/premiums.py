"""What cover costs and when it is required: read by jobs (jobs.money reserves the funds).

A published post keeps the terms it was published with (:class:`~insurance.models.PostQuote`): its hold was
sized with that premium, so a later change to the premium table (or to the trade's risk class) cannot leave
the hold short for the post's remaining slots, and every order of the post pays the same premium.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings

from .models import DEFAULT_COVER_FEN, DEFAULT_PREMIUMS_FEN, PostQuote, PremiumRate


@dataclass(frozen=True)
class Quote:
    insurable: bool
    premium_fen: int
    cover_fen: int
    reason: str = ""


def quote(*, risk_class: int) -> Quote:
    rate = PremiumRate.objects.filter(risk_class=risk_class).first()
    premium = rate.premium_fen if rate else DEFAULT_PREMIUMS_FEN.get(risk_class, DEFAULT_PREMIUMS_FEN[6])
    cover = rate.cover_fen if rate else DEFAULT_COVER_FEN
    if risk_class > settings.INSURANCE_MAX_CLASS or (rate is not None and not rate.insurable):
        return Quote(False, 0, 0, f"{risk_class}级风险工种超出承保范围，保险公司不予承保")
    return Quote(True, premium, cover)


def cover_required(*, post) -> bool:
    """The post asks for it, or the trade is at or above the configured class."""
    return bool(post.insurance_required or post.trade.risk_class >= settings.INSURANCE_REQUIRED_FROM_CLASS)


_kept: ContextVar[dict[int, PostQuote] | None] = ContextVar("insurance_post_quotes", default=None)


@contextmanager
def quotes_kept() -> Iterator[None]:
    """Inside: each post's fixed terms are read from the database once (nothing changes them once fixed):
    for a batch of one post's orders (the 抢单 follow-on reads them twice per order otherwise)."""
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def post_quote(*, post) -> PostQuote | None:
    """The terms fixed when the post left draft (fixed on first use); None for a draft."""
    if post.status == "draft":
        return None
    kept = _kept.get()
    found = kept.get(post.pk) if kept is not None else None
    if found is None:
        found = PostQuote.objects.filter(post_id=post.pk).first()
    if found is not None:
        if kept is not None:
            kept[post.pk] = found
        return found
    q = quote(risk_class=post.trade.risk_class)
    return PostQuote.objects.get_or_create(
        post_id=post.pk,
        defaults={
            "required": cover_required(post=post), "insurable": q.insurable, "risk_class": post.trade.risk_class,
            "premium_fen": q.premium_fen, "cover_fen": q.cover_fen,
        },
    )[0]  # fmt: skip


def premium_for_post(*, post) -> int:
    """Premium per order for a post (0 when no cover is needed or it cannot be had)."""
    fixed = post_quote(post=post)
    if fixed is not None:
        return fixed.premium_fen if fixed.required and fixed.insurable else 0
    if not cover_required(post=post):
        return 0
    q = quote(risk_class=post.trade.risk_class)
    return q.premium_fen if q.insurable else 0
