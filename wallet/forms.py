"""Forms for the wallet pages. They parse what people type (yuan → fen exactly, the card number's digits);
the rules live in :mod:`wallet.services`.

Every form that moves money carries a one-time ``token`` made when the page is drawn: the service is keyed
on it, so a double tap or a browser resubmission returns the first result instead of paying twice.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from core.forms import PageForm

TOKEN_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


def yuan_to_fen(text: str) -> int:
    """``"200"`` → 20000, ``"12.5"`` → 1250, ``"1,000.05"`` → 100005; refuses zero, negatives, fractions
    of a fen and anything that is not a number."""
    cleaned = (text or "").strip().removesuffix("元").replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError("请填写金额，如 200 或 12.5") from exc
    if not amount.is_finite():
        raise ValidationError("请填写金额，如 200 或 12.5")
    if amount <= 0:
        raise ValidationError("金额必须大于0")
    if amount >= Decimal("1e12"):
        raise ValidationError("金额过大，请核对")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("金额最多到分（两位小数）")
    return int(amount * 100)


class YuanField(forms.CharField):
    """Money typed in yuan; cleans to integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs=attrs(inputmode="decimal", placeholder="如：500", autocomplete="off")),
        )
        kwargs.setdefault("error_messages", {"required": "请填写金额"})
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return yuan_to_fen(value)


class OnceForm(PageForm):
    """A form submitted once: its token keys the service call."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not TOKEN_PATTERN.match(token):
            raise ValidationError("页面已过期，请刷新后重新提交")
        return token

    def service_key(self, *, user, purpose: str) -> str:
        return f"form:{purpose}:{user.pk}:{self.cleaned_data['token']}"


class TopUpForm(OnceForm):
    amount = YuanField(label="充值金额（元）", help_text="最多两位小数，如 1000 或 1000.50")


class WithdrawalForm(OnceForm):
    amount = YuanField(label="提现金额（元）")
    card_number = forms.CharField(
        label="银行卡号",
        max_length=30,
        help_text="只能提现到本人名下的银行卡",
        widget=forms.TextInput(
            attrs=attrs(inputmode="numeric", autocomplete="cc-number", spellcheck="false", maxlength="30")
        ),
        error_messages={"required": "请填写银行卡号"},
    )
    holder_name = forms.CharField(
        label="持卡人姓名",
        max_length=40,
        help_text="须与实名认证的姓名一致",
        widget=forms.TextInput(attrs=attrs(autocomplete="cc-name")),
        error_messages={"required": "请填写持卡人姓名"},
    )


def parse_month(value: str | None) -> dt.date | None:
    """``"2026-05"`` → 2026-05-01; anything else → None."""
    if not value or not re.fullmatch(r"\d{4}-\d{2}", value):
        return None
    year, month = int(value[:4]), int(value[5:])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)
