import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from stdnum import numdb
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from accounts.validators import (
    id_check_digit,
    id_region_codes,
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    uscc_check_character,
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


def test_check_digit_is_iso_7064_mod_11_2():
    # GB 11643's own example, and stdnum's calculation over many bodies
    assert id_check_digit("11010519491231002") == "X"
    for seq in range(200):
        body = f"35012119{seq % 90 + 10:02d}0101{seq:03d}"
        assert id_check_digit(body) == ric.calc_check_digit(body + "0")


def _made(region: str, birth: dt.date, seq: int = 1) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def _created_after(year: int) -> list[tuple[str, int]]:
    """(code, creation year) of every region code in stdnum's table whose every entry starts after
    ``year``: counties created or re-coded later, which a holder born in ``year`` carries today."""
    found = []
    for _l, low, _h, _p, counties in numdb.get("cn/loc").prefixes:
        for _l2, low2, _h2, props, _c in counties:
            entries = props.get("county", "").split(",")
            starts = [e[1:].split("-")[0] for e in entries if e.startswith("[")]
            if starts and len(starts) == len(entries) and all(s and int(s) > year for s in starts):
                found.append((low + low2, min(int(s) for s in starts)))
    return found


def test_holders_born_before_their_codes_creation_are_accepted():
    recoded = _created_after(1970)
    assert len(recoded) > 1000  # the 1980s–2010s re-codings: a large share of the country
    for code, created in recoded:
        number = _made(code, dt.date(1970, 3, 1))
        assert not ric.is_valid(number), code  # stdnum's rule: the code must have existed at birth
        assert normalize_id_number(number) == (number, dt.date(1970, 3, 1)), (code, created)


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("110118", dt.date(1956, 8, 1)),  # 北京密云区, code from 2015
        ("350181", dt.date(1962, 2, 28)),  # 福清市, county → city in 1990
        ("110111", dt.date(1949, 10, 1)),  # 房山区, 1986
        ("110103", dt.date(1980, 1, 1)),  # 崇文区, merged away in 2010: a code that once existed
        ("810000", dt.date(1965, 7, 1)),  # 港澳居民居住证 for a Hong Kong resident born before 1997
        ("830000", dt.date(1970, 1, 1)),  # 台湾居民居住证: not in stdnum's table at all
    ],
)
def test_recoded_retired_and_permit_regions(region, birth):
    number = _made(region, birth, seq=37)
    assert normalize_id_number(number) == (number, birth)


def _typing_variants(number: str) -> list[str]:
    full = "".join(chr(ord(c) + 0xFEE0) for c in number)  # full-width digits and Ｘ
    return [
        number.lower(),
        f" {number[:6]} {number[6:14]} {number[14:]} ",
        f"{number[:6]}-{number[6:14]}-{number[14:]}",
        f"{number[:6]}－{number[6:14]}－{number[14:]}",  # full-width hyphen
        " ".join([number[:4], number[4:8], number[8:12], number[12:16], number[16:]]),
        full,
        f"{full[:6]}\u3000{full[6:]}",  # ideographic space
        f"{number[:6]}\t{number[6:]}\n",
    ]


def test_id_number_typing_variants_are_normalised():
    number = _made("110105", dt.date(1949, 12, 31), seq=2)
    assert number.endswith("X")
    for typed in _typing_variants(number):
        assert normalize_id_number(typed)[0] == number, typed


def _future() -> str:
    return _made("110105", dt.date.today() + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "请输入身份证号"),
        ("1101051949123100", "invalid_length", "应为18位，您输入了16位"),
        ("110105491231002", "invalid_length", "15位的老身份证"),
        ("11010519491231002X1", "invalid_length", "您输入了19位"),
        ("11010519491231A02X", "invalid_format", "只能是数字"),
        ("X10105194912310021", "invalid_format", "只能是数字"),
        (_made("110105", dt.date(1949, 1, 1))[:10] + "0231" + "0021", "invalid_birth_date", "出生日期不存在"),
        ("__future__", "birth_date_in_future", "晚于今天"),
        (_made("110105", dt.date(1899, 12, 31)), "birth_date_too_early", "早于1900年"),
        (_made("999999", dt.date(1980, 1, 1)), "invalid_region", "地区代码不存在"),
        (_made("110199", dt.date(1980, 1, 1)), "invalid_region", "地区代码不存在"),
        ("110105194912310021", "invalid_checksum", "校验码不对"),
    ],
)
def test_id_number_refusals(raw, code, words):
    raw = _future() if raw == "__future__" else raw
    with pytest.raises(ValidationError) as info:
        normalize_id_number(raw)
    assert info.value.code == code
    assert words in info.value.messages[0]


