import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core import crypto
from core.logging import MaskPersonalDataFilter, scrub
from core.masking import mask_id_number, mask_name, mask_phone


def test_masks():
    assert mask_id_number("35040219750615001X") == "3****************X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_id_number("") == mask_phone(None) == ""


def test_encryption_round_trip_and_key_rotation(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    token = crypto.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # rotated: old tokens still readable
    assert crypto.decrypt(token) == "11010519491231002X"
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_blind_index_is_keyed_and_stable(settings):
    a = crypto.blind_index("11010519491231002X", purpose="id_number")
    assert a == crypto.blind_index("11010519491231002X", purpose="id_number")
    assert a != crypto.blind_index("11010519491231002X", purpose="other")
    settings.BLIND_INDEX_KEY = "another-key"
    assert a != crypto.blind_index("11010519491231002X", purpose="id_number")


def test_log_lines_are_scrubbed():
    assert scrub("user 13812345678 id 11010519491231002X") == "user 138****5678 id 1****************X"
    assert scrub("task took 0.002213812345678901234s") == "task took 0.002213812345678901234s"
    assert scrub("证件11010519491231002X。电话13812345678.") == "证件1****************X。电话138****5678."
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sms to %s", ("13812345678",), None)
    MaskPersonalDataFilter().filter(record)
    assert record.getMessage() == "sms to 138****5678"


def test_logged_sms_never_shows_the_number(caplog, settings, db, django_capture_on_commit_callbacks):
    from accounts import services

    settings.SMS_BACKEND = "console"
    logger = logging.getLogger("gigmarket.sms")
    logger.addFilter(MaskPersonalDataFilter())
    try:
        with (
            caplog.at_level(logging.INFO, logger="gigmarket.sms"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.phone_code_send(phone="13912345678", purpose="register")
    finally:
        logger.filters.clear()
    assert "验证码" in caplog.text and "13912345678" not in caplog.text and "139****5678" in caplog.text
