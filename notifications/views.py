"""Pages: 我的消息 (the in-app inbox, mark read) and 消息设置 (consent to recommendations, per-type
switches). Large type, mobile first; every action is the signed-in user's own."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import DomainError

from . import push, selectors, services, webpush
from .forms import PreferenceForm
from .models import Message

INBOX_LIMIT = 100


@login_required
def inbox(request):
    items = list(selectors.inbox(user=request.user)[:INBOX_LIMIT])
    return render(
        request,
        "notifications/inbox.html",
        {
            "entries": [selectors.inbox_entry(m) for m in items],
            "unread": sum(1 for m in items if m.read_at is None),
        },
    )


@login_required
@require_POST
def mark_read(request, pk: int):
    try:
        services.message_mark_read(user=request.user, message_id=pk)
    except Message.DoesNotExist as exc:
        raise Http404("没有这条消息") from exc
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.messages_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"已将 {count} 条消息标为已读")
    return redirect("notifications:inbox")


@login_required
def preferences(request):
    pref = selectors.preference_get(user=request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.preferences_update(user=request.user, source="web", **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "设置已保存")
                return redirect("notifications:preferences")
    else:
        form = PreferenceForm(initial={name: getattr(pref, name) for name in PreferenceForm.base_fields})
    context = {
        "form": form,
        "pref": pref,
        "daily_cap": settings.NOTIFY_MARKETING_DAILY_CAP,
        "quiet": settings.NOTIFY_QUIET_HOURS,
        "devices": list(selectors.push_subscriptions(user=request.user)),
        "vapid_public_key": webpush.vapid_public_key(),
    }
    return render(request, "notifications/preferences.html", context)


@login_required
@require_POST
def push_off(request, pk: int):
    """关闭 one of the person's own devices (消息设置 › 手机推送); another person's is a 404."""
    try:
        push.subscription_delete(user=request.user, subscription_id=pk)
    except push.PushSubscription.DoesNotExist as exc:
        raise Http404("没有这台设备") from exc
    messages.success(request, "已关闭这台设备的手机推送")
    return redirect("notifications:preferences")


@csrf_exempt
@require_POST
def sms_inbound(request, token: str):
    """The provider pushes replies here (Aliyun SmsUp, HTTP batch push: a JSON list of
    ``{"phone_number", "content", "send_time", ...}``). The secret token in the path is the only key."""
    expected = settings.SMS_INBOUND_TOKEN
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    try:
        items = json.loads(request.body)
        replies = [(str(i["phone_number"]), str(i.get("content", ""))) for i in items]
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"code": 1, "msg": "请求格式不正确"}, status=400)
    for phone, content in replies:
        services.sms_reply_received(phone=phone, content=content)
    return JsonResponse({"code": 0, "msg": "接收成功"})
