"""Masking of personal data for display: everyone sees the masked form unless explicitly allowed."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """``350402199001011234`` → ``3****************4``: the first and the last character only.

    A resident ID is region (6) + birth date (8) + sequence (3) + check digit; first 4 + last 4 with the
    birth date beside it left 1–3 candidates. One character at each end keeps ≥ 10,000 candidates even
    with the stored birth year (see docs/personal-data.md). Certificate numbers often embed the ID number,
    so they are masked the same way.
    """
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


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
