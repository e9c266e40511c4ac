"""Account models. Status fields change only through :mod:`accounts.services`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.crypto import EncryptedTextField
from core.masking import mask_name, mask_phone
from core.models import StatusEvent
from core.uploads import random_name

from .validators import normalize_phone


class Area(models.Model):
    """An administrative area: district (区/县), street or town (街道/镇), village or community (村/社区)."""

    class Level(models.TextChoices):
        DISTRICT = "district", "区县"
        STREET = "street", "街道/乡镇"
        VILLAGE = "village", "村/社区"

    name = models.CharField("名称", max_length=60)
    code = models.CharField("区划代码", max_length=12, unique=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "行政区域"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ServicePoint(models.Model):
    """A place of the "1+17+N" network: the district market, street/town markets, village stations."""

    class Kind(models.TextChoices):
        DISTRICT_MARKET = "district_market", "区级零工市场"
        STREET_MARKET = "street_market", "街道/乡镇零工市场"
        VILLAGE_STATION = "village_station", "村级零工驿站"

    name = models.CharField("名称", max_length=80, unique=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="service_points", verbose_name="所在区域"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("服务电话", max_length=20, blank=True)
    opening_hours = models.CharField("开放时间", max_length=60, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "服务网点"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra):
        user = self.model(phone=normalize_phone(phone), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=User.Role.STAFF)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account, keyed on a mainland mobile number stored as 11 digits."""

    class Role(models.TextChoices):
        SEEKER = "seeker", "求职者"
        EMPLOYER = "employer", "用工主体"
        STAFF = "staff", "大厅工作人员"
        MEDIATOR = "mediator", "调解员"

    phone = models.CharField("手机号", max_length=11, unique=True)
    name = models.CharField("称呼", max_length=40, blank=True)
    role = models.CharField("身份", max_length=10, choices=Role.choices, default=Role.SEEKER)
    service_point = models.ForeignKey(
        ServicePoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name="所属网点",
        help_text="工作人员：所在网点；求职者：登记网点",
    )
    registered_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="代注册人"
    )
    phone_confirmed_at = models.DateTimeField("手机确认时间", null=True, blank=True)
    is_active = models.BooleanField("有效", default=True)
    is_staff = models.BooleanField("可进入管理后台", default=False)
    date_joined = models.DateTimeField("注册时间", default=timezone.now)
    # Raised by 退出所有设备: every web session signed with an older value stops being valid, whatever the
    # session engine (it is part of the session's auth hash, see _get_session_auth_hash).
    session_epoch = models.PositiveIntegerField("登录批次", default=0, editable=False)
    # Set when a superuser resets the user's second factor (lost phone): every session that logged in
    # before it ends (accounts/middleware.py), so only a fresh password/SMS login can enrol a new device.
    second_factor_reset_at = models.DateTimeField("二次验证重置时间", null=True, blank=True, editable=False)
    # 长辈模式: larger type, fewer menu entries, higher contrast. Kept on the account (it follows the person to
    # another phone) and in a cookie (the device remembers it before login); see accounts.elder.
    elder_mode = models.BooleanField("长辈模式", default=False)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = verbose_name_plural = "用户"
        permissions = [("register_on_behalf", "可代注册"), ("view_full_phone", "可查看完整手机号")]

    def __str__(self) -> str:
        return f"{mask_name(self.name) or '用户'} {mask_phone(self.phone)}"

    def get_short_name(self) -> str:
        """What the staff console greets with (欢迎，陈晓燕): the name, or the masked number without one."""
        return self.name or mask_phone(self.phone)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def _get_session_auth_hash(self, secret=None):
        """Django's hash of the password, with the session epoch mixed in: a new password or a raised epoch
        ends every web session (the caller keeps its own with ``update_session_auth_hash``). At epoch 0
        it is Django's own value, so existing sessions survived the field's introduction."""
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def set_password(self, raw_password, *, keep_token=None):
        """``keep_token``: the API token (knox ``AuthToken``) that changed the password and stays valid."""
        super().set_password(raw_password)
        self._keep_token = keep_token

    def save(self, *args, **kwargs):
        # A new password (not a hash upgrade: check_password clears _password) ends every API token of the
        # account but the caller's, however it was changed: page, API, reset by code, staff console.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            from knox.models import AuthToken

            tokens = AuthToken.objects.filter(user=self)
            keep = getattr(self, "_keep_token", None)
            if keep is not None:
                tokens = tokens.exclude(pk=keep.pk)
            tokens.delete()
            self._keep_token = None

    @property
    def is_verified(self) -> bool:
        realname = getattr(self, "realname", None)
        return bool(realname and realname.status == RealName.Status.VERIFIED)


