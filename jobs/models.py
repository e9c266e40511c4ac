"""The trade catalogue. A trade's insurer risk class (1–6) prices its accident cover; restricted trades
(限制性工种) name the certificate a worker must hold."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Trade(models.Model):
    class Category(models.TextChoices):
        CONSTRUCTION = "construction", "建筑装修"
        HOUSEKEEPING = "housekeeping", "家政保洁"
        LOGISTICS = "logistics", "搬运物流"
        AGRICULTURE = "agriculture", "农业采摘"
        CATERING = "catering", "餐饮服务"
        MANUFACTURING = "manufacturing", "生产制造"
        TRANSPORT = "transport", "交通运输"
        CARE = "care", "养老护理"
        SERVICES = "services", "生活服务"
        EDUCATION = "education", "教育培训"

    name = models.CharField("工种", max_length=30, unique=True)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    risk_class = models.PositiveSmallIntegerField(
        "保险风险等级", validators=[MinValueValidator(1), MaxValueValidator(6)], help_text="1最低，6最高"
    )
    certificate_type = models.ForeignKey(
        "accounts.CertificateType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="所需证书",
        help_text="填写即为限制性工种：须持有效证书才能接单",
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "工种"
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk_class__gte=1, risk_class__lte=6), name="trade_risk_class_1_6"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_certificate(self) -> bool:
        return self.certificate_type_id is not None
