"""Hall forms: the kiosk's sign-in steps and the dashboard's filter."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone

from core.forms import PageForm
from jobs.models import Trade


def _pad_input(**extra) -> dict[str, str]:
    # inputmode=none: the kiosk's on-screen pad is the only keyboard (no system keyboard pops up).
    return {"class": "input kiosk-input", "inputmode": "none", "autocomplete": "off", **extra}


class KioskPhoneForm(PageForm):
    phone = forms.CharField(
        label="手机号", max_length=30, widget=forms.TextInput(attrs=_pad_input(maxlength="11"))
    )


class KioskIdForm(PageForm):
    id_number = forms.CharField(
        label="身份证号", max_length=30, widget=forms.TextInput(attrs=_pad_input(maxlength="18"))
    )


class KioskCodeForm(PageForm):
    code = forms.CharField(
        label="短信验证码", max_length=6, widget=forms.TextInput(attrs=_pad_input(maxlength="6"))
    )


class DashboardForm(PageForm):
    start = forms.DateField(
        label="开始日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "input"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label="结束日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "input"}, format="%Y-%m-%d"),
    )
    point = forms.TypedChoiceField(label="网点", required=False, coerce=int, empty_value=None)
    trade = forms.TypedChoiceField(
        label="工种（区县供需与走势）", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, points, every: bool, **kwargs):
        super().__init__(*args, **kwargs)
        first = [("", "全部网点" if every else "本网点及下属驿站")]
        self.fields["point"].choices = first + [(p.pk, p.name) for p in points]
        self.fields["trade"].choices = [("", "全部工种"), *Trade.objects.values_list("pk", "name")]

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=29)
        if end < start:
            self.add_error("end", "结束日期不能早于开始日期")
        elif (end - start).days > settings.HALL_EXPORT_MAX_DAYS:
            self.add_error("start", f"时间跨度不能超过{settings.HALL_EXPORT_MAX_DAYS}天")
        data["start"], data["end"] = start, end
        return data
