"""The matching JSON API (/api/v1/): a seeker's recommendations, an employer's recommended workers for one
of its posts, and invitations. Another employer's post is a 404."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import ErrorSerializer
from core.api import found, validated
from jobs.models import Post

from . import selectors, services
from .serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    RecommendationSerializer,
    RecommendedWorkerSerializer,
)

MAX_LIMIT = 50


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    text = {400: "输入有误", 401: "未登录", 403: "没有权限", 404: "不存在，或不属于你", 409: "当前状态不允许"}
    return {c: OpenApiResponse(ErrorSerializer, description=text[c]) for c in codes}


def _limit(request, default: int = 20) -> int:
    raw = request.query_params.get("limit", "")
    if raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError({"limit": [f"limit 应为1–{MAX_LIMIT}的整数"]})
    return int(raw)


class RecommendationListView(APIView):
    @extend_schema(
        operation_id="recommendations_list",
        summary="为你推荐（求职者）：最合适的招工信息，每条带匹配分和推荐理由",
        parameters=[OpenApiParameter("limit", int, description="条数 1–50，默认20")],
        responses={200: RecommendationSerializer(many=True), **_errors(400, 401, 403)},
        tags=["matching"],
    )
    def get(self, request):
        if request.user.role != User.Role.SEEKER:
            raise PermissionDenied("只有求职者有为你推荐")
        matches = selectors.posts_for_worker(worker=request.user, limit=_limit(request))
        if matches:
            services.record_shown(worker=request.user, matches=matches)
        return Response(RecommendationSerializer(matches, many=True).data)


def _member_post(request, pk: int) -> Post:
    return found(selectors.post_for_member, pk=pk, user=request.user)


class RecommendedWorkersView(APIView):
    @extend_schema(
        operation_id="posts_recommended_workers",
        summary="推荐工人（雇主自己的岗位）：姓名、手机号打码，靠谱分、星级、推荐理由",
        parameters=[OpenApiParameter("limit", int, description="条数 1–50，默认20")],
        responses={200: RecommendedWorkerSerializer(many=True), **_errors(400, 401, 404)},
        tags=["matching"],
    )
    def get(self, request, pk: int):
        post = _member_post(request, pk)
        if post.status != Post.Status.OPEN:
            return Response([])
        cards = selectors.recommended_workers(post=post, limit=_limit(request))
        return Response(RecommendedWorkerSerializer(cards, many=True).data)


class InvitationView(APIView):
    @extend_schema(
        operation_id="posts_invitations_create",
        summary="邀请推荐的工人：对方收到短信和站内消息，一键接单（仍需通过实名、证书等接单条件）",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["matching"],
    )
    def post(self, request, pk: int):
        post = _member_post(request, pk)
        data = validated(InvitationCreateSerializer, request)
        invitation = services.invitation_create(post=post, worker_id=data["worker"], actor=request.user)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="posts_invitations_list",
        summary="这个岗位已发出的邀请",
        responses={200: InvitationSerializer(many=True), **_errors(401, 404)},
        tags=["matching"],
    )
    def get(self, request, pk: int):
        post = _member_post(request, pk)
        return Response(InvitationSerializer(selectors.invitations_for_post(post=post), many=True).data)