class PhoneCode(models.Model):
    """A one-time SMS code. Only a keyed hash of the code is stored."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"
        LOGIN = "login", "登录"
        RESET = "reset", "重置密码"
        ASSISTED = "assisted", "代注册确认"
        CONFIRM = "confirm", "确认操作"

    phone = models.CharField(max_length=11, db_index=True, verbose_name="手机号")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, verbose_name="用途")
    code_hash = models.CharField(max_length=64, verbose_name="验证码摘要")
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name="创建时间")
    expires_at = models.DateTimeField(verbose_name="过期时间")
    used_at = models.DateTimeField(null=True, blank=True, verbose_name="使用时间")
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name="尝试次数")

    class Meta:
        verbose_name = verbose_name_plural = "短信验证码"
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.phone[:3]}****{self.phone[-4:]}"


class PhoneCodeThrottle(models.Model):
    """One row per number, locked while a code is issued so concurrent requests cannot beat the limits."""

    phone = models.CharField(max_length=11, primary_key=True, verbose_name="手机号")

    class Meta:
        verbose_name = verbose_name_plural = "验证码限流"

    def __str__(self) -> str:
        return self.phone[:3] + "****" + self.phone[-4:]


class RealName(models.Model):
    """Real-name record: the ID number is encrypted; ``id_index`` (a keyed hash) keeps one account per person.

    Nothing else stored here may rebuild the number: the mask shows its first and last character, and of
    the birth date only the year is kept (docs/personal-data.md counts what a database dump leaves open).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        VERIFIED = "verified", "已实名"
        REJECTED = "rejected", "未通过"

    class Method(models.TextChoices):
        MANUAL = "manual", "人工核验"
        FAKE = "fake", "测试核验"
        HTTP = "http", "省级身份核验服务"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="realname", verbose_name="用户"
    )
    name = models.CharField("姓名", max_length=40)
    id_number = EncryptedTextField("身份证号（加密）")
    id_index = models.CharField("证件号索引", max_length=64, db_index=True, editable=False)
    id_masked = models.CharField("证件号", max_length=18, editable=False)
    birth_year = models.PositiveSmallIntegerField("出生年份")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField("核验方式", max_length=10, choices=Method.choices, default=Method.MANUAL)
    reject_reason = models.CharField("未通过原因", max_length=200, blank=True)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "实名认证"
        permissions = [("view_full_id_number", "可查看完整身份证号")]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=~Q(status="rejected"), name="realname_one_account_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {self.id_masked}"


class IdCardPhoto(models.Model):
    """A photo of one side of the ID card, sent with a real-name for staff to compare at a distance (the
    other way is the card shown at a hall). Kept encrypted in the database (Fernet, ``core.crypto``), never
    as a file; shown only to reviewing staff who may see the person, each look audited; deleted 30 days
    after the decision (``accounts.tasks.purge_id_photos``)."""

    class Side(models.TextChoices):
        FRONT = "front", "人像面"
        BACK = "back", "国徽面"

    realname = models.ForeignKey(
        RealName, on_delete=models.CASCADE, related_name="id_photos", verbose_name="实名认证"
    )
    side = models.CharField("哪一面", max_length=5, choices=Side.choices)
    content = models.BinaryField("照片（加密）")
    content_type = models.CharField("图片类型", max_length=20)
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "身份证照片"
        constraints = [models.UniqueConstraint(fields=["realname", "side"], name="idcardphoto_one_per_side")]

    def __str__(self) -> str:
        return f"{self.realname} {self.get_side_display()}"


