"""Input validation for accounts, built on python-stdnum (ID, USCC), and phonenumbers (uploads: core.uploads)."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(value: str) -> str:
    """Accept ``13812345678``, ``+86 138-1234-5678`` or ``0086 13812345678``; return 11 digits."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError("请输入手机号", code="required")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("手机号格式不正确", code="invalid_phone") from exc
    national = str(parsed.national_number)
    if parsed.country_code != 86 or not MOBILE_RE.match(national):
        raise ValidationError("请输入11位中国大陆手机号", code="invalid_phone")
    return national


def normalize_id_number(value: str) -> tuple[str, dt.date]:
    """Validate an 18-digit resident ID (GB 11643: ISO 7064 MOD 11-2 check, a real birth date)."""
    number = ric.compact(value or "").upper()
    if len(number) != 18:
        raise ValidationError("身份证号应为18位", code="invalid_length")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError("身份证号只能是数字，最后一位可以是X", code="invalid_format")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError as exc:
        raise ValidationError("身份证号中的出生日期不存在", code="invalid_birth_date") from exc
    if birth > dt.date.today() or birth.year < 1900:
        raise ValidationError("身份证号中的出生日期不合理", code="invalid_birth_date")
    try:
        ric.validate(number)
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError("身份证号校验位不正确，请核对", code="invalid_checksum") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError("身份证号中的地区代码不存在", code="invalid_region") from exc
    return number, birth


def normalize_uscc(value: str) -> str:
    """Validate a Unified Social Credit Code (GB 32100 check character)."""
    code = uscc.compact(value or "").upper()
    if len(code) != 18:
        raise ValidationError("统一社会信用代码应为18位", code="invalid_length")
    try:
        return uscc.validate(code)
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError("统一社会信用代码校验位不正确", code="invalid_checksum") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError("统一社会信用代码格式不正确", code="invalid_uscc") from exc


def validate_name(value: str) -> str:
    name = (value or "").strip()
    if not 2 <= len(name) <= 30 or not re.fullmatch(r"[\u4e00-\u9fff·•A-Za-z ]+", name):
        raise ValidationError("请填写身份证上的姓名（2–30个字）", code="invalid_name")
    return name
