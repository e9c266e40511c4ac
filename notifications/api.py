"""The notifications JSON API (/api/v1/notifications/…): the signed-in user's own in-app messages, the
unread count, marking read, and message preferences (consent to recommendations, per-type switches).
Another user's message is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ViewOrderedCursorPagination, found, validated

from . import push, selectors, services, webpush
from .models import Message
from .serializers import (
    MarkedSerializer,
    MessageSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
    PushStatusSerializer,
    PushSubscribeSerializer,
    PushSubscriptionSerializer,
    PushUnsubscribeSerializer,
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


# ------------------------------------------------------------------------------- Web Push (叮咚)


class PushStatusView(APIView):
    @extend_schema(
        operation_id="notifications_push_status",
        summary="手机推送：订阅用的公钥和我的设备",
        responses=PushStatusSerializer,
        tags=TAGS,
    )
    def get(self, request):
        subscriptions = selectors.push_subscriptions(user=request.user)
        return Response(
            {
                "vapid_public_key": webpush.vapid_public_key(),
                "subscriptions": PushSubscriptionSerializer(subscriptions, many=True).data,
            }
        )


class PushSubscribeView(APIView):
    @extend_schema(
        operation_id="notifications_push_subscribe",
        summary="在这台设备上开启手机推送（PushSubscription.toJSON() 的内容）",
        request=PushSubscribeSerializer,
        responses={201: PushSubscriptionSerializer},
        tags=TAGS,
    )
    def post(self, request):
        data = validated(PushSubscribeSerializer, request)
        sub = push.subscription_save(
            user=request.user,
            endpoint=data["endpoint"],
            p256dh=data["keys"].get("p256dh", ""),
            auth=data["keys"].get("auth", ""),
            label=data.get("label", ""),
        )
        push.remember_in_session(request, sub)
        return Response(PushSubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="notifications_push_unsubscribe_endpoint",
        summary="关闭这台设备的手机推送（按推送地址）",
        request=PushUnsubscribeSerializer,
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request):
        data = validated(PushUnsubscribeSerializer, request)
        push.subscription_delete_endpoint(user=request.user, endpoint=data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushSubscriptionDetailView(APIView):
    @extend_schema(
        operation_id="notifications_push_unsubscribe",
        summary="关闭我的一台设备的手机推送",
        request=None,
        responses={204: None},
        tags=TAGS,
    )
    def delete(self, request, pk: int):
        found(push.subscription_delete, user=request.user, subscription_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
