"""A logging filter that masks phone and ID numbers wherever they slip into a log line."""

from __future__ import annotations

import logging
import re

from .masking import mask_id_number

# Not inside a longer number or a decimal (a timing like 0.002212345678901234s is no ID number).
_ID = re.compile(r"(?<!\d)(?<!\d\.)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d|\.\d)")
_PHONE = re.compile(r"(?<!\d)(?<!\d\.)(1[3-9]\d)(\d{4})(\d{4})(?!\d|\.\d)")


def scrub(text: str) -> str:
    text = _ID.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
