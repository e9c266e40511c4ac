"""Forms for the insurance pages (报案) and the staff console (premium table, claim decisions).

Money is typed in yuan (at most two decimals) and cleaned to integer fen with Decimal, never float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from .models import PremiumRate
from .services import MAX_DOCUMENTS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


def yuan_to_fen(text, *, low_fen: int = 1, high_fen: int, what: str = "金额") -> int:
    """``"3"`` → 300, ``"12.5"`` → 1250; refuses zero, negatives, fractions of a fen, typos and amounts
    outside ``[low_fen, high_fen]``."""
    cleaned = str(text or "").strip().removesuffix("元").replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError(f"请填写{what}，如 200 或 12.5") from exc
    if not amount.is_finite():
        raise ValidationError(f"请填写{what}，如 200 或 12.5")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{what}最多到分（两位小数）")
    fen = int(amount * 100)
    if fen < low_fen:
        raise ValidationError(f"{what}必须大于0" if low_fen <= 1 else f"{what}不能低于{low_fen / 100:.2f}元")
    if fen > high_fen:
        raise ValidationError(f"{what}不能超过{high_fen / 100:.2f}元")
    return fen


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return format((Decimal(fen) / 100).quantize(Decimal("0.01")).normalize(), "f")


class YuanField(forms.CharField):
    def __init__(self, *, high_fen: int, what: str = "金额", **kwargs):
        self.high_fen, self.what = high_fen, what
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("widget", forms.TextInput(attrs=_attrs(inputmode="decimal", autocomplete="off")))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return fen_to_yuan(value) if isinstance(value, int) else value

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return yuan_to_fen(value, high_fen=self.high_fen, what=self.what)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks each file's type and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf", "multiple": True}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > MAX_DOCUMENTS:
            raise ValidationError(f"最多上传{MAX_DOCUMENTS}份材料")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ClaimReportForm(forms.Form):
    accident_at = forms.DateTimeField(
        label="出险时间",
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs=_attrs(type="datetime-local"), format=DATETIME_FORMAT),
        error_messages={"required": "请填写出险时间", "invalid": "时间格式不正确，请重新选择"},
    )
    place = forms.CharField(
        label="出险地点",
        max_length=200,
        widget=forms.TextInput(attrs=_attrs(placeholder="如：工地三号楼二层")),
        error_messages={"required": "请填写出险地点"},
    )
    description = forms.CharField(
        label="事故经过和受伤情况",
        max_length=2000,
        widget=forms.Textarea(
            attrs=_attrs(rows=5, placeholder="什么时候、怎么受的伤、伤在哪里、去了哪家医院")
        ),
        error_messages={"required": "请写清事故经过"},
    )
    documents = MultipleFileField(
        label="理赔材料",
        help_text=f"现场照片、诊断证明、医疗发票等，JPG/PNG 图片或 PDF，最多{MAX_DOCUMENTS}份",
        error_messages={"required": "请上传至少一份材料"},
    )


class ClaimApproveForm(forms.Form):
    payout = YuanField(label="赔付金额（元）", high_fen=10_000_000_00, what="赔付金额")
    note = forms.CharField(
        label="审核意见", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ClaimRejectForm(forms.Form):
    reason = forms.CharField(
        label="不予赔付原因",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="工人会在短信里看到这段原因。",
        error_messages={"required": "请填写原因"},
    )


class ClaimForwardForm(forms.Form):
    note = forms.CharField(
        label="审核意见", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )


class LocalInsurerDecisionForm(forms.Form):
    """The local (demo) insurer's decision on a claim, made by staff."""

    decision = forms.ChoiceField(
        label="保险公司处理结果",
        choices=[("accepted", "受理"), ("need_documents", "补材料"), ("paid", "赔付"), ("rejected", "拒赔")],
    )
    amount = YuanField(label="赔付金额（元）", high_fen=10_000_000_00, what="赔付金额", required=False)
    note = forms.CharField(
        label="说明（补材料的要求 / 拒赔原因）", max_length=300, required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("decision") == "paid" and not data.get("amount"):
            self.add_error("amount", "赔付时请填写赔付金额")
        return data


class ClaimDocumentsForm(forms.Form):
    """补材料: documents the insurer asked for."""

    documents = MultipleFileField(
        label="补充材料",
        help_text=f"JPG/PNG 图片或 PDF，最多{MAX_DOCUMENTS}份",
        error_messages={"required": "请上传要补充的材料"},
    )


class PremiumRateForm(forms.ModelForm):
    """The premium table in yuan: 0.01–1,000 yuan per order, cover 1–10,000,000 yuan."""

    premium_fen = YuanField(label="每单保费（元）", high_fen=1_000_00, what="保费")
    cover_fen = YuanField(label="最高保额（元）", high_fen=10_000_000_00, what="保额")

    class Meta:
        model = PremiumRate
        fields = ["risk_class", "premium_fen", "cover_fen", "insurable"]
