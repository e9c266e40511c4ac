"""Input validation for accounts: resident IDs (GB 11643), USCC (GB 32100), phones, names (uploads: core.uploads).

Everything a person types is normalised first (NFKC folds full-width digits and letters to ASCII; spaces,
hyphens and dashes go), so a number typed on a Chinese IME keyboard or copied with spaces is read as meant.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum import numdb

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# After NFKC: ASCII and Unicode hyphens/dashes and every kind of whitespace are separators people type.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d]+")

ID_EARLIEST_BIRTH_YEAR = 1900
# Residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证, 2018) are numbered like
# resident IDs under 810000 / 820000 / 830000; python-stdnum's table lacks 830000.
_PERMIT_REGIONS = frozenset({"810000", "820000", "830000"})


def fold_input(value: str | None) -> str:
    """NFKC (full-width ``１２３Ｘ`` → ``123X``, ideographic space → space), separators removed."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))


def normalize_phone(value: str) -> str:
    """Accept ``13812345678``, ``+86 138-1234-5678``, ``0086 13812345678`` or full-width digits; return 11
    digits."""
    raw = unicodedata.normalize("NFKC", value or "").strip()
    if not raw:
        raise ValidationError("请输入手机号", code="required")
    compact = re.sub(r"[\s\-\u2010-\u2015\u2212()]+", "", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        parsed = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("手机号格式不正确，请输入11位手机号", code="invalid_phone") from exc
    national = str(parsed.national_number)
    if parsed.country_code != 86 or not MOBILE_RE.match(national):
        raise ValidationError("请输入11位中国大陆手机号", code="invalid_phone")
    return national


# ------------------------------------------------------------------------------------ resident ID


@lru_cache(maxsize=1)
def id_region_codes() -> frozenset[str]:
    """Every 6-digit region code a resident ID can carry: each county code in python-stdnum's
    ``cn/loc`` table, whatever years it was in use.

    The table marks codes with their years (``[1986-]房山区``, ``[-2010]崇文区``) and stdnum's own
    ``ric.validate`` refuses an ID whose holder was born before the code was created. But an ID is
    re-issued under the new code when a county is re-coded, so a holder born in 1970 legitimately carries a
    code created in 2015. A code that exists or ever existed is accepted; the birth year does not matter.
    """
    codes: set[str] = set(_PERMIT_REGIONS)
    for _len, low, high, _props, counties in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _len2, low2, high2, props2, _children in counties:
                if "county" not in props2:
                    continue
                width = len(low2)
                for county in range(int(low2), int(high2) + 1):
                    codes.add(f"{province:02d}{county:0{width}d}")
    return frozenset(codes)


def id_check_digit(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    remainder = sum(int(d) * w for d, w in zip(body[:17], weights, strict=True)) % 11
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


def normalize_id_number(value: str) -> tuple[str, dt.date]:
    """Validate an 18-digit resident ID per GB 11643 and return it with the birth date.

    Checks, each with its own message: 18 characters, digits with an optional final X, a real birth date
    that is not in the future nor before 1900, a region code that exists or ever existed, and the check
    digit.
    """
    number = fold_input(value).upper()
    if not number:
        raise ValidationError("请输入身份证号", code="required")
    if len(number) != 18:
        hint = "（15位的老身份证请换领18位新证）" if len(number) == 15 else ""
        raise ValidationError(f"身份证号应为18位，您输入了{len(number)}位{hint}", code="invalid_length")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError("身份证号只能是数字，最后一位可以是X", code="invalid_format")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationError("身份证号第7–14位的出生日期不存在，请核对", code="invalid_birth_date") from exc
    if birth > dt.date.today():
        raise ValidationError("身份证号中的出生日期晚于今天，请核对", code="birth_date_in_future")
    if birth.year < ID_EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            f"身份证号中的出生日期早于{ID_EARLIEST_BIRTH_YEAR}年，请核对", code="birth_date_too_early"
        )
    if number[:6] not in id_region_codes():
        raise ValidationError("身份证号前6位的地区代码不存在，请核对", code="invalid_region")
    if number[17] != id_check_digit(number):
        raise ValidationError("身份证号最后一位校验码不对，请逐位核对", code="invalid_checksum")
    return number, birth


# ----------------------------------------------------------------------------------------------- USCC

# GB 32100-2015: 31 characters, no I, O, Z, S, V (too like 1, 0, 2, 5, U).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(code: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Validate a Unified Social Credit Code (GB 32100): 18 characters of its alphabet, a 6-digit region
    code in positions 3–8, and the check character.

    The first character (registering authority) is any character of the alphabet: besides the digits,
    ``A`` (编制部门), ``N`` (农业部门: 农民专业合作社, 村集体经济组织) and ``Y`` (其他) are issued, so
    python-stdnum's "the first 8 are digits" would refuse a village collective hiring day labourers.
    """
    code = fold_input(value).upper()
    if not code:
        raise ValidationError("请输入统一社会信用代码", code="required")
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为18位，您输入了{len(code)}位", code="invalid_length")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            f"统一社会信用代码不含“{'、'.join(bad)}”（只有数字和除I、O、Z、S、V以外的大写字母），请核对",
            code="invalid_format",
        )
    if not code[2:8].isdigit():
        raise ValidationError("统一社会信用代码第3–8位是行政区划代码，应为数字", code="invalid_format")
    if code[17] != uscc_check_character(code):
        raise ValidationError("统一社会信用代码最后一位校验码不对，请逐位核对", code="invalid_checksum")
    return code


def validate_name(value: str) -> str:
    name = (value or "").strip()
    if not 2 <= len(name) <= 30 or not re.fullmatch(r"[\u4e00-\u9fff·•A-Za-z ]+", name):
        raise ValidationError("请填写身份证上的姓名（2–30个字）", code="invalid_name")
    return name
