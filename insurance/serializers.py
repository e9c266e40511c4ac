"""Serializers for the insurance API. Input serializers only shape the request (rules live in
:mod:`insurance.services`); output serializers decide what leaves the server: the insured's ID number is
always masked, and claim documents are links to a permission-checked view, never public media."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import AccidentClaim, ClaimDocument, ClaimEvent, Policy
from .selectors import HOW_TO_CLAIM, can_report_claim
from .services import remaining_cover_fen


class AccidentClaimBriefSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text="报案号")

    class Meta:
        model = AccidentClaim
        fields = ["id", "number", "status", "reported_at", "payout_fen"]
        read_only_fields = fields


class InsuredSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="被保险人姓名")
    id_masked = serializers.CharField(help_text="身份证号（已遮蔽）")


class PolicyDocumentSerializer(serializers.ModelSerializer):
    """The policy document (保单): what both sides of the order (and staff) may see."""

    order = serializers.IntegerField(source="order_id", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    policyholder = serializers.CharField(
        source="order.employer.name", read_only=True, help_text="投保人（用工方）"
    )
    insured = serializers.SerializerMethodField()
    trade = serializers.CharField(source="order.post.trade.name", read_only=True)
    planned_start = serializers.DateTimeField(source="order.starts_at", read_only=True)
    planned_end = serializers.DateTimeField(source="order.ends_at", read_only=True)
    failure_reason = serializers.SerializerMethodField(help_text="出单失败时保险公司给出的原因")
    remaining_cover_fen = serializers.SerializerMethodField(help_text="扣除已赔付后剩余保额（分）")
    can_report = serializers.SerializerMethodField(help_text="当前用户现在能否报案")
    how_to_claim = serializers.SerializerMethodField()
    claims = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField(help_text="保单网页")

    class Meta:
        model = Policy
        fields = [
            "id", "order", "status", "status_display", "insurer", "policy_number", "policyholder", "insured",
            "trade", "risk_class", "cover_fen", "premium_fen", "planned_start", "planned_end", "cover_from",
            "cover_to", "issued_at", "failure_reason", "remaining_cover_fen", "can_report", "how_to_claim",
            "claims", "page_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(InsuredSerializer)
    def get_insured(self, policy: Policy) -> dict:
        worker = policy.order.worker
        realname = getattr(worker, "realname", None)
        return {
            "name": realname.name if realname else worker.name,
            "id_masked": realname.id_masked if realname else "",
        }

    def get_failure_reason(self, policy: Policy) -> str:
        return policy.last_error if policy.status == Policy.Status.FAILED else ""

    def get_remaining_cover_fen(self, policy: Policy) -> int:
        return remaining_cover_fen(policy)

    def get_can_report(self, policy: Policy) -> bool:
        return can_report_claim(policy=policy, user=self.context["request"].user)

    def get_how_to_claim(self, policy: Policy) -> list[str]:
        return HOW_TO_CLAIM

    @extend_schema_field(AccidentClaimBriefSerializer(many=True))
    def get_claims(self, policy: Policy) -> list[dict]:
        return AccidentClaimBriefSerializer(policy.claims.order_by("-reported_at", "-pk"), many=True).data

    def get_page_url(self, policy: Policy) -> str:
        return self.context["request"].build_absolute_uri(reverse("insurance:policy", args=[policy.order_id]))


class ClaimDocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="下载地址（需登录，仅本人和工作人员可见）")

    class Meta:
        model = ClaimDocument
        fields = ["id", "content_type", "size", "created_at", "url"]
        read_only_fields = fields

    def get_url(self, document: ClaimDocument) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("insurance:claim_document", args=[document.claim_id, document.pk])
        )


class ClaimEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimEvent
        fields = ["from_status", "to_status", "created_at"]
        read_only_fields = fields


class AccidentClaimSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text="报案号")
    order = serializers.IntegerField(source="policy.order_id", read_only=True)
    policy_number = serializers.CharField(source="policy.policy_number", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    documents = ClaimDocumentSerializer(many=True, read_only=True)
    events = ClaimEventSerializer(many=True, read_only=True)

    class Meta:
        model = AccidentClaim
        fields = [
            "id", "number", "order", "policy_number", "status", "status_display", "accident_at", "place",
            "description", "reported_at", "decided_at", "payout_fen", "decision_note", "documents", "events",
        ]  # fmt: skip
        read_only_fields = fields


class AccidentReportSerializer(serializers.Serializer):
    accident_at = serializers.DateTimeField(help_text="出险时间（须在保障期内：签到至签退）")
    place = serializers.CharField(max_length=200, help_text="出险地点")
    description = serializers.CharField(max_length=2000, help_text="事故经过和受伤情况（10–2000字）")
    documents = serializers.ListField(
        child=serializers.FileField(), allow_empty=False, max_length=10,
        help_text="理赔材料：JPG/PNG 图片或 PDF，每份不超过上传上限，最多10份（multipart 重复字段 documents）",
    )  # fmt: skip


class AccidentClaimApproveSerializer(serializers.Serializer):
    payout_fen = serializers.IntegerField(help_text="赔付金额（分），大于0且不超过剩余保额")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AccidentClaimRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="不予赔付原因（工人会看到）")


class SummaryParamsSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="起（含）")
    until = serializers.DateTimeField(help_text="止（不含）")
    service_point = serializers.IntegerField(required=False, min_value=1, help_text="服务网点（含下级网点）")

    def validate(self, attrs):
        if attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": "结束时间应晚于开始时间"})
        return attrs


class InsuranceSummarySerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text="期间确认且未取消/未爽约的订单数")
    insured_orders = serializers.IntegerField(help_text="其中已投保的订单数")
    required_orders = serializers.IntegerField(help_text="其中岗位要求投保的订单数")
    insured_share = serializers.FloatField(allow_null=True, help_text="投保率 0–1；没有订单时为 null")
    policies_by_status = serializers.DictField(child=serializers.IntegerField())
    premiums_fen = serializers.IntegerField()
    premiums_refunded_fen = serializers.IntegerField()
    claims_by_status = serializers.DictField(child=serializers.IntegerField())
    payouts_fen = serializers.IntegerField()
    payouts_count = serializers.IntegerField()
