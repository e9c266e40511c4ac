"""``PageForm``: the base of every form on our pages. A required field left empty says which field and
what to do (「请填写联系人」「请选择工种」「请上传证据文件」), never Django's generic 「该字段是必填项。」;
a message a form gives its field itself is kept."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext

_GENERIC = "This field is required."


def required_message(field: forms.Field, label: str) -> str:
    if isinstance(field, forms.FileField):
        return f"请上传{label}"
    if isinstance(field, forms.BooleanField):
        return f"请勾选“{label}”"
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField | forms.DateField | forms.DateTimeField):
        return f"请选择{label}"
    return f"请填写{label}"


class PageForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        generic = {_GENERIC, gettext(_GENERIC)}
        for name, field in self.fields.items():
            if field.error_messages.get("required") in generic:
                label = str(field.label or name).rstrip("：:").strip()
                field.error_messages = {**field.error_messages, "required": required_message(field, label)}
