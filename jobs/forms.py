"""Forms for the jobs pages.

Forms only parse what people type (yuan → fen, local date-times, coordinates, star counts); the rules live
in :mod:`jobs.services`, whose errors :func:`accounts.forms.apply_service_error` puts back onto the fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.forms import AreaChoiceField, CodeField, PhoneField
from accounts.models import Area, Employer, PayUnit
from core.forms import PageForm

from .models import Post, Trade
from .selectors import BoardQuery, districts_and_streets

MAX_YUAN = Decimal("10000")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
RADIUS_CHOICES = [
    ("", "不限距离"),
    ("3", "3公里内"),
    ("5", "5公里内"),
    ("10", "10公里内"),
    ("20", "20公里内"),
]
STAR_WORDS = ("很满意", "满意", "一般", "不满意", "很差")
SORT_CHOICES = [("newest", "最新发布"), ("nearest", "离我最近"), ("pay", "报酬最高")]


def attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


def yuan_to_fen(text: str) -> int:
    """``"200"`` → 20000, ``"12.5"`` → 1250; refuses zero, negatives, fractions of a fen and typos."""
    cleaned = (text or "").strip().removesuffix("元").replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationError("请填写金额，如 200 或 12.5") from exc
    if not amount.is_finite():
        raise ValidationError("请填写金额，如 200 或 12.5")
    if amount <= 0:
        raise ValidationError("报酬必须大于0")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("金额最多到分（两位小数）")
    if amount > MAX_YUAN:
        raise ValidationError("报酬过高，请核对（单价不超过1万元）")
    return int(amount * 100)


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return format((Decimal(fen) / 100).normalize(), "f")


class YuanField(forms.CharField):
    """Money typed in yuan; cleans to integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs=attrs(inputmode="decimal", placeholder="如：200", autocomplete="off")),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return yuan_to_fen(value)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(attrs=attrs(), format=DATETIME_FORMAT, **kwargs)


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=LocalDateTimeInput(),
        error_messages={"required": f"请填写{label}", "invalid": "时间格式不正确，请重新选择"},
    )


def _quantity_field(label: str = "数量", **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=Decimal("10000"),
        max_digits=8,
        decimal_places=2,
        widget=forms.NumberInput(attrs=attrs(inputmode="decimal", step="0.5", min="0")),
        error_messages={
            "required": "请填写数量",
            "invalid": "请填写数字",
            "min_value": "数量应大于0",
            "max_value": "数量不能超过10000",
            "max_decimal_places": "最多两位小数",
            "max_digits": "数字太长",
        },
        **kwargs,
    )


class TradeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Trade) -> str:
        return f"{obj.name}（需持证）" if obj.certificate_type_id else obj.name


class StreetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"　· {obj.name}" if obj.level == Area.Level.STREET else obj.name


# ------------------------------------------------------------------------------------------- board


