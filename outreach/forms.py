"""Forms for the outreach pages: they parse what people type; the rules live in :mod:`outreach.services`,
whose errors :func:`accounts.forms.apply_service_error` puts back onto the fields."""

from __future__ import annotations

from django import forms

from accounts.models import Employer
from core.forms import PageForm
from jobs.models import Trade

from .models import FollowUp, ImportBatch

YES_NO = [("yes", "是"), ("no", "否")]


def attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class FollowUpCallForm(PageForm):
    reached = forms.TypedChoiceField(
        label="联系上了吗",
        choices=[("yes", "联系上了"), ("no", "没接通 / 关机")],
        coerce=_yes_no,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择是否联系上", "invalid_choice": "请选择是否联系上"},
    )
    outcome = forms.ChoiceField(
        label="回访结果",
        required=False,
        choices=FollowUp.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "请选择回访结果"},
    )
    satisfaction = forms.TypedChoiceField(
        label="满意度（1最差，5最好）",
        required=False,
        choices=[(str(i), f"{i}分") for i in range(1, 6)],
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "请选择满意度（1–5分）"},
    )
    wage_paid_in_full = forms.TypedChoiceField(
        label="工钱足额到手了吗",
        required=False,
        choices=YES_NO,
        coerce=_yes_no,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    needs_help = forms.BooleanField(label="需要网点帮助（如讨薪、找活、困难帮扶）", required=False)
    wants_training = forms.BooleanField(label="想参加技能培训", required=False)
    training_trade = forms.ModelChoiceField(
        label="想学什么",
        required=False,
        queryset=Trade.objects.filter(is_active=True),
        empty_label="请选择",
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "请选择想学的技能"},
    )
    notes = forms.CharField(
        label="备注",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs=attrs(rows=3, placeholder="对方说了什么、需要跟进什么")),
        error_messages={"max_length": "备注不超过1000字"},
    )


class TrainingNeedsForm(PageForm):
    trades = forms.ModelMultipleChoiceField(
        label="想学哪些技能（最多选5项）",
        required=False,
        queryset=Trade.objects.filter(is_active=True).order_by("sort_order", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "请选择有效的技能", "invalid_pk_value": "请选择有效的技能"},
    )


class ImportForm(PageForm):
    kind = forms.ChoiceField(
        label="导入什么",
        choices=ImportBatch.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择导入类型", "invalid_choice": "请选择导入类型"},
    )
    employer = forms.ModelChoiceField(
        label="代哪个用工主体发布（导入岗位时必选）",
        required=False,
        queryset=Employer.objects.filter(status=Employer.Status.APPROVED).order_by("name"),
        empty_label="请选择",
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "请选择审核通过的用工主体"},
    )
    file = forms.FileField(
        label="表格文件（.xlsx 或 .csv）",
        widget=forms.ClearableFileInput(attrs={"class": "file", "accept": ".xlsx,.csv"}),
        error_messages={"required": "请选择文件", "empty": "文件是空的"},
    )
