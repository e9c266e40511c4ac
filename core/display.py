"""How the staff console shows times and event details: local time in Chinese (Asia/Shanghai,
「2026年12月7日 16:45」), never an ISO string in UTC; event ``data`` as readable lines, not raw JSON."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe


def local_datetime(value: dt.datetime | None) -> str:
    """「2026年12月7日 16:45」 in the market's time zone; "—" for none."""
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")


def _value(value) -> str:
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] in "T ":
        parsed = parse_datetime(value)
        if parsed is not None:
            return local_datetime(parsed)
    if isinstance(value, dt.datetime):
        return local_datetime(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str):
        return DATA_VALUES.get(value, value) or "—"
    return "—" if value is None else str(value)


# Keys that recur in the events' ``data``, in the console's words; any other key shows as it is.
DATA_KEYS = {
    "deadline": "期限",
    "reason": "原因",
    "note": "备注",
    "amount_fen": "金额（分）",
    "amount": "金额",
    "by": "操作方",
    "source": "来源",
    "template": "消息模板",
    "channel": "渠道",
    "mediator": "调解员",
    "quantity": "数量",
    "minutes": "分钟",
    "late": "迟到",
    "number": "编号",
    "point": "服务网点",
    "policy_number": "保单号",
    "premium_fen": "保费（分）",
    "compensation_fen": "补偿（分）",
    "auto": "自动",
    "side": "一方",
    "order": "订单",
    "post": "岗位",
    "case": "案件",
    "kind": "类型",
    "status": "状态",
    "count": "数量",
    "channel_sent": "发送渠道",
}

# Values that recur in the events' ``data`` as codes.
DATA_VALUES = {"worker": "劳动者", "employer": "用工方", "staff": "工作人员", "system": "系统", "sms": "短信"}


def readable_data(data) -> str:
    """An event's ``data`` dict as one line per key, times localised; "—" when empty."""
    if not data:
        return "—"
    if not isinstance(data, dict):
        return _value(data)
    lines = ((DATA_KEYS.get(k, k), _value(v)) for k, v in data.items())
    return format_html_join(mark_safe("<br>"), "{}：{}", lines)


def status_label(choices, code: str) -> str:
    """A status code in the words of its ``TextChoices`` (``pending`` → 待审核), or of the first of a
    tuple of them that knows it; "—" for none."""
    if not code:
        return "—"
    for group in choices if isinstance(choices, tuple | list) else (choices,):
        if group is not None and code in group.values:
            return str(group(code).label)
    return code


def transition(choices, from_status: str, to_status: str) -> str:
    return f"{status_label(choices, from_status)} → {status_label(choices, to_status)}"
