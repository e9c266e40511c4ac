"""Forms of the dispute pages: they parse what people type (yuan to fen, dates); the services decide."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from accounts.forms import PhoneField

from .models import Case, Recovery, Transfer


def _attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


class YuanField(forms.CharField):
    """Money typed in yuan ("200", "12.5") → integer fen; negative, non-numbers and over 2 decimals refused."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs=_attrs(inputmode="decimal", autocomplete="off")))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = Decimal(value.replace(",", "").replace("元", "").strip())
        except InvalidOperation as exc:
            raise forms.ValidationError("请填写金额，例如 200 或 12.5") from exc
        if amount < 0:
            raise forms.ValidationError("金额不能为负数")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("金额最多到分（两位小数）")
        return int(amount * 100)


CATEGORY_CHOICES = [(k, v) for k, v in Case.Category.choices if k != Case.Category.FAKE_POST]


class FileForm(forms.Form):
    category = forms.ChoiceField(label="纠纷类别", choices=CATEGORY_CHOICES, widget=forms.RadioSelect)
    amount_claimed = YuanField(label="请求金额（元）", required=False, help_text="拖欠工资必填")
    request = forms.CharField(
        label="您希望怎么解决（可不填）",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs=_attrs()),
    )
    description = forms.CharField(
        label="发生了什么", max_length=2000, widget=forms.Textarea(attrs=_attrs(rows=4)),
        help_text="时间、地点、经过，谁说了什么",
    )  # fmt: skip
    evidence = forms.FileField(
        label="证据照片或PDF（可不传）", required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )  # fmt: skip


class ReportForm(forms.Form):
    description = forms.CharField(
        label="哪里不对", max_length=2000, widget=forms.Textarea(attrs=_attrs(rows=4)),
        help_text="例如：收押金、工资与说的不符、联系不上、地址不存在",
    )  # fmt: skip


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="补充证据（照片或PDF）",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    note = forms.CharField(
        label="说明（可不填）", required=False, max_length=200, widget=forms.TextInput(attrs=_attrs())
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="短信验证码", max_length=6,
        widget=forms.TextInput(attrs=_attrs(inputmode="numeric", autocomplete="one-time-code")),
    )  # fmt: skip


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, widget=forms.TextInput(attrs=_attrs()))

    def __init__(self, *args, label: str = "原因", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label


class MediatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name or obj.masked_phone


class AcceptForm(forms.Form):
    mediator = MediatorChoiceField(label="分派调解员", queryset=None, empty_label="请选择",
                                   widget=forms.Select(attrs=_attrs()))  # fmt: skip

    def __init__(self, *args, mediators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = mediators


class ReviewForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label="核实结果", choices=[("1", "举报属实，下架岗位"), ("0", "举报不实，恢复展示")],
        coerce=lambda v: v == "1", widget=forms.RadioSelect,
    )  # fmt: skip
    note = forms.CharField(label="核实说明", max_length=300, widget=forms.TextInput(attrs=_attrs()))


class OralForm(forms.Form):
    complainant_name = forms.CharField(
        label="申请人姓名", max_length=40, widget=forms.TextInput(attrs=_attrs())
    )
    complainant_phone = PhoneField(label="申请人手机号")
    complainant_side = forms.ChoiceField(label="申请人是", choices=Case.Side.choices, widget=forms.RadioSelect,
                                         initial=Case.Side.WORKER)  # fmt: skip
    respondent_name = forms.CharField(label="被申请人（单位或个人）", max_length=80, required=False,
                                      widget=forms.TextInput(attrs=_attrs()))  # fmt: skip
    order = forms.IntegerField(label="订单号（有就填）", required=False, min_value=1,
                               widget=forms.NumberInput(attrs=_attrs()))  # fmt: skip
    category = forms.ChoiceField(label="纠纷类别", choices=CATEGORY_CHOICES, widget=forms.RadioSelect)
    request = forms.CharField(
        label="申请事项（要求什么）", max_length=300, widget=forms.TextInput(attrs=_attrs())
    )
    description = forms.CharField(
        label="事实和理由", max_length=2000, widget=forms.Textarea(attrs=_attrs(rows=4))
    )
    amount_claimed = YuanField(label="请求金额（元）", required=False)


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="调解时间", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs=_attrs(type="datetime-local"), format="%Y-%m-%dT%H:%M"),
    )  # fmt: skip
    room = forms.CharField(
        label="地点", max_length=80, initial="纠纷调解室", widget=forms.TextInput(attrs=_attrs())
    )
    attendees = forms.CharField(label="参加人员（可不填）", required=False, max_length=300,
                                widget=forms.TextInput(attrs=_attrs()))  # fmt: skip


