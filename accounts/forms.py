"""Forms for the account pages.

Forms only parse what people type (strip, split tags, yuan → fen, normalise the phone); the rules live in
:mod:`accounts.services`, whose errors :func:`apply_service_error` puts back onto the form's fields.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from core.errors import DomainError
from core.forms import PageForm

from .models import Area, CertificateType, Employer, PayUnit, User, WorkerProfile
from .selectors import trade_model
from .validators import normalize_phone

CODE_PURPOSES = ("register", "login", "reset")


def apply_service_error(
    form: forms.Form, exc: DomainError | ValidationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's error on the form field it names; anything else becomes a form-wide error."""
    field_map = field_map or {}

    def add(field: str | None, message) -> None:
        name = field_map.get(field, field) if field else None
        form.add_error(name if name in form.fields else None, message)

    if isinstance(exc, DomainError):
        add(exc.field, exc.message)
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                add(None if field == "__all__" else field, error.messages)
    else:
        add(None, exc.messages)


def _attrs(**extra) -> dict[str, str]:
    return {"class": "input", **extra}


class PhoneField(forms.CharField):
    """A mainland mobile number; ``+86`` and ``0086`` prefixes and spaces are accepted."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "手机号")
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs=_attrs(type="tel", inputmode="tel", autocomplete="tel", placeholder="11位手机号")
            ),
        )
        kwargs.setdefault("error_messages", {"required": "请输入手机号"})
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalize_phone(value)


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "短信验证码")
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs=_attrs(
                    inputmode="numeric", autocomplete="one-time-code", maxlength="6", placeholder="6位数字"
                )
            ),
        )
        kwargs.setdefault("error_messages", {"required": "请输入短信验证码"})
        super().__init__(**kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(attrs=_attrs(), format="%Y-%m-%d", **kwargs)


class ImageUploadField(forms.FileField):
    """Accepts any file: whether it is a real, small-enough JPEG/PNG is the service's decision."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png", "class": "file"})
        )
        super().__init__(**kwargs)


class CodeRequestMixin:
    """Pages whose form carries a "获取验证码" button: that button checks only the phone number."""

    def __init__(self, *args, phone_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if phone_only:
            for name, field in self.fields.items():
                if name != "phone":
                    field.required = False


# ------------------------------------------------------------------------------------ sign-up, login


class RegisterForm(CodeRequestMixin, PageForm):
    phone = PhoneField()
    code = CodeField()
    name = forms.CharField(
        label="您的称呼",
        max_length=40,
        widget=forms.TextInput(attrs=_attrs(autocomplete="name", placeholder="如：张师傅")),
        error_messages={"required": "请填写称呼"},
    )
    role = forms.ChoiceField(
        label="我是",
        choices=[(User.Role.SEEKER, "求职者（找活干）"), (User.Role.EMPLOYER, "用工方（招人）")],
        initial=User.Role.SEEKER,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择身份"},
    )
    password = forms.CharField(
        label="登录密码（可不填）",
        required=False,
        strip=False,
        help_text="不设密码也可以，以后用短信验证码登录。密码至少8位，不能全是数字。",
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
    )


class PasswordLoginForm(PageForm):
    way = forms.CharField(widget=forms.HiddenInput, initial="password")
    phone = PhoneField()
    password = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="current-password")),
        error_messages={"required": "请输入密码"},
    )


class CodeLoginForm(CodeRequestMixin, PageForm):
    way = forms.CharField(widget=forms.HiddenInput, initial="code")
    phone = PhoneField()
    code = CodeField()


class NewPasswordForm(PageForm):
    """A new password typed twice; the second must match the first."""

    new_password_help = "至少8位，不能全是数字"

    new_password = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
        error_messages={"required": "请输入新密码"},
    )
    new_password2 = forms.CharField(
        label="再输一次新密码",
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="new-password")),
        error_messages={"required": "请再输一次新密码"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password"].help_text = self.new_password_help

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "两次输入的密码不一样")
        return data


class PasswordResetForm(CodeRequestMixin, NewPasswordForm):
    phone = PhoneField()
    code = CodeField()
    field_order = ["phone", "code", "new_password", "new_password2"]


class PasswordChangeForm(NewPasswordForm):
    new_password_help = "至少8位，不能全是数字。改好后，其他手机和电脑上的登录都会退出"

    old_password = forms.CharField(
        label="原密码",
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs(autocomplete="current-password")),
        error_messages={"required": "请输入原密码"},
    )
    field_order = ["old_password", "new_password", "new_password2"]


PAGE_FORMS_BY_PURPOSE = {"register": RegisterForm, "login": CodeLoginForm, "reset": PasswordResetForm}


# ------------------------------------------------------------------------------------------- profile


