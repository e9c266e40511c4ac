"""Display filters for the jobs pages: money in fen shown as yuan, quantities without trailing zeros."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """20000 → "200", 1250 → "12.5", 1205 → "12.05"."""
    if fen in (None, ""):
        return ""
    try:
        value = Decimal(int(fen)) / 100
    except (TypeError, ValueError, InvalidOperation):
        return ""
    return format(value.quantize(Decimal("0.01")).normalize(), "f")


@register.filter
def qty(value) -> str:
    """Decimal("8.00") → "8", Decimal("2.50") → "2.5"."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number.normalize(), "f")
