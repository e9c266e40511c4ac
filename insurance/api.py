"""The insurance JSON API (/api/v1/): an order's policy document for both sides, 报案 with documents, the
worker's claims, staff review of claims, and the figures for the dashboard.

Views are thin: look the object up through a selector (someone else's is a 404), validate, call one
service, serialize. Errors come out in the one shape ``{"code", "detail", "fields"}``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsStaffWithPerms
from accounts.models import ServicePoint
from accounts.serializers import ErrorSerializer
from core.api import ViewOrderedCursorPagination
from core.api import found as _found
from core.api import validated as _valid
from core.scoping import get_visible_or_404, sees_everything

from . import selectors, services
from .models import AccidentClaim
from .serializers import (
    AccidentClaimApproveSerializer,
    AccidentClaimRejectSerializer,
    AccidentClaimSerializer,
    AccidentReportSerializer,
    InsuranceSummarySerializer,
    PolicyDocumentSerializer,
    SummaryParamsSerializer,
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "输入有误（fields 指出哪一项），或该订单不能报案（未投保、保障未开始）",
        401: "未登录",
        403: "没有权限（不是被保险的工人本人，或不是有审核权限的工作人员）",
        404: "不存在，或不属于你",
        409: "当前状态不允许（如订单已取消、理赔已结案）",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in statuses}


def _claim_out(request, claim: AccidentClaim) -> dict:
    claim = (
        AccidentClaim.objects.select_related("policy")
        .prefetch_related("documents", "events")
        .get(pk=claim.pk)
    )
    return AccidentClaimSerializer(claim, context={"request": request}).data


# ------------------------------------------------------------------------------------------ policies


class PolicyDocumentView(APIView):
    @extend_schema(
        operation_id="orders_policy_retrieve",
        summary="订单的意外险保单（工人、用工方成员和工作人员可见）",
        description="承保方、保单号、被保险人（证件号遮蔽）、保险期间（签到起至签退止）、保额、保费、风险等级、理赔指引和理赔记录。",
        responses={200: PolicyDocumentSerializer, **_errors(401, 404)},
        tags=["insurance"],
    )
    def get(self, request, pk: int):
        policy = _found(selectors.policy_for_viewer, order_pk=pk, user=request.user)
        return Response(PolicyDocumentSerializer(policy, context={"request": request}).data)


# -------------------------------------------------------------------------------------------- claims


class ClaimReportView(APIView):
    @extend_schema(
        operation_id="orders_policy_claims_create",
        summary="报案（multipart，被保险的工人本人或工作人员）",
        description="出险时间须在保障期内（签到至签退）；材料为 JPG/PNG 图片或 PDF，按内容识别类型。",
        request={"multipart/form-data": AccidentReportSerializer},
        responses={201: AccidentClaimSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["insurance"],
    )
    def post(self, request, pk: int):
        policy = _found(selectors.policy_for_viewer, order_pk=pk, user=request.user)
        data = _valid(AccidentReportSerializer, request)
        claim = services.claim_report(order=policy.order, actor=request.user, **data)
        return Response(_claim_out(request, claim), status=status.HTTP_201_CREATED)


class MyClaimListView(generics.ListAPIView):
    serializer_class = AccidentClaimSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-reported_at"
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccidentClaim.objects.none()
        return selectors.claims_for_worker(user=self.request.user).prefetch_related("documents", "events")

    @extend_schema(
        operation_id="me_insurance_claims_list",
        summary="我（工人）的理赔",
        responses={200: AccidentClaimSerializer(many=True), **_errors(400, 401)},
        tags=["insurance"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ClaimDetailView(APIView):
    @extend_schema(
        operation_id="insurance_claims_retrieve",
        summary="理赔详情（被保险的工人本人和工作人员可见）",
        responses={200: AccidentClaimSerializer, **_errors(401, 404)},
        tags=["insurance"],
    )
    def get(self, request, pk: int):
        claim = _found(selectors.claim_for_viewer, pk=pk, user=request.user)
        return Response(_claim_out(request, claim))


# --------------------------------------------------------------------------------------------- staff


class _StaffClaimView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("insurance.review_accidentclaim",)

    def claim(self, pk: int) -> AccidentClaim:
        # Another point's claim is not there for this staff member (core.scoping).
        return get_visible_or_404(self.request.user, AccidentClaim.objects.all(), pk=pk)


class StaffClaimReviewView(_StaffClaimView):
    @extend_schema(
        operation_id="staff_insurance_claims_review",
        summary="开始审核理赔（已报案 → 审核中）",
        request=None,
        responses={200: AccidentClaimSerializer, **_errors(401, 403, 404, 409)},
        tags=["insurance"],
    )
    def post(self, request, pk: int):
        claim = services.claim_review_start(claim=self.claim(pk), actor=request.user)
        return Response(_claim_out(request, claim))


class StaffClaimApproveView(_StaffClaimView):
    @extend_schema(
        operation_id="staff_insurance_claims_approve",
        summary="核准赔付（审核中 → 已赔付，赔付款从保险公司进入工人钱包）",
        description="每个理赔只赔付一次；同一保单各次赔付合计不超过保额。",
        request=AccidentClaimApproveSerializer,
        responses={200: AccidentClaimSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["insurance"],
    )
    def post(self, request, pk: int):
        data = _valid(AccidentClaimApproveSerializer, request)
        claim = services.claim_approve(
            claim=self.claim(pk), actor=request.user, payout_fen=data["payout_fen"], note=data["note"]
        )
        return Response(_claim_out(request, claim))


class StaffClaimRejectView(_StaffClaimView):
    @extend_schema(
        operation_id="staff_insurance_claims_reject",
        summary="不予赔付（须写原因）",
        request=AccidentClaimRejectSerializer,
        responses={200: AccidentClaimSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["insurance"],
    )
    def post(self, request, pk: int):
        data = _valid(AccidentClaimRejectSerializer, request)
        claim = services.claim_reject(claim=self.claim(pk), actor=request.user, reason=data["reason"])
        return Response(_claim_out(request, claim))


class StaffInsuranceSummaryView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("insurance.view_policy",)

    @extend_schema(
        operation_id="staff_insurance_summary",
        summary="保险数据（看板）：投保率、保单、保费、理赔和赔付",
        parameters=[SummaryParamsSerializer],
        responses={200: InsuranceSummarySerializer, **_errors(400, 401, 403, 404)},
        tags=["insurance"],
    )
    def get(self, request):
        params = _valid(SummaryParamsSerializer, request, data=request.query_params)
        point = None
        if params.get("service_point"):
            point = get_visible_or_404(request.user, ServicePoint.objects.all(), pk=params["service_point"])
        elif not sees_everything(request.user):
            point = request.user.service_point  # staff below the district see their own part of the tree
            if point is None:
                raise NotFound("未找到")
        summary = selectors.insurance_summary(
            since=params["since"], until=params["until"], service_point=point
        )
        data = {**summary.__dict__, "insured_share": summary.insured_share}
        return Response(InsuranceSummarySerializer(data).data)