def licence_path(instance, filename: str) -> str:
    # The server names stored uploads: random, with the extension of the checked type (core.uploads).
    return random_name("licences", filename)


def certificate_path(instance, filename: str) -> str:
    return random_name("certificates", filename)


class Employer(models.Model):
    """A hiring party: a company, an individual business (个体工商户) or a household (居民)."""

    class Kind(models.TextChoices):
        COMPANY = "company", "企业"
        INDIVIDUAL_BUSINESS = "individual_business", "个体工商户"
        HOUSEHOLD = "household", "居民家庭"

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"
        SUSPENDED = "suspended", "已暂停"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    name = models.CharField("名称", max_length=100)
    # NULL, not "", for "none": the uniqueness constraint must ignore households without a code.
    uscc = models.CharField("统一社会信用代码", max_length=18, null=True, blank=True)  # noqa: DJ001
    legal_representative = models.CharField("法定代表人/经营者", max_length=40, blank=True)
    licence_image = models.ImageField("营业执照", upload_to=licence_path, blank=True)
    licence_expires_on = models.DateField("执照有效期至", null=True, blank=True, help_text="长期有效留空")
    contact_name = models.CharField("联系人", max_length=40, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, verbose_name="所在区域")
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, null=True, blank=True, verbose_name="登记网点"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.CharField("原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="EmployerMember", related_name="employers", verbose_name="成员"
    )

    class Meta:
        verbose_name = verbose_name_plural = "用工主体"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"],
                condition=~Q(status="rejected") & Q(uscc__isnull=False),
                name="employer_uscc_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class EmployerMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "负责人"
        MEMBER = "member", "成员"

    employer = models.ForeignKey(
        Employer, on_delete=models.CASCADE, related_name="memberships", verbose_name="用工主体"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="employer_memberships",
        verbose_name="用户",
    )
    role = models.CharField("角色", max_length=10, choices=Role.choices, default=Role.MEMBER)
    added_at = models.DateTimeField(default=timezone.now, verbose_name="加入时间")

    class Meta:
        verbose_name = verbose_name_plural = "用工主体成员"
        constraints = [models.UniqueConstraint(fields=["employer", "user"], name="employer_member_unique")]

    def __str__(self) -> str:
        return f"{self.employer} · {self.user} ({self.get_role_display()})"


