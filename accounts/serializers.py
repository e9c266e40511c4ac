"""Serializers for the accounts API: input serializers only type-check and shape the request (the rules live
in :mod:`accounts.services`); output serializers decide what personal data leaves the server.

ID numbers never leave in full: outputs carry ``id_masked`` only; the full number is returned by the staff
unmask endpoint alone, after the service has written the audit log. Other people's phones are masked.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import mask_phone

from .models import (
    Area,
    Certificate,
    CertificateType,
    Employer,
    EmployerMember,
    PhoneCode,
    RealName,
    ServicePoint,
    User,
    WorkerProfile,
)
from .selectors import trade_model
from .validators import normalize_phone


class PhoneField(serializers.CharField):
    """A mainland mobile number, normalised to 11 digits (``+86 138-…`` accepted)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


# ------------------------------------------------------------------------------------------- errors


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (see :mod:`core.api`)."""

    code = serializers.CharField(help_text="机器可读的错误代码，如 invalid、rate_limited、locked_out")
    detail = serializers.CharField(help_text="一句话说明，可直接展示给用户")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="字段名 → 错误说明"
    )
    field_codes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="字段名 → 机器可读的原因（有时提供），如 id_number: [invalid_checksum]",
    )


# ------------------------------------------------------------------------------------- auth / users


class CodeRequestSerializer(serializers.Serializer):
    PURPOSES = [PhoneCode.Purpose.REGISTER, PhoneCode.Purpose.LOGIN, PhoneCode.Purpose.RESET]

    phone = PhoneField()
    purpose = serializers.ChoiceField(choices=[(p.value, p.label) for p in PURPOSES])


class CodeSentSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="验证码有效秒数")


class UserSerializer(serializers.ModelSerializer):
    """The signed-in user's own account: their own phone is shown in full."""

    is_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "phone", "name", "role", "is_verified", "is_staff", "service_point", "date_joined"]
        read_only_fields = fields


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)


# Self-registration is for seekers and employers; staff and mediators are created in the console.
SELF_REGISTER_ROLES = [(role.value, role.label) for role in (User.Role.SEEKER, User.Role.EMPLOYER)]


class RegisterSerializer(serializers.Serializer):
    phone = PhoneField()
    code = serializers.CharField(max_length=6)
    name = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=SELF_REGISTER_ROLES, default=User.Role.SEEKER)
    password = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", write_only=True, trim_whitespace=False
    )


class LoginSerializer(serializers.Serializer):
    phone = PhoneField()
    password = serializers.CharField(max_length=128, required=False, trim_whitespace=False, write_only=True)
    code = serializers.CharField(max_length=6, required=False, write_only=True)
    otp_code = serializers.CharField(
        max_length=20,
        required=False,
        write_only=True,
        help_text="工作人员和调解员必填：身份验证器上的6位数字，或一个8位恢复码（二次验证）",
    )

    def validate(self, attrs):
        if bool(attrs.get("password")) == bool(attrs.get("code")):
            raise serializers.ValidationError("请填写密码或短信验证码（二选一）")
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="放在请求头 Authorization: Token <token>")
    expiry = serializers.DateTimeField(allow_null=True)
    user = UserSerializer()


class PasswordResetSerializer(serializers.Serializer):
    phone = PhoneField()
    code = serializers.CharField(max_length=6)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


# -------------------------------------------------------------------------------------- catalogues


class CertificateTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificateType
        fields = ["id", "code", "name", "issuer"]
        read_only_fields = fields


class ServicePointSerializer(serializers.ModelSerializer):
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = ServicePoint
        fields = [
            "id",
            "name",
            "kind",
            "parent",
            "area",
            "area_name",
            "address",
            "phone",
            "opening_hours",
            "lat",
            "lng",
        ]
        read_only_fields = fields


# ---------------------------------------------------------------------------------- worker profile


class WorkerProfileSerializer(serializers.ModelSerializer):
    """想干什么/会干什么. The help tier (困难零工 flag) is staff-only and deliberately absent."""

    wanted_trades = serializers.PrimaryKeyRelatedField(
        many=True, queryset=trade_model().objects.filter(is_active=True), required=False
    )
    skills = serializers.ListField(child=serializers.CharField(max_length=20), max_length=20, required=False)
    availability = serializers.ListField(
        child=serializers.ChoiceField(choices=WorkerProfile.Availability.choices),
        max_length=len(WorkerProfile.Availability.choices),
        required=False,
    )
    area = serializers.PrimaryKeyRelatedField(queryset=Area.objects.all(), required=False, allow_null=True)

    class Meta:
        model = WorkerProfile
        fields = [
            "wanted_trades",
            "skills",
            "expected_pay_fen",
            "expected_pay_unit",
            "area",
            "lat",
            "lng",
            "availability",
            "available_from",
            "max_distance_km",
            "about",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


# --------------------------------------------------------------------------------------- real-name


class RealNameSerializer(serializers.ModelSerializer):
    """The user's own real-name record: the number only as ``id_masked``."""

    class Meta:
        model = RealName
        fields = ["status", "name", "id_masked", "method", "reject_reason", "submitted_at", "decided_at"]
        read_only_fields = fields


class RealNameSubmitSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    id_number = serializers.CharField(max_length=40, write_only=True, help_text="18位居民身份证号")


# ----------------------------------------------------------------------------------------- employers


class EmployerSerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField(help_text="调用者在该用工主体中的角色")

    class Meta:
        model = Employer
        fields = [
            "id",
            "kind",
            "name",
            "uscc",
            "legal_representative",
            "licence_image",
            "licence_expires_on",
            "contact_name",
            "address",
            "area",
            "service_point",
            "status",
            "reject_reason",
            "created_at",
            "decided_at",
            "my_role",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=EmployerMember.Role.choices, allow_null=True))
    def get_my_role(self, employer: Employer) -> str | None:
        role = getattr(employer, "my_role", None)
        if role is None:
            request = self.context.get("request")
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                role = employer.memberships.filter(user=user).values_list("role", flat=True).first()
        return role


class EmployerRegisterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Employer.Kind.choices)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    uscc = serializers.CharField(
        max_length=30, required=False, allow_blank=True, allow_null=True, default=None
    )
    legal_representative = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    licence_image = serializers.FileField(
        required=False, allow_null=True, default=None, help_text="营业执照照片，JPG 或 PNG"
    )
    licence_expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    area = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.all(), required=False, allow_null=True, default=None
    )
    service_point = serializers.PrimaryKeyRelatedField(
        queryset=ServicePoint.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )


class EmployerResubmitSerializer(serializers.Serializer):
    """Fields left out keep their current value."""

    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    uscc = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True)
    legal_representative = serializers.CharField(max_length=40, required=False, allow_blank=True)
    licence_image = serializers.FileField(required=False, allow_null=True)
    licence_expires_on = serializers.DateField(required=False, allow_null=True)


class EmployerMemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    phone = serializers.SerializerMethodField(help_text="他人的手机号打码，本人的完整显示")

    class Meta:
        model = EmployerMember
        fields = ["id", "user_id", "name", "phone", "role", "added_at"]
        read_only_fields = fields

    def get_phone(self, member: EmployerMember) -> str:
        request = self.context.get("request")
        if request is not None and request.user.pk == member.user_id:
            return member.user.phone
        return mask_phone(member.user.phone)


class MemberAddSerializer(serializers.Serializer):
    phone = PhoneField(help_text="要加入的成员的注册手机号")


# -------------------------------------------------------------------------------------- certificates


class CertificateSerializer(serializers.ModelSerializer):
    cert_type = CertificateTypeSerializer(read_only=True)
    is_valid = serializers.BooleanField(read_only=True, help_text="已通过且未过期")

    class Meta:
        model = Certificate
        fields = [
            "id",
            "cert_type",
            "number_masked",
            "image",
            "issued_on",
            "expires_on",
            "status",
            "reject_reason",
            "submitted_at",
            "decided_at",
            "is_valid",
        ]
        read_only_fields = fields


class CertificateSubmitSerializer(serializers.Serializer):
    cert_type = serializers.PrimaryKeyRelatedField(queryset=CertificateType.objects.all())
    number = serializers.CharField(max_length=40)
    image = serializers.FileField(help_text="证书照片，JPG 或 PNG")
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField()


# ---------------------------------------------------------------------------------------------- staff


class PersonBriefSerializer(serializers.ModelSerializer):
    """Whom a staff queue item is about, with the phone masked."""

    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "phone"]
        read_only_fields = fields


class StaffRealNameSerializer(serializers.ModelSerializer):
    user = PersonBriefSerializer(read_only=True)

    class Meta:
        model = RealName
        fields = [
            "id",
            "user",
            "name",
            "id_masked",
            "birth_year",
            "status",
            "method",
            "reject_reason",
            "submitted_at",
            "decided_at",
        ]
        read_only_fields = fields


class StaffEmployerSerializer(serializers.ModelSerializer):
    created_by = PersonBriefSerializer(read_only=True)

    class Meta:
        model = Employer
        fields = [
            "id",
            "kind",
            "name",
            "uscc",
            "legal_representative",
            "licence_image",
            "licence_expires_on",
            "contact_name",
            "address",
            "area",
            "service_point",
            "status",
            "reject_reason",
            "created_by",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class StaffCertificateSerializer(CertificateSerializer):
    user = PersonBriefSerializer(read_only=True)

    class Meta(CertificateSerializer.Meta):
        fields = [*CertificateSerializer.Meta.fields, "user"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="原因（申请人会看到）")


class UnmaskSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="查看原因，写入审计日志")


class FullIdNumberSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text="完整身份证号；每次查看都记入审计日志")


class AssistedRegistrationSerializer(serializers.Serializer):
    phone = PhoneField(help_text="求职者本人的手机号：确认码发到这里")
    name = serializers.CharField(max_length=40)
    id_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", write_only=True
    )
    wanted_trades = serializers.PrimaryKeyRelatedField(
        many=True, queryset=trade_model().objects.filter(is_active=True), required=False, default=list
    )


class AssistedConfirmSerializer(serializers.Serializer):
    phone = PhoneField()
    code = serializers.CharField(max_length=6)


class AssistedUserSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "phone", "is_active", "service_point", "date_joined"]
        read_only_fields = fields


class AssistedRegistrationResultSerializer(serializers.Serializer):
    user = AssistedUserSerializer()
    expires_in = serializers.IntegerField(help_text="发到求职者手机的确认码有效秒数")
