"""The input rules of accounts.validators at their edges, each refusal with its exact words (what the person
reads) and code: a birth date of today and of 1 January 1900 (accepted) and one day beyond each; 15 and 17
characters; a name of 2 and 30 characters (accepted) and of 1 and 31; a USCC whose letters sit just inside
and just outside the region digits; a foreign number that looks like a mainland mobile. Broader cases live
in tests/accounts/test_validators.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc

from accounts.validators import (
    fold_input,
    id_check_digit,
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    uscc_check_character,
    validate_name,
)


def refusal(func, raw) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        func(raw)
    return info.value.code, info.value.messages[0]


def made_id(birth: dt.date, region: str = "110105", seq: int = 1) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


# ------------------------------------------------------------------------------------------- typing


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (None, ""),
        ("", ""),
        ("1 2\t3\n4\u30005", "12345"),  # spaces, tab, newline, the ideographic space
        ("1-2\u20103\u20114\u20125\u20136\u20147\u20158", "12345678"),  # ASCII hyphen and U+2010–U+2015
        ("1\u22122\u30fc3\uff0d4", "1234"),  # minus sign, katakana long vowel mark, full-width hyphen
        ("１２３ｘ", "123x"),  # NFKC folds full-width forms; case is left to the caller
        ("a--  -b", "ab"),
    ],
)
def test_fold_input_removes_every_separator_people_type(typed, read):
    assert fold_input(typed) == read


# -------------------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "请输入手机号"),
        ("   ", "required", "请输入手机号"),
        (None, "required", "请输入手机号"),
        ("abc", "invalid_phone", "手机号格式不正确，请输入11位手机号"),
        ("+", "invalid_phone", "手机号格式不正确，请输入11位手机号"),
        ("12812345678", "invalid_phone", "请输入11位中国大陆手机号"),  # 12… is no mobile prefix
        ("10812345678", "invalid_phone", "请输入11位中国大陆手机号"),
        ("1381234567", "invalid_phone", "请输入11位中国大陆手机号"),  # 10 digits
        ("138123456789", "invalid_phone", "请输入11位中国大陆手机号"),  # 12 digits
        ("+44 13812345678", "invalid_phone", "请输入11位中国大陆手机号"),  # a mobile's digits, abroad
        ("0044 13812345678", "invalid_phone", "请输入11位中国大陆手机号"),
    ],
)
def test_phone_refusals_word_for_word(raw, code, words):
    assert refusal(normalize_phone, raw) == (code, words)


@pytest.mark.parametrize("raw", ["13012345678", "19912345678", "(138)1234-5678", "0086(138)12345678"])
def test_phone_edges_of_the_mobile_prefixes_and_brackets(raw):
    assert normalize_phone(raw) == raw.replace("(", "").replace(")", "").replace("-", "").removeprefix("0086")


# ------------------------------------------------------------------------------------- resident ID


def test_a_person_born_today_is_accepted_and_tomorrow_refused():
    today = dt.date.today()
    assert normalize_id_number(made_id(today)) == (made_id(today), today)
    assert refusal(normalize_id_number, made_id(today + dt.timedelta(days=1))) == (
        "birth_date_in_future",
        "身份证号中的出生日期晚于今天，请核对",
    )


def test_born_on_1_january_1900_is_accepted_the_day_before_refused():
    first = dt.date(1900, 1, 1)
    assert normalize_id_number(made_id(first)) == (made_id(first), first)
    assert refusal(normalize_id_number, made_id(dt.date(1899, 12, 31))) == (
        "birth_date_too_early",
        "身份证号中的出生日期早于1900年，请核对",
    )


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "请输入身份证号"),
        (" - ", "required", "请输入身份证号"),
        ("11010519491231002", "invalid_length", "身份证号应为18位，您输入了17位"),
        (
            "110105491231002",
            "invalid_length",
            "身份证号应为18位，您输入了15位（15位的老身份证请换领18位新证）",
        ),
        ("1101054912310021", "invalid_length", "身份证号应为18位，您输入了16位"),
        ("11010519491231002X1", "invalid_length", "身份证号应为18位，您输入了19位"),
        ("1101051949123100XX", "invalid_format", "身份证号只能是数字，最后一位可以是X"),
        ("11010519491231002Y", "invalid_format", "身份证号只能是数字，最后一位可以是X"),
        ("110105194902300021", "invalid_birth_date", "身份证号第7–14位的出生日期不存在，请核对"),
        ("110105194913010021", "invalid_birth_date", "身份证号第7–14位的出生日期不存在，请核对"),
        ("110105000001010021", "invalid_birth_date", "身份证号第7–14位的出生日期不存在，请核对"),
        ("999999198001010011", "invalid_region", "身份证号前6位的地区代码不存在，请核对"),
        ("110105194912310021", "invalid_checksum", "身份证号最后一位校验码不对，请逐位核对"),
    ],
)
def test_id_refusals_word_for_word(raw, code, words):
    assert refusal(normalize_id_number, raw) == (code, words)


def test_the_birth_date_is_read_from_characters_7_to_14():
    number = made_id(dt.date(1987, 11, 23), region="350181", seq=456)
    assert normalize_id_number(number) == (number, dt.date(1987, 11, 23))


def test_a_wrong_check_digit_is_refused_even_when_the_rest_is_right():
    number = made_id(dt.date(1980, 2, 29))
    for wrong in "0123456789X":
        if wrong != number[17]:
            assert refusal(normalize_id_number, number[:17] + wrong)[0] == "invalid_checksum"


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("11010519491231002", "X"),  # GB 11643's example
        ("35018119900101007", "0"),
        ("35018119900101001", "1"),
        ("35018119900101006", "2"),
        ("35018119900101000", "3"),
        ("35018119900101005", "4"),
        ("35018119900101018", "5"),
        ("35018119900101004", "6"),
        ("35018119900101009", "7"),
        ("35018119900101003", "8"),
        ("35018119900101008", "9"),
        ("35018119900101002", "X"),
    ],
)
def test_check_digit_values(body, check):
    assert id_check_digit(body) == check


# ------------------------------------------------------------------------------------------------ USCC


def _uscc(body17: str) -> str:
    return body17 + uscc_check_character(body17)


def test_uscc_check_character_agrees_with_stdnum():
    for seq in range(300):
        body = f"91350181MA{seq:07d}"[:17]
        assert uscc_check_character(body) == stdnum_uscc.calc_check_digit(body)


def test_uscc_check_character_of_a_sum_divisible_by_31_is_0():
    body = next(
        f"9135018100{seq:07d}" for seq in range(10_000) if uscc_check_character(f"9135018100{seq:07d}") == "0"
    )
    assert normalize_uscc(body + "0") == body + "0"


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "请输入统一社会信用代码"),
        ("9111000060003734", "invalid_length", "统一社会信用代码应为18位，您输入了16位"),
        ("91110000600037341", "invalid_length", "统一社会信用代码应为18位，您输入了17位"),
        ("91110000600037341LL", "invalid_length", "统一社会信用代码应为18位，您输入了19位"),
        (
            "91110000600O37I41L",
            "invalid_format",
            "统一社会信用代码不含“I、O”（只有数字和除I、O、Z、S、V以外的大写字母），请核对",
        ),
        (
            "911100006000373S1S",
            "invalid_format",
            "统一社会信用代码不含“S”（只有数字和除I、O、Z、S、V以外的大写字母），请核对",
        ),
        ("91A10000600037341L", "invalid_format", "统一社会信用代码第3–8位是行政区划代码，应为数字"),
        ("9111000A600037341L", "invalid_format", "统一社会信用代码第3–8位是行政区划代码，应为数字"),
        ("91110000600037341A", "invalid_checksum", "统一社会信用代码最后一位校验码不对，请逐位核对"),
    ],
)
def test_uscc_refusals_word_for_word(raw, code, words):
    assert refusal(normalize_uscc, raw) == (code, words)


def test_uscc_letters_just_outside_the_region_digits_are_accepted():
    for body in ("A111000060003734L", "9Y11000060003734L", "91110000M0003734L"):
        code = _uscc(body[:17])
        assert normalize_uscc(code) == code


# ------------------------------------------------------------------------------------------------ name


@pytest.mark.parametrize("name", ["张三", "张" * 30, "Li Na", "阿依古丽·买买提", "玛丽•居里", "  王五  "])
def test_names_of_2_to_30_characters(name):
    assert validate_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", None, "张", " 张 ", "张" * 31, "张三1", "张三_", "Анна"])
def test_names_refused_word_for_word(name):
    assert refusal(validate_name, name) == ("invalid_name", "请填写身份证上的姓名（2–30个字）")


@pytest.mark.parametrize(
    ("calc", "short"), [(id_check_digit, "1101051949123100"), (uscc_check_character, "9111000060003734")]
)
def test_a_check_character_of_a_short_body_is_an_error_not_a_guess(calc, short):
    with pytest.raises(ValueError):
        calc(short)
