"""Masking of personal data for display: everyone sees the masked form unless explicitly allowed."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """``350402199001011234`` → ``3504**********1234``."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张**``: the surname stays so a worker can be addressed politely."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