class BoardForm(PageForm):
    """The board's filters (GET). Whatever is wrong is reported; the valid filters still apply."""

    q = forms.CharField(
        label="找什么活",
        required=False,
        max_length=30,
        widget=forms.TextInput(
            attrs=attrs(type="search", placeholder="如：保洁、瓦工、焊", enterkeyhint="search")
        ),
        error_messages={"max_length": "关键词太长，请少于30个字"},
    )
    trade = TradeChoiceField(
        label="工种",
        queryset=Trade.objects.none(),
        required=False,
        empty_label="全部工种",
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "没有这个工种，请重新选择"},
    )
    area = StreetChoiceField(
        label="区域",
        queryset=Area.objects.none(),
        required=False,
        empty_label="全部区域",
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "没有这个区域，请重新选择"},
    )
    pay_unit = forms.ChoiceField(
        label="计价方式",
        required=False,
        choices=[("", "不限"), *PayUnit.choices],
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "计价方式不正确"},
    )
    pay_min = YuanField(label="最低报酬（元）", required=False)
    date = forms.DateField(
        label="开工日期",
        required=False,
        widget=forms.DateInput(attrs=attrs(type="date"), format="%Y-%m-%d"),
        error_messages={"invalid": "日期格式不正确"},
    )
    lat = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "位置信息不正确",
            "min_value": "位置信息不正确",
            "max_value": "位置信息不正确",
        },
    )
    lng = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "位置信息不正确",
            "min_value": "位置信息不正确",
            "max_value": "位置信息不正确",
        },
    )
    radius = forms.TypedChoiceField(
        label="距离",
        required=False,
        choices=RADIUS_CHOICES,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "距离选项不正确"},
    )
    sort = forms.ChoiceField(
        label="排序",
        required=False,
        choices=SORT_CHOICES,
        widget=forms.Select(attrs=attrs()),
        error_messages={"invalid_choice": "排序方式不正确"},
    )
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trade"].queryset = Trade.objects.filter(is_active=True)
        self.fields["area"].queryset = districts_and_streets()

    def clean_date(self):
        day = self.cleaned_data.get("date")
        today = timezone.localdate()
        if day is not None and not today - dt.timedelta(days=1) <= day <= today + dt.timedelta(days=366):
            raise ValidationError("请选择一年之内的日期")
        return day

    def clean(self):
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lat", "位置信息不完整，请重新点“用我的位置”")
        return data

    def to_query(self) -> BoardQuery:
        """The query from whichever fields were valid (``cleaned_data`` holds only those)."""
        data = getattr(self, "cleaned_data", {})
        lat, lng = data.get("lat"), data.get("lng")
        if lat is None or lng is None:
            lat = lng = None
        trade = data.get("trade")
        area = data.get("area")
        return BoardQuery(
            q=data.get("q") or "",
            trade_ids=[trade.pk] if trade else [],
            area_id=area.pk if area else None,
            pay_unit=data.get("pay_unit") or "",
            pay_min_fen=data.get("pay_min"),
            date=data.get("date"),
            lat=lat,
            lng=lng,
            radius_km=data.get("radius") if lat is not None else None,
            sort=data.get("sort") or ("nearest" if lat is not None else "newest"),
            cursor=data.get("cursor") or "",
        )


# ------------------------------------------------------------------------------------------- posts