class TradeGroupsMixin:
    def trade_groups(self) -> list[tuple[str, list]]:
        """The ``wanted_trades`` checkboxes grouped under their category (建筑装修, 家政保洁, …)."""
        labels = dict(trade_model().Category.choices)
        order = {value: index for index, value in enumerate(labels)}
        groups: dict[str, list] = {}
        for option in self["wanted_trades"]:
            trade = option.data["value"].instance
            groups.setdefault(trade.category, []).append(option)
        return [
            (labels.get(category, category), options)
            for category, options in sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))
        ]


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


class ProfileForm(TradeGroupsMixin, PageForm):
    wanted_trades = forms.ModelMultipleChoiceField(
        label="想干什么",
        queryset=trade_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="可以多选",
    )
    skills = forms.CharField(
        label="会干什么",
        required=False,
        max_length=400,
        help_text="写几个词，用空格或逗号隔开，如：砌墙 贴瓷砖 开叉车",
        widget=forms.TextInput(attrs=_attrs(placeholder="如：砌墙 贴瓷砖")),
    )
    expected_pay = forms.DecimalField(
        label="期望报酬（元）",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100000"),
        max_digits=8,
        decimal_places=2,
        widget=forms.NumberInput(attrs=_attrs(inputmode="decimal", step="1", placeholder="如：200")),
    )
    expected_pay_unit = forms.ChoiceField(
        label="按什么算", choices=PayUnit.choices, initial=PayUnit.DAY, widget=forms.Select(attrs=_attrs())
    )
    area = AreaChoiceField(
        label="住在哪里",
        queryset=Area.objects.none(),
        required=False,
        empty_label="请选择",
        widget=forms.Select(attrs=_attrs()),
    )
    availability = forms.MultipleChoiceField(
        label="什么时候能干活",
        choices=WorkerProfile.Availability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    available_from = forms.DateField(label="哪天起能开工", required=False, widget=DateInput())
    max_distance_km = forms.IntegerField(
        label="最远去多远（公里）",
        min_value=1,
        max_value=500,
        initial=20,
        widget=forms.NumberInput(attrs=_attrs(inputmode="numeric")),
    )
    about = forms.CharField(
        label="自我介绍",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs=_attrs(rows=3, placeholder="如：干过10年瓦工，能吃苦")),
    )

    #: service/model field → form field, for errors coming back from the service
    FIELD_MAP = {"expected_pay_fen": "expected_pay"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wanted_trades"].queryset = (
            trade_model().objects.filter(is_active=True).order_by("category", "sort_order", "name")
        )
        self.fields["area"].queryset = Area.objects.select_related("parent").order_by("code")

    @staticmethod
    def initial_from(profile: WorkerProfile) -> dict:
        pay = profile.expected_pay_fen
        return {
            "wanted_trades": list(profile.wanted_trades.values_list("pk", flat=True)),
            "skills": " ".join(profile.skills or []),
            "expected_pay": (Decimal(pay) / 100).normalize() if pay is not None else None,
            "expected_pay_unit": profile.expected_pay_unit,
            "area": profile.area_id,
            "availability": profile.availability or [],
            "available_from": profile.available_from,
            "max_distance_km": profile.max_distance_km,
            "about": profile.about,
        }

    def clean_skills(self) -> list[str]:
        return [s for s in re.split(r"[\s,，、;；/]+", self.cleaned_data.get("skills") or "") if s]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        pay = data.get("expected_pay")
        return {
            "wanted_trades": list(data["wanted_trades"]),
            "skills": data["skills"],
            "expected_pay_fen": int((pay * 100).to_integral_value()) if pay is not None else None,
            "expected_pay_unit": data["expected_pay_unit"],
            "area": data.get("area"),
            "availability": data.get("availability") or [],
            "available_from": data.get("available_from"),
            "max_distance_km": data["max_distance_km"],
            "about": data.get("about", ""),
        }


# ----------------------------------------------------------------------------------------- real-name


class RealNameForm(PageForm):
    name = forms.CharField(
        label="姓名",
        max_length=40,
        help_text="和身份证上一样",
        widget=forms.TextInput(attrs=_attrs(autocomplete="name")),
        error_messages={"required": "请填写姓名"},
    )
    id_number = forms.CharField(
        label="身份证号",
        max_length=30,
        help_text="18位，最后一位可能是X",
        widget=forms.TextInput(attrs=_attrs(autocomplete="off", spellcheck="false", maxlength="30")),
        error_messages={"required": "请填写身份证号"},
    )
    # Optional: with both sides photographed a clerk can decide without the person coming to a hall.
    id_front = ImageUploadField(
        label="身份证人像面照片", required=False, help_text="可不传：不传就带身份证到服务网点核验"
    )
    id_back = ImageUploadField(label="身份证国徽面照片", required=False)


# ----------------------------------------------------------------------------------------- employers