class MinutesForm(forms.Form):
    attendees = forms.CharField(
        label="实到人员", required=False, max_length=300, widget=forms.TextInput(attrs=_attrs())
    )
    notes = forms.CharField(label="调解笔录", max_length=4000, widget=forms.Textarea(attrs=_attrs(rows=3)))


class NoteForm(forms.Form):
    text = forms.CharField(
        label="我的笔记（当事人看不到）", max_length=4000, widget=forms.Textarea(attrs=_attrs(rows=3))
    )


class MessageForm(forms.Form):
    to = forms.ChoiceField(label="发给", choices=[("both", "双方"), ("worker", "劳动者"), ("employer", "用工方")],
                           widget=forms.RadioSelect, initial="both")  # fmt: skip
    text = forms.CharField(label="留言（短信发送）", max_length=200, widget=forms.TextInput(attrs=_attrs()))


class AgreementForm(forms.Form):
    facts = forms.CharField(label="基本事实", max_length=2000, widget=forms.Textarea(attrs=_attrs(rows=3)))
    disputed_items = forms.CharField(
        label="争议事项", max_length=1000, widget=forms.Textarea(attrs=_attrs(rows=2))
    )
    worker_amount = YuanField(label="用工方支付劳动者（元）")
    pay_by = forms.DateField(
        label="支付期限", widget=forms.DateInput(attrs=_attrs(type="date"), format="%Y-%m-%d")
    )
    term_text = forms.CharField(label="其他约定（可不填）", required=False, max_length=300,
                                widget=forms.TextInput(attrs=_attrs()))  # fmt: skip
    term_amount = YuanField(label="其他约定的金额（元）", required=False)
    term_due = forms.DateField(label="其他约定的履行日期", required=False,
                               widget=forms.DateInput(attrs=_attrs(type="date"), format="%Y-%m-%d"))  # fmt: skip

    def terms(self) -> list[dict]:
        data = self.cleaned_data
        if not data.get("term_text"):
            return []
        return [
            {"text": data["term_text"], "amount_fen": data.get("term_amount"), "due_on": data.get("term_due")}
        ]


class TransferForm(forms.Form):
    to = forms.ChoiceField(label="移交至", choices=Transfer.To.choices, widget=forms.RadioSelect)
    organisation = forms.CharField(label="接收单位", max_length=100, widget=forms.TextInput(attrs=_attrs()))
    note = forms.CharField(label="移交说明", max_length=500, widget=forms.TextInput(attrs=_attrs()))


class ExtensionForm(forms.Form):
    new_deadline = forms.DateTimeField(
        label="新的调解期限", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs=_attrs(type="datetime-local"), format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "请填写新的调解期限", "invalid": "时间格式不正确，请重新选择"},
    )  # fmt: skip
    reason = forms.CharField(
        label="延期理由", max_length=300, widget=forms.Textarea(attrs=_attrs(rows=2)),
        help_text="双方会在短信和案件页看到，并用验证码确认",
    )  # fmt: skip


class RecoveryForm(forms.Form):
    amount = YuanField(label="追回金额（元）")
    paid_on = forms.DateField(
        label="支付日期", widget=forms.DateInput(attrs=_attrs(type="date")),
        error_messages={"required": "请填写支付日期", "invalid": "日期格式不正确"},
    )  # fmt: skip
    method = forms.ChoiceField(label="支付方式", choices=Recovery.Method.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="说明（可不填）", max_length=200, required=False, widget=forms.TextInput(attrs=_attrs())
    )
    receipt = forms.FileField(
        label="收据照片（可不传）", required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )  # fmt: skip
