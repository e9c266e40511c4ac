"""The disputes JSON API (/api/v1/disputes/…): filing from an order, my cases, a case's detail, adding
evidence, confirming or rejecting the proposed agreement. Thin: validate, find through a selector (anyone
else's case is a 404), call one service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import CodeSentSerializer, ErrorSerializer
from core.api import found as _found
from core.api import validated as _valid
from core.services import client_ip
from jobs import selectors as job_selectors

from . import selectors, services
from .models import Agreement, Case
from .serializers import (
    AgreementSerializer,
    CaseDetailSerializer,
    CaseFileSerializer,
    CaseListSerializer,
    DisputeCodeSerializer,
    DisputeReasonSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
)
from .views import _event_rows

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 403, 404, 409)}


def _case(request, pk: int) -> Case:
    return _found(selectors.case_for_party, pk=pk, user=request.user)


def _case_out(request, case: Case) -> dict:
    case.refresh_from_db()
    side = services.party_side(case, request.user)
    data = {
        **CaseListSerializer(case).data,
        "request": case.request,
        "description": case.description,
        "respondent_name": case.respondent_name,
        "side": side,
        "mediator_name": case.mediator.name if case.mediator_id else None,
        "evidence": EvidenceSerializer(case.evidence.all(), many=True).data,
        "sessions": [
            {"id": s.pk, "starts_at": s.starts_at, "room": s.room, "attendees": s.attendees}
            for s in case.sessions.all()
        ],
        "agreement": None,
        "timeline": _event_rows(case, side=side),
    }
    agreement = selectors.live_agreement(case=case)
    if agreement is not None:
        data["agreement"] = AgreementSerializer(agreement).data
    return data


class CaseListView(generics.ListAPIView):
    serializer_class = CaseListSerializer
    ordering = "-id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return selectors.cases_for_party(user=self.request.user).order_by("-id")

    @extend_schema(operation_id="disputes_cases_list", summary="我的纠纷", tags=["disputes"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="disputes_cases_create", summary="从订单发起调解（任一方）", request=CaseFileSerializer,
        responses={201: CaseDetailSerializer, **ERRORS}, tags=["disputes"],
    )  # fmt: skip
    def post(self, request):
        data = _valid(CaseFileSerializer, request)
        order = _found(job_selectors.order_for_party, pk=data.pop("order"), user=request.user)
        case = services.case_file(actor=request.user, order=order, **data)
        return Response(_case_out(request, case), status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    @extend_schema(operation_id="disputes_cases_retrieve", summary="纠纷详情（当事人）",
                   responses={200: CaseDetailSerializer, **ERRORS}, tags=["disputes"])  # fmt: skip
    def get(self, request, pk: int):
        return Response(_case_out(request, _case(request, pk)))


class EvidenceView(APIView):
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(operation_id="disputes_evidence_create", summary="补充证据（JPG/PNG/PDF）",
                   request={"multipart/form-data": EvidenceUploadSerializer},
                   responses={201: EvidenceSerializer(many=True), **ERRORS}, tags=["disputes"])  # fmt: skip
    def post(self, request, pk: int):
        case = _case(request, pk)
        data = _valid(EvidenceUploadSerializer, request)
        saved = services.evidence_add(
            case=case, actor=request.user, uploads=[data["file"]], note=data["note"]
        )
        return Response(EvidenceSerializer(saved, many=True).data, status=status.HTTP_201_CREATED)


def _agreement(request, pk: int, agreement_pk: int) -> Agreement:
    case = _case(request, pk)
    try:
        return case.agreements.get(pk=agreement_pk)
    except Agreement.DoesNotExist as exc:
        raise NotFound("未找到") from exc


class AgreementCodeView(APIView):
    @extend_schema(operation_id="disputes_agreement_code", summary="获取确认协议的短信验证码", request=None,
                   responses={200: CodeSentSerializer, **ERRORS, 429: OpenApiResponse(ErrorSerializer)},
                   tags=["disputes"])  # fmt: skip
    def post(self, request, pk: int, agreement_pk: int):
        agreement = _agreement(request, pk, agreement_pk)
        services.agreement_code_send(agreement=agreement, user=request.user, ip_address=client_ip(request))
        from django.conf import settings

        return Response({"expires_in": int(settings.PHONE_CODE_TTL.total_seconds())})


class AgreementSignView(APIView):
    @extend_schema(operation_id="disputes_agreement_sign", summary="用短信验证码确认调解协议", request=DisputeCodeSerializer,
                   responses={200: AgreementSerializer, **ERRORS}, tags=["disputes"])  # fmt: skip
    def post(self, request, pk: int, agreement_pk: int):
        agreement = _agreement(request, pk, agreement_pk)
        data = _valid(DisputeCodeSerializer, request)
        return Response(AgreementSerializer(services.agreement_sign(agreement=agreement, user=request.user,
                                                                    code=data["code"])).data)  # fmt: skip


class AgreementRejectView(APIView):
    @extend_schema(operation_id="disputes_agreement_reject", summary="不同意调解协议", request=DisputeReasonSerializer,
                   responses={200: AgreementSerializer, **ERRORS}, tags=["disputes"])  # fmt: skip
    def post(self, request, pk: int, agreement_pk: int):
        agreement = _agreement(request, pk, agreement_pk)
        data = _valid(DisputeReasonSerializer, request)
        return Response(AgreementSerializer(services.agreement_reject(agreement=agreement, user=request.user,
                                                                      reason=data["reason"])).data)  # fmt: skip
