"""The notifications JSON API (/api/v1/notifications/…): the signed-in user's own in-app messages, the
unread count, marking read, and message preferences (consent to recommendations, per-type switches).
Another user's message is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ViewOrderedCursorPagination, found, validated

from . import selectors, services
from .models import Message
from .serializers import (
    MarkedSerializer,
    MessageSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
    UnreadCountSerializer,
)

TAGS = ["notifications"]


class MessageListView(generics.ListAPIView):
    serializer_class = MessageSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-created_at"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        return selectors.inbox(user=self.request.user)

    @extend_schema(operation_id="notifications_list", summary="我的站内消息（新的在前）", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UnreadCountView(APIView):
    @extend_schema(
        operation_id="notifications_unread_count",
        summary="未读消息数",
        responses=UnreadCountSerializer,
        tags=TAGS,
    )
    def get(self, request):
        return Response({"unread": selectors.unread_count(user=request.user)})


class MarkReadView(APIView):
    @extend_schema(
        operation_id="notifications_mark_read",
        summary="标为已读",
        request=None,
        responses=MessageSerializer,
        tags=TAGS,
    )
    def post(self, request, pk: int):
        message = found(services.message_mark_read, user=request.user, message_id=pk)
        return Response(MessageSerializer(message).data)


class MarkAllReadView(APIView):
    @extend_schema(
        operation_id="notifications_mark_all_read",
        summary="全部标为已读",
        request=None,
        responses=MarkedSerializer,
        tags=TAGS,
    )
    def post(self, request):
        return Response({"marked": services.messages_mark_all_read(user=request.user)})


class PreferenceView(APIView):
    @extend_schema(
        operation_id="notifications_preferences_get",
        summary="消息设置",
        responses=PreferenceSerializer,
        tags=TAGS,
    )
    def get(self, request):
        return Response(PreferenceSerializer(selectors.preference_get(user=request.user)).data)

    @extend_schema(
        operation_id="notifications_preferences_update",
        summary="修改消息设置（同意接收岗位推荐、按类型开关）",
        request=PreferenceUpdateSerializer,
        responses=PreferenceSerializer,
        tags=TAGS,
    )
    def patch(self, request):
        changes = validated(PreferenceUpdateSerializer, request)
        pref = services.preferences_update(user=request.user, source="api", **changes)
        return Response(PreferenceSerializer(pref).data)
