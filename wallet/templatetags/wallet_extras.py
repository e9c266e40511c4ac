"""Money for the wallet pages: integer fen shown as yuan with two decimals and thousands separators."""

from __future__ import annotations

from django import template

register = template.Library()


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


@register.filter
def money(fen) -> str:
    """123456 → "1,234.56"."""
    if fen in (None, ""):
        return ""
    return _yuan(fen)


@register.filter
def signed_money(fen) -> str:
    """1250 → "+12.50", -1250 → "-12.50"."""
    if fen in (None, ""):
        return ""
    return ("+" if int(fen) > 0 else "") + _yuan(fen)
