import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import (
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    validate_name,
)
from tests.factories import id_number


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-138-1234-5678",
        "0086 13812345678",
        " 138 1234 5678 ",
    ],
)
def test_phone_accepts_prefixes_and_normalises(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "+1 415 555 0100",
        "abc",
        "02188889999",
        "+852 91234567",
    ],
)
def test_phone_refuses_malformed(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_id_number_valid_with_x_check_digit():
    number, birth = normalize_id_number("11010519491231002x")
    assert number == "11010519491231002X"
    assert birth == dt.date(1949, 12, 31)


def test_id_number_generated_values_valid():
    for seq in range(30):
        _number, birth = normalize_id_number(id_number(seq))
        assert birth == dt.date(1975, 6, 15)


def _with_check(body17: str) -> str:
    from stdnum.cn import ric

    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "invalid_checksum"),  # wrong check digit
        (_with_check("11010519490231002"), "invalid_birth_date"),  # 1949-02-31 does not exist
        (_with_check("11010520991231002"), "invalid_birth_date"),  # born in the future
        ("1101051949123100", "invalid_length"),
        ("11010519491231002X1", "invalid_length"),
        ("11010519491231A02X", "invalid_format"),
        (_with_check("99999919800101001"), "invalid_region"),
    ],
)
def test_id_number_refusals(raw, code):
    with pytest.raises(ValidationError) as info:
        normalize_id_number(raw)
    assert info.value.code == code


def test_uscc_valid_and_invalid():
    assert normalize_uscc("91110000600037341l") == "91110000600037341L"
    with pytest.raises(ValidationError) as info:
        normalize_uscc("91110000600037341A")
    assert info.value.code == "invalid_checksum"
    with pytest.raises(ValidationError):
        normalize_uscc("9111000060003734")


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿依古丽·买买提"])
def test_name_ok(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "张", "张3", "<script>"])
def test_name_refused(name):
    with pytest.raises(ValidationError):
        validate_name(name)