class EmployerForm(PageForm):
    kind = forms.ChoiceField(
        label="类型",
        choices=Employer.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择类型"},
    )
    name = forms.CharField(
        label="名称",
        required=False,
        max_length=100,
        help_text="与营业执照上一致；居民家庭不用填",
        widget=forms.TextInput(attrs=_attrs()),
    )
    uscc = forms.CharField(
        label="统一社会信用代码",
        required=False,
        max_length=30,
        help_text="营业执照上的18位代码",
        widget=forms.TextInput(attrs=_attrs(autocomplete="off", spellcheck="false")),
    )
    legal_representative = forms.CharField(
        label="法定代表人/经营者", required=False, max_length=40, widget=forms.TextInput(attrs=_attrs())
    )
    licence_image = ImageUploadField(
        label="营业执照照片", required=False, help_text="JPG 或 PNG 照片，不超过5MB"
    )
    licence_expires_on = forms.DateField(
        label="执照有效期至", required=False, help_text="长期有效不用填", widget=DateInput()
    )
    contact_name = forms.CharField(
        label="联系人", required=False, max_length=40, widget=forms.TextInput(attrs=_attrs())
    )
    address = forms.CharField(
        label="地址", required=False, max_length=200, widget=forms.TextInput(attrs=_attrs())
    )


class EmployerResubmitForm(PageForm):
    name = forms.CharField(
        label="名称", required=False, max_length=100, widget=forms.TextInput(attrs=_attrs())
    )
    uscc = forms.CharField(
        label="统一社会信用代码",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs=_attrs(autocomplete="off", spellcheck="false")),
    )
    legal_representative = forms.CharField(
        label="法定代表人/经营者", required=False, max_length=40, widget=forms.TextInput(attrs=_attrs())
    )
    licence_image = ImageUploadField(
        label="营业执照照片", required=False, help_text="不换照片可以不选；JPG 或 PNG，不超过5MB"
    )
    licence_expires_on = forms.DateField(
        label="执照有效期至", required=False, help_text="长期有效不用填", widget=DateInput()
    )


class MemberAddForm(PageForm):
    phone = PhoneField(label="成员手机号", help_text="对方要先在本平台注册")


# -------------------------------------------------------------------------------------- certificates


class CertificateForm(PageForm):
    cert_type = forms.ModelChoiceField(
        label="证书类型",
        queryset=CertificateType.objects.none(),
        empty_label="请选择",
        widget=forms.Select(attrs=_attrs()),
        error_messages={"required": "请选择证书类型", "invalid_choice": "请选择证书类型"},
    )
    number = forms.CharField(
        label="证书编号",
        max_length=40,
        widget=forms.TextInput(attrs=_attrs(autocomplete="off")),
        error_messages={"required": "请填写证书编号"},
    )
    image = ImageUploadField(label="证书照片", help_text="JPG 或 PNG 照片，不超过5MB")
    issued_on = forms.DateField(label="发证日期（可不填）", required=False, widget=DateInput())
    expires_on = forms.DateField(
        label="有效期至", widget=DateInput(), error_messages={"required": "请填写有效期"}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cert_type"].queryset = CertificateType.objects.order_by("name")
        self.fields["image"].error_messages["required"] = "请上传证书照片"


# ------------------------------------------------------------------------------ assisted registration


class AssistedRegisterForm(TradeGroupsMixin, PageForm):
    phone = PhoneField(label="村民手机号", help_text="验证码会发到这个手机上")
    name = forms.CharField(
        label="姓名",
        max_length=40,
        widget=forms.TextInput(attrs=_attrs()),
        error_messages={"required": "请填写姓名"},
    )
    id_number = forms.CharField(
        label="身份证号（可不填）",
        required=False,
        max_length=30,
        help_text="填了就同时提交实名认证，请当面核对身份证",
        widget=forms.TextInput(attrs=_attrs(autocomplete="off", spellcheck="false")),
    )
    wanted_trades = forms.ModelMultipleChoiceField(
        label="想干什么",
        queryset=trade_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wanted_trades"].queryset = (
            trade_model().objects.filter(is_active=True).order_by("category", "sort_order", "name")
        )


class AssistedConfirmForm(PageForm):
    phone = PhoneField(label="村民手机号")
    code = CodeField(label="村民念出的验证码")


# ----------------------------------------------------------------------- second factor (staff, mediators)


class SecondFactorCodeForm(PageForm):
    """A code from the authenticator app, or (when ``recovery`` is allowed) one of the recovery codes."""

    code = forms.CharField(
        label="验证码",
        max_length=20,
        widget=forms.TextInput(
            attrs=_attrs(autocomplete="one-time-code", inputmode="numeric", autofocus="autofocus")
        ),
        error_messages={"required": "请输入验证码"},
    )

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery:
            self.fields[
                "code"
            ].help_text = (
                "打开手机上的身份验证器，输入“零工市场”下的6位数字；手机不在身边时，可输入一个8位恢复码"
            )
            self.fields["code"].widget.attrs["inputmode"] = "text"
            self.fields["code"].widget.attrs["autocapitalize"] = "off"
        else:
            self.fields["code"].help_text = "扫码后，输入身份验证器上显示的6位数字"