def test_each_id_failure_has_its_own_message():
    cases = [
        "1101051949123100",
        "11010519491231A02X",
        _made("110105", dt.date(1949, 1, 1))[:10] + "02310021",
        _future(),
        _made("110105", dt.date(1899, 12, 31)),
        _made("999999", dt.date(1980, 1, 1)),
        "110105194912310021",
    ]
    messages = set()
    for raw in cases:
        with pytest.raises(ValidationError) as info:
            normalize_id_number(raw)
        messages.add(info.value.messages[0])
    assert len(messages) == len(cases)


def test_region_codes_cover_stdnums_whole_history():
    codes = id_region_codes()
    assert {"110103", "110118", "110111", "350181", "810000", "830000"} <= codes
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert "999999" not in codes and "110199" not in codes


# ----------------------------------------------------------------------------------------------- USCC


def _uscc(body17: str) -> str:
    return body17 + uscc_check_character(body17)


def test_uscc_valid_and_invalid():
    assert normalize_uscc("91110000600037341l") == "91110000600037341L"
    assert uscc_check_character("91110000600037341") == "L"
    with pytest.raises(ValidationError) as info:
        normalize_uscc("91110000600037341A")
    assert info.value.code == "invalid_checksum"
    with pytest.raises(ValidationError) as info:
        normalize_uscc("9111000060003734")
    assert info.value.code == "invalid_length" and "您输入了16位" in info.value.messages[0]


@pytest.mark.parametrize(
    "typed",
    [
        "9111 0000 6000 3734 1L",
        "91110000-600037341-L",
        "９１１１００００６０００３７３４１Ｌ",
        "\u30009111000060003734 1l",
    ],
)
def test_uscc_typing_variants_are_normalised(typed):
    assert normalize_uscc(typed) == "91110000600037341L"


def test_uscc_from_agricultural_and_other_authorities_is_accepted():
    # 农民专业合作社 / 村集体经济组织 (N…) and 其他 (Y…): stdnum wants 8 leading digits and refuses them
    for body in ("N2350181MA2Y3K4J0", "Y1350121MA34567P8", "A1110000MB1234560"):
        code = _uscc(body)
        assert not stdnum_uscc.is_valid(code)
        assert normalize_uscc(code) == code


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ("", "required", "请输入"),
        ("91110000600O37341L", "invalid_format", "“O”"),
        ("9111000060003734IL", "invalid_format", "“I”"),
        ("91A10000600037341L", "invalid_format", "第3–8位"),
    ],
)
def test_uscc_refusals(raw, code, words):
    with pytest.raises(ValidationError) as info:
        normalize_uscc(raw)
    assert info.value.code == code and words in info.value.messages[0]


# ---------------------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    "raw",
    [
        "１３８１２３４５６７８",
        "+８６ １３８－１２３４－５６７８",
        "（+86）138 1234 5678",
        "138\u30001234\u30005678",
        "86 13812345678",
    ],
)
def test_phone_full_width_and_spaced_forms(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿依古丽·买买提"])
def test_name_ok(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "张", "张3", "<script>"])
def test_name_refused(name):
    with pytest.raises(ValidationError):
        validate_name(name)


def test_phone_fields_take_the_long_typed_forms():
    from accounts.forms import PhoneField
    from accounts.serializers import PhoneField as ApiPhoneField

    typed = "+８６ １３８ － １２３４ － ５６７８"  # 24 characters as typed
    assert len(typed) > 20
    assert PhoneField().clean(typed) == "13812345678"
    assert ApiPhoneField().run_validation(typed) == "13812345678"
