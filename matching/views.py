"""Matching pages: 为你推荐 for seekers, the recommended workers of an employer's post with 邀请, the SMS
link that records a view, and the invitation's one-tap claim page.

Each view looks its object up through a selector that refuses other people's things (→ 404) and calls one
service; a service's refusal is shown in plain Chinese.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import User
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from jobs.models import Claim, Post

from . import selectors, services
from .models import Invitation, Recommendation

SERVICE_ERRORS = (DomainError, ValidationError)
FOR_YOU_LIMIT = 20

CLAIM_FIXES = {
    "realname_required": ("accounts:realname", "去实名认证"),
    "certificate_required": ("accounts:certificates", "上传证书"),
}


def _error_text(exc) -> str:
    return exc.message if isinstance(exc, DomainError) else "；".join(exc.messages)


@login_required
def for_you(request):
    """为你推荐: the posts that fit this seeker best, each with why."""
    user = request.user
    is_seeker = user.role == User.Role.SEEKER
    matches = selectors.posts_for_worker(worker=user, limit=FOR_YOU_LIMIT) if is_seeker else []
    if matches:
        services.record_shown(worker=user, matches=matches)
    has_profile = is_seeker and hasattr(user, "worker_profile")
    return render(
        request,
        "matching/for_you.html",
        {"matches": matches, "is_seeker": is_seeker, "has_profile": has_profile},
    )


@login_required
def open_post(request, post_id: int):
    """A card on 为你推荐 was tapped: count the view, then show the post."""
    post = Post.objects.filter(pk=post_id).exclude(status=Post.Status.DRAFT).first()
    if post is None:
        raise Http404("没有这个岗位")
    services.mark_viewed_from_for_you(worker=request.user, post=post)
    return redirect("jobs:post_detail", pk=post.pk)


def open_link(request, token: str):
    """The long signed link of recommendations sent before short links (they keep working)."""
    try:
        rec = services.recommendation_from_token(token)
    except Recommendation.DoesNotExist as exc:
        raise Http404("链接无效") from exc
    return _open_recommendation(request, rec)


def short_recommendation(request, code: str):
    """The link in a recommendation SMS or in-app message (/r/<code>): count the view, then show the post."""
    try:
        rec = services.recommendation_from_code(code)
    except Recommendation.DoesNotExist as exc:
        raise Http404("链接无效") from exc
    return _open_recommendation(request, rec)


def short_invitation(request, code: str):
    """An invitation SMS's short link (/i/<code>): on to the invitation page, which checks who opens it."""
    try:
        return redirect(services.invitation_path_from_code(code))
    except Invitation.DoesNotExist as exc:
        raise Http404("邀请链接无效") from exc


def _open_recommendation(request, rec: Recommendation):
    # Only the person it was sent to counts as a view; anyone else (a forwarded SMS) just sees the post.
    if not request.user.is_authenticated or request.user.pk == rec.worker_id:
        services.mark_viewed(rec=rec)
    return redirect("jobs:post_detail", pk=rec.post_id)


def invitation(request, token: str):
    """An employer's invitation: the post and one big 接受邀请 button (a claim through every gate)."""
    try:
        inv = services.invitation_from_token(token)
        expired = ""
    except Invitation.DoesNotExist as exc:
        raise Http404("邀请链接无效") from exc
    except DomainError as exc:
        inv, expired = None, exc.message
    if inv is None:
        return render(request, "matching/invitation.html", {"expired": expired}, status=410)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.pk != inv.worker_id:
        raise Http404("这不是给您的邀请")
    context = {"inv": inv, "post": inv.post, "error": "", "fix": None}
    existing = Claim.objects.filter(post=inv.post, worker=request.user).select_related("order").first()
    if request.method == "POST" and existing is None:
        try:
            claim = services.invitation_accept(invitation=inv, user=request.user)
        except SERVICE_ERRORS as exc:
            context["error"] = _error_text(exc)
            target = CLAIM_FIXES.get(getattr(exc, "code", ""))
            context["fix"] = (reverse(target[0]), target[1]) if target else None
            return render(request, "matching/invitation.html", context, status=400)
        if claim.status == Claim.Status.CONFIRMED:
            messages.success(request, "接单成功！请按时到岗，开工前记得签到")
            return redirect("jobs:order_detail", pk=claim.order.pk)
        messages.success(request, "报名成功，请等雇主确认，结果会短信通知您")
        return redirect("jobs:my_orders")
    if request.method == "GET":
        services.mark_invitation_viewed(invitation=inv)
    context["claim"] = existing
    return render(request, "matching/invitation.html", context)


def _member_post(request, pk: int) -> Post:
    try:
        return selectors.post_for_member(pk=pk, user=request.user)
    except Post.DoesNotExist as exc:
        raise Http404("没有这个岗位") from exc


@login_required
def post_workers(request, pk: int):
    """推荐工人 for an employer's own post: masked names and phones, reliability, stars, why, 邀请."""
    post = _member_post(request, pk)
    cards = selectors.recommended_workers(post=post) if post.status == Post.Status.OPEN else []
    rows = [
        {
            "card": card,
            "name": mask_name(
                card.worker.realname.name if hasattr(card.worker, "realname") else card.worker.name
            )
            or "求职者",
            "phone": mask_phone(card.worker.phone),
        }
        for card in cards
    ]
    return render(request, "matching/post_workers.html", {"post": post, "rows": rows})


@login_required
@require_POST
def invite(request, pk: int, worker_id: int):
    post = _member_post(request, pk)
    try:
        inv = services.invitation_create(post=post, worker_id=worker_id, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        if inv.sms_sent:
            messages.success(request, "已邀请，对方会收到短信和站内消息")
        else:
            messages.warning(request, "已邀请；短信发送过于频繁暂未发出，对方会在站内消息里看到")
    return redirect("matching:post_workers", pk=post.pk)