class PostForm(PageForm):
    """Post a job. ``employers`` are the ones this person may post for (approved ones)."""

    employer = forms.ModelChoiceField(
        label="用工主体",
        queryset=Employer.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs=attrs()),
        error_messages={"required": "请选择用工主体", "invalid_choice": "请选择审核通过的用工主体"},
    )
    trade = TradeChoiceField(
        label="工种",
        queryset=Trade.objects.none(),
        empty_label="请选择",
        widget=forms.Select(attrs=attrs()),
        error_messages={"required": "请选择工种", "invalid_choice": "请选择工种"},
    )
    title = forms.CharField(
        label="标题",
        max_length=60,
        widget=forms.TextInput(attrs=attrs(placeholder="如：招小工2名，搬砖清场")),
        error_messages={"required": "请填写标题", "max_length": "标题2–60个字"},
    )
    description = forms.CharField(
        label="工作内容（可不填）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=attrs(rows=3, placeholder="干什么活、有什么要求、管不管饭")),
    )
    pay = YuanField(label="报酬（元）", error_messages={"required": "请填写报酬"})
    pay_unit = forms.ChoiceField(
        label="按什么算",
        choices=PayUnit.choices,
        initial=PayUnit.DAY,
        widget=forms.Select(attrs=attrs()),
        error_messages={"required": "请选择计价单位", "invalid_choice": "请选择计价单位"},
    )
    quantity = _quantity_field("每人预计数量", initial=1, help_text="每人约干几小时/天/件，整单填1")
    slots = forms.IntegerField(
        label="招几个人",
        min_value=1,
        max_value=500,
        initial=1,
        widget=forms.NumberInput(attrs=attrs(inputmode="numeric", min="1", max="500")),
        error_messages={
            "required": "请填写招工人数",
            "invalid": "请填写整数",
            "min_value": "招工人数应为1–500人",
            "max_value": "招工人数应为1–500人",
        },
    )
    area = AreaChoiceField(
        label="工作地区",
        queryset=Area.objects.none(),
        empty_label="请选择",
        widget=forms.Select(attrs=attrs()),
        error_messages={"required": "请选择工作地区", "invalid_choice": "请选择工作地区"},
    )
    address = forms.CharField(
        label="详细地址",
        max_length=200,
        widget=forms.TextInput(attrs=attrs(placeholder="如：工业区8号")),
        error_messages={"required": "请填写详细地址"},
    )
    lat = forms.FloatField(
        required=False, widget=forms.HiddenInput, error_messages={"invalid": "位置信息不正确"}
    )
    lng = forms.FloatField(
        required=False, widget=forms.HiddenInput, error_messages={"invalid": "位置信息不正确"}
    )
    starts_at = _datetime_field("开工时间")
    ends_at = _datetime_field("收工时间")
    mode = forms.ChoiceField(
        label="接单方式",
        choices=Post.Mode.choices,
        initial=Post.Mode.GRAB,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择接单方式", "invalid_choice": "请选择接单方式"},
    )
    insurance_required = forms.BooleanField(label="要求购买意外险", required=False)
    contact_name = forms.CharField(
        label="联系人",
        max_length=40,
        widget=forms.TextInput(attrs=attrs(autocomplete="name")),
        error_messages={"required": "请填写联系人"},
    )
    contact_phone = PhoneField(label="联系电话", help_text="工人接单确认后才能看到完整号码")

    #: service field → form field, for errors coming back from the service
    FIELD_MAP = {"pay_fen": "pay"}
    SERVICE_FIELDS = (
        "trade", "title", "description", "pay_unit", "quantity", "slots", "area", "address", "lat", "lng",
        "starts_at", "ends_at", "mode", "insurance_required", "contact_name", "contact_phone",
    )  # fmt: skip

    def __init__(self, *args, employers=None, with_employer: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_employer:
            self.fields["employer"].queryset = employers if employers is not None else Employer.objects.none()
        else:
            del self.fields["employer"]
        self.fields["trade"].queryset = Trade.objects.filter(is_active=True)
        self.fields["area"].queryset = Area.objects.select_related("parent").order_by("code")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "收工时间应晚于开工时间")
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error(None, "位置信息不完整，请重新获取")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {name: data.get(name) for name in self.SERVICE_FIELDS}
        kwargs["pay_fen"] = data["pay"]
        kwargs["title"] = (data.get("title") or "").strip()
        return kwargs

    @staticmethod
    def initial_from(post: Post) -> dict:
        return {
            "trade": post.trade_id,
            "title": post.title,
            "description": post.description,
            "pay": fen_to_yuan(post.pay_fen),
            "pay_unit": post.pay_unit,
            "quantity": post.quantity,
            "slots": post.slots,
            "area": post.area_id,
            "address": post.address,
            "lat": post.lat,
            "lng": post.lng,
            "starts_at": timezone.localtime(post.starts_at),
            "ends_at": timezone.localtime(post.ends_at),
            "mode": post.mode,
            "insurance_required": post.insurance_required,
            "contact_name": post.contact_name,
            "contact_phone": post.contact_phone,
        }


class ReasonForm(PageForm):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        widget=forms.TextInput(attrs=attrs(placeholder="对方会看到")),
        error_messages={"required": "请填写原因"},
    )

    def __init__(self, *args, required: bool = True, label: str = "原因", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        self.fields["reason"].label = label


# ------------------------------------------------------------------------------------------ claims


class ClaimForm(PageForm):
    note = forms.CharField(
        label="给雇主留言（可不填）",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=attrs(placeholder="如：干过5年瓦工，自带工具")),
    )


# ------------------------------------------------------------------------------------------ orders


class CheckInForm(PageForm):
    lat = forms.FloatField(
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
        error_messages={"invalid": "位置信息不正确"},
    )
    lng = forms.FloatField(
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
        error_messages={"invalid": "位置信息不正确"},
    )


class QuantityForm(PageForm):
    quantity = _quantity_field()

    def __init__(self, *args, label: str = "数量", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].label = label


class ContractSignForm(PageForm):
    code = CodeField()


class RatingForm(PageForm):
    stars = forms.TypedChoiceField(
        label="打几颗星",
        choices=[(str(n), f"{'★' * n} {word}") for n, word in zip(range(5, 0, -1), STAR_WORDS, strict=True)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择1–5星", "invalid_choice": "请选择1–5星"},
    )
    comment = forms.CharField(
        label="说几句（可不填）",
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs=attrs(placeholder="如：干活踏实 / 按时结算")),
    )