class CertificateType(models.Model):
    """A kind of certificate, e.g. 特种作业操作证（焊接与热切割作业）."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    issuer = models.CharField("发证机关", max_length=80, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "证书类型"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "未通过"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates", verbose_name="用户"
    )
    cert_type = models.ForeignKey(CertificateType, on_delete=models.PROTECT, verbose_name="证书类型")
    # 特种作业操作证 and driving licences are numbered by the holder's ID number: encrypted like one.
    number = EncryptedTextField("证书编号（加密）")
    number_masked = models.CharField("证书编号", max_length=40, editable=False, default="")
    image = models.ImageField("证书照片", upload_to=certificate_path)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    expires_on = models.DateField("有效期至")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.CharField("原因", max_length=200, blank=True)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "职业证书"
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.cert_type} {self.number_masked}"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.APPROVED and self.expires_on >= timezone.localdate()


class PayUnit(models.TextChoices):
    HOUR = "hour", "小时"
    DAY = "day", "天"
    PIECE = "piece", "单/件"
    CLASS_HOUR = "class_hour", "课时"
    JOB = "job", "整单"


class WorkerProfile(models.Model):
    """What a seeker wants to do (想干什么) and can do (会干什么)."""

    class HelpTier(models.IntegerChoices):
        NONE = 0, "无"
        WATCH = 1, "一般关注"
        FOCUS = 2, "重点帮扶"
        SAFETY_NET = 3, "托底安置"

    class HelpReason(models.TextChoices):
        LONG_UNEMPLOYED = "long_unemployed", "长期失业"
        OLDER = "older", "大龄"
        DISABLED = "disabled", "残疾"
        LOW_INCOME = "low_income", "低收入家庭"

    class Availability(models.TextChoices):
        ANY = "any", "随时可以"
        WEEKDAYS = "weekdays", "工作日"
        WEEKENDS = "weekends", "周末"
        MORNINGS = "mornings", "上午"
        AFTERNOONS = "afternoons", "下午"
        EVENINGS = "evenings", "晚上"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worker_profile", verbose_name="用户"
    )
    wanted_trades = models.ManyToManyField(
        "jobs.Trade", blank=True, related_name="+", verbose_name="想干什么"
    )
    skills = models.JSONField("会干什么", default=list, blank=True)
    expected_pay_fen = models.PositiveIntegerField(
        "期望报酬（分）", null=True, blank=True, validators=[MaxValueValidator(100_000_00)]
    )
    expected_pay_unit = models.CharField(
        "报酬单位", max_length=12, choices=PayUnit.choices, default=PayUnit.DAY
    )
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, verbose_name="常住区域")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    availability = models.JSONField("可工作时间", default=list, blank=True)
    available_from = models.DateField("何时可开工", null=True, blank=True)
    max_distance_km = models.PositiveSmallIntegerField(
        "最远通勤（公里）", default=20, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    about = models.CharField("自我介绍", max_length=300, blank=True)
    help_tier = models.PositiveSmallIntegerField(
        "帮扶等级", choices=HelpTier.choices, default=HelpTier.NONE, help_text="仅工作人员可见"
    )
    help_reasons = models.JSONField("帮扶原因", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name="更新时间")

    class Meta:
        verbose_name = verbose_name_plural = "求职者档案"

    def __str__(self) -> str:
        return f"档案 {self.user}"


class ReviewEvent(StatusEvent):
    """Append-only record of every status change of a real-name, employer or certificate: who, when, why."""

    class Subject(models.TextChoices):
        REALNAME = "realname", "实名认证"
        EMPLOYER = "employer", "用工主体"
        CERTIFICATE = "certificate", "职业证书"
        ACCOUNT = "account", "账户"

    subject = models.CharField("对象", max_length=12, choices=Subject.choices)
    object_id = models.PositiveBigIntegerField("对象编号")
    # The base's fields, with the labels the review pages show.
    from_status = models.CharField("原状态", max_length=12, blank=True)
    to_status = models.CharField("新状态", max_length=12)
    reason = models.CharField("原因", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta(StatusEvent.Meta):
        verbose_name = verbose_name_plural = "审核记录"
        indexes = [models.Index(fields=["subject", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_subject_display()}#{self.object_id} {self.transition_display()}"

    def status_label(self, code: str) -> str:
        """A status code of the reviewed object in words (``pending`` → 待审核)."""
        labels = {
            self.Subject.REALNAME: RealName.Status,
            self.Subject.EMPLOYER: Employer.Status,
            self.Subject.CERTIFICATE: Certificate.Status,
        }.get(self.subject)
        if not code:
            return "—"
        if labels is not None and code in labels.values:
            return str(labels(code).label)
        return self.ACCOUNT_STATUSES.get(code, code)

    # Account events (代注册 confirmed by the villager) carry these.
    ACCOUNT_STATUSES = {"unconfirmed": "待本人确认", "active": "已开通"}

    def transition_display(self) -> str:
        return f"{self.status_label(self.from_status)} → {self.status_label(self.to_status)}"
