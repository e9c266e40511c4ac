"""Masks for display (core.masking) at their edges: empty and missing input, input too short to keep any
character, the shortest input that keeps some, and the usual lengths. What each mask keeps is exactly what
it promises, never a character more."""

from __future__ import annotations

import pytest

from core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (None, ""),
        ("", ""),
        ("1", "*"),
        ("12", "**"),
        ("1234", "****"),  # four or fewer: nothing kept
        ("12345", "1***5"),  # five: the first and the last
        ("350402199001011234", "3****************4"),
        ("11010519491231002X", "1****************X"),
    ],
)
def test_id_number_keeps_only_the_first_and_last_character(value, masked):
    assert mask_id_number(value) == masked
    assert len(mask_id_number(value)) == len(value or "")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (None, ""),
        ("", ""),
        ("1", "*"),
        ("123456", "******"),  # under seven: nothing kept
        ("1234567", "1234567"),  # seven: the first three and the last four, nothing hidden between
        ("12345678", "123*5678"),
        ("13812345678", "138****5678"),
    ],
)
def test_phone_keeps_the_first_three_and_last_four(value, masked):
    assert mask_phone(value) == masked
    assert len(mask_phone(value)) == len(value or "")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (None, ""),
        ("", ""),
        ("张", "张"),
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("阿依古丽·买买提", "阿*******"),
    ],
)
def test_name_keeps_the_surname(value, masked):
    assert mask_name(value) == masked
