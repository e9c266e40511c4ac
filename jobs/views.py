"""Jobs pages: the board (找活) and post pages, a worker's claims and orders, an employer's posts, applicants
and orders, the e-contract, and the hall staff's 代发岗位.

Each view finds its object through a selector that refuses other people's things (DoesNotExist → 404),
validates its form, calls one service and renders; a service's error is shown on the field it names
(:func:`accounts.forms.apply_service_error`) or as a plain-Chinese message. The rules the services apply are
shown from :func:`jobs.rules.rules`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.forms import apply_service_error
from accounts.models import Employer
from core.errors import DomainError
from core.masking import mask_name, mask_phone
from core.scoping import objects_visible_to

from . import grabbing, selectors, services
from .forms import (
    BoardForm,
    CheckInForm,
    ClaimForm,
    ContractSignForm,
    PostForm,
    QuantityForm,
    RatingForm,
    ReasonForm,
)
from .models import Claim, Contract, Order, Post, Rating
from .rules import rules
from .selectors import BoardPage

SERVICE_ERRORS = (DomainError, ValidationError)
LIST_LIMIT = 100

#: where a refused claim sends the worker to fix it
CLAIM_FIXES = {
    "realname_required": ("accounts:realname", "去实名认证"),
    "certificate_required": ("accounts:certificates", "上传证书"),
}


def _posted(request):
    return request.POST if request.method == "POST" else None


def _error_text(exc: DomainError | ValidationError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return "；".join(exc.messages)


def _not_found(message: str):
    return Http404(message)


# -------------------------------------------------------------------------------------------- board


def board(request):
    """找活: keyword, filters, sort and a "下一页" link. Bad filters are explained; the others still apply."""
    form = BoardForm(request.GET or None)
    problems: list[str] = []
    if form.is_bound and not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
    query = form.to_query()
    try:
        page = selectors.board(query)
    except DomainError as exc:
        problems.append(exc.message)
        query.cursor = ""
        if query.sort == "nearest" and query.lat is None:
            query.sort = "newest"
        try:
            page = selectors.board(query)
        except DomainError:
            page = BoardPage(posts=[], next_cursor=None)
    next_url = ""
    if page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        next_url = "?" + params.urlencode()
    narrowed = any([query.trade_ids, query.area_id, query.pay_unit, query.pay_min_fen, query.date])
    filtered = narrowed or bool(query.q) or query.lat is not None
    return render(
        request,
        "jobs/board.html",
        {
            "form": form,
            "posts": page.posts,
            "problems": problems,
            "next_url": next_url,
            "query": query,
            "filtered": filtered,
            "filters_open": narrowed or bool(problems) or query.sort == "pay",
            "paged": bool(query.cursor),
        },
    )


# --------------------------------------------------------------------------------------------- post


def _visible_post(request, pk: int) -> Post:
    try:
        return selectors.post_visible(pk=pk, user=request.user)
    except Post.DoesNotExist as exc:
        raise _not_found("没有这个岗位") from exc


def _post_page(request, post: Post, *, claim_form=None, claim_error=None, status: int = 200):
    user = request.user
    my_claim = None
    is_member = False
    if user.is_authenticated:
        is_member = selectors.is_member(employer_id=post.employer_id, user=user)
        my_claim = selectors.claims_for_worker(user=user).filter(post=post).select_related("order").first()
    fix = None
    if claim_error is not None:
        target = CLAIM_FIXES.get(getattr(claim_error, "code", ""))
        fix = (reverse(target[0]), target[1]) if target else None
    return render(
        request,
        "jobs/post_detail.html",
        {
            "post": post,
            "contact_phone": selectors.contact_phone_for(post=post, user=user),
            "rules": rules().as_text(),
            "my_claim": my_claim,
            "my_order": getattr(my_claim, "order", None) if my_claim else None,
            "is_member": is_member,
            "claim_form": claim_form or ClaimForm(),
            "claim_error": _error_text(claim_error) if claim_error is not None else "",
            "claim_fix": fix,
            "can_claim": post.status == Post.Status.OPEN and post.starts_at > timezone.now(),
        },
        status=status,
    )


def post_detail(request, pk: int):
    return _post_page(request, _visible_post(request, pk))


@require_POST
def claim(request, pk: int):
    """抢单 / 报名."""
    post = _visible_post(request, pk)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("jobs:post_detail", args=[post.pk]))
    form = ClaimForm(request.POST)
    if not form.is_valid():
        return _post_page(request, post, claim_form=form)
    try:
        result = grabbing.claim(post=post, worker=request.user, note=form.cleaned_data["note"])
    except SERVICE_ERRORS as exc:
        post = _visible_post(request, pk)  # fresh slot count
        return _post_page(request, post, claim_form=form, claim_error=exc)
    if result.status == Claim.Status.CONFIRMED:
        messages.success(request, "抢到了！抢单成功，请按时到岗，开工前记得签到")
        order_id = Order.objects.filter(claim=result).values_list("pk", flat=True).first()
        if order_id is not None:  # the follow-on already ran (inline, or an eager task)
            return redirect("jobs:order_detail", pk=order_id)
        return redirect("jobs:claim_status", pk=result.pk)
    messages.success(request, "报名成功，请等雇主确认，结果会短信通知您")
    return redirect("jobs:my_orders")


@login_required
def claim_status(request, pk: int):
    """After a 抢单: the order's page once the follow-on made it; until then 「正在生成订单…」 (the page
    reloads itself every 2 seconds: a meta refresh, no script); an undone grab says why."""
    claim = get_object_or_404(Claim.objects.select_related("post__area"), pk=pk, worker=request.user)
    order_id = Order.objects.filter(claim=claim).values_list("pk", flat=True).first()
    if order_id is not None:
        return redirect("jobs:order_detail", pk=order_id)
    return render(request, "jobs/claim_status.html", {"claim": claim, "post": claim.post})


# ------------------------------------------------------------------------------------ worker lists


@login_required
def my_orders(request):
    user = request.user
    orders = selectors.orders_for_worker(user=user).order_by("-starts_at", "-pk")[:LIST_LIMIT]
    claims = (
        selectors.claims_for_worker(user=user)
        .filter(order__isnull=True)
        .order_by("-created_at", "-pk")[:LIST_LIMIT]
    )
    return render(
        request,
        "jobs/my_orders.html",
        {"orders": orders, "claims": claims, "stats": selectors.worker_stats(user=user)},
    )


@login_required
@require_POST
def claim_withdraw(request, pk: int):
    try:
        claim_obj = selectors.claims_for_worker(user=request.user).get(pk=pk)
    except Claim.DoesNotExist as exc:
        raise _not_found("没有这个报名") from exc
    try:
        services.claim_withdraw(claim=claim_obj, worker=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已撤回报名")
    return redirect("jobs:my_orders")


# ------------------------------------------------------------------------------------------- orders


def _party_order(request, pk: int) -> Order:
    try:
        return selectors.order_for_party(pk=pk, user=request.user)
    except Order.DoesNotExist as exc:
        raise _not_found("没有这个订单") from exc


def _side(order: Order, user) -> str:
    return "worker" if order.worker_id == user.pk else "employer"


def _qty_text(value) -> str:
    return format(Decimal(str(value)).normalize(), "f") if value not in (None, "") else ""


def _timeline(order: Order) -> list[dict]:
    """The order's events as sentences a person reads."""
    unit = order.post.get_pay_unit_display()
    labels = dict(Order.Status.choices)
    rows = []
    for event in order.events.all():
        data = event.data or {}
        to = event.to_status
        if data.get("contract_signed"):
            text = "劳动者确认了电子协议" if data["contract_signed"] == "worker" else "用工方确认了电子协议"
        elif to == Order.Status.CONFIRMED and not event.from_status:
            text = "接单成功，订单已确认" if data.get("mode") == Post.Mode.GRAB else "雇主录用，订单已确认"
        elif to == Order.Status.CHECKED_IN:
            text = "已签到"
            if "distance_m" in data:
                text += f"（距工作地点约{data['distance_m']}米）"
        elif to == Order.Status.CHECKED_OUT:
            text = f"已签退，填报 {_qty_text(data.get('quantity'))} {unit}"
        elif to == Order.Status.COMPLETED:
            amount = f"{int(data.get('amount_fen') or 0) / 100:.2f}"
            who = "雇主超时未确认，自动按工人填报确认" if data.get("auto") else "雇主确认完工"
            text = f"{who}：{_qty_text(data.get('quantity'))} {unit}，报酬 {amount} 元"
        elif to == Order.Status.CANCELLED:
            if data.get("by") == "worker":
                text = "工人取消" + (
                    "（超出免费取消时间，影响靠谱分）" if data.get("late") else "（免费取消）"
                )
            else:
                text = "雇主取消"
                if data.get("compensation_fen"):
                    text += f"，补偿工人 {int(data['compensation_fen']) / 100:.2f} 元"
        elif to == Order.Status.NO_SHOW:
            text = "开工后未签到，记为未到岗"
        elif to == Order.Status.DISPUTED:
            text = "已发起争议，等待调解"
        else:
            text = labels.get(to, to)
        rows.append({"at": event.created_at, "text": text, "status": to})
    return rows


def _order_page(request, order: Order, *, status: int = 200, **forms):
    user = request.user
    side = _side(order, user)
    post = order.post
    now, r = timezone.now(), rules()
    ratings = selectors.order_ratings(order=order)
    mine = Rating.Direction.WORKER_TO_EMPLOYER if side == "worker" else Rating.Direction.EMPLOYER_TO_WORKER
    theirs = Rating.Direction.EMPLOYER_TO_WORKER if side == "worker" else Rating.Direction.WORKER_TO_EMPLOYER
    contract = Contract.objects.filter(order=order).first()
    # What cancelling now would mean, by the same formulas the services apply (display only).
    worker_cancel_free = (
        now - order.confirmed_at <= r.free_cancel or order.starts_at - now >= r.free_cancel_before_start
    )
    employer_late = order.starts_at - now < r.employer_late_cancel
    compensation_fen = r.compensation_fen(post.expected_amount_fen) if employer_late else 0
    realname = getattr(order.worker, "realname", None)
    context = {
        "order": order,
        "post": post,
        "side": side,
        "timeline": _timeline(order),
        "contract": contract,
        "rules": r.as_text(),
        "check_in_opens": order.starts_at - r.check_in_early,
        "check_in_open_now": now >= order.starts_at - r.check_in_early,
        "check_out_open_now": not r.check_out_too_early(starts_at=order.starts_at, now=now),
        "worker_cancel_free": worker_cancel_free,
        "free_cancel_until": max(
            order.confirmed_at + r.free_cancel, order.starts_at - r.free_cancel_before_start
        ),
        "employer_late": employer_late,
        "employer_late_hours": int(r.employer_late_cancel.total_seconds() // 3600),
        "compensation_fen": compensation_fen,
        "contact_phone": selectors.contact_phone_for(post=post, user=user),
        "worker_name": realname.name if realname else order.worker.name,
        "worker_phone": mask_phone(order.worker.phone),
        "worker_stats": selectors.worker_stats(user=order.worker) if side == "employer" else None,
        "my_rating": ratings.get(mine),
        "their_rating": ratings.get(theirs),
        "is_blocked": side == "employer"
        and selectors.blocks_for_employer(employer=order.employer).filter(worker=order.worker).exists(),
        "check_in_form": forms.get("check_in_form") or CheckInForm(),
        "check_out_form": forms.get("check_out_form")
        or QuantityForm(
            initial={"quantity": _qty_text(post.quantity)}, label=f"干了多少（{post.get_pay_unit_display()}）"
        ),
        "confirm_form": forms.get("confirm_form")
        or QuantityForm(
            initial={"quantity": _qty_text(order.worker_quantity or post.quantity)},
            label=f"确认数量（{post.get_pay_unit_display()}）",
        ),
        "cancel_form": forms.get("cancel_form")
        or ReasonForm(
            required=side == "employer", label="取消原因" if side == "employer" else "取消原因（可不填）"
        ),
        "rating_form": forms.get("rating_form") or RatingForm(),
        "block_form": forms.get("block_form") or ReasonForm(required=False, label="拉黑原因（可不填）"),
        # A refusal that names no field goes on top, whichever form it came from (its form may not even be
        # shown to this side or in this state).
        "errors": [error for form in forms.values() for error in form.non_field_errors()],
    }
    return render(request, "jobs/order_detail.html", context, status=status)


@login_required
def order_detail(request, pk: int):
    return _order_page(request, _party_order(request, pk))


@login_required
@require_POST
def order_check_in(request, pk: int):
    order = _party_order(request, pk)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.order_check_in(
                order=order, worker=request.user, lat=form.cleaned_data["lat"], lng=form.cleaned_data["lng"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"lat": None})
        else:
            messages.success(request, "签到成功，注意安全")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, _party_order(request, pk), check_in_form=form)


@login_required
@require_POST
def order_check_out(request, pk: int):
    order = _party_order(request, pk)
    form = QuantityForm(request.POST, label=f"干了多少（{order.post.get_pay_unit_display()}）")
    if form.is_valid():
        try:
            services.order_check_out(order=order, worker=request.user, quantity=form.cleaned_data["quantity"])
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            hours = int(rules().auto_approve.total_seconds() // 3600)
            messages.success(request, f"已签退，等雇主确认；{hours}小时内未确认将按您填报的数量自动确认")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, _party_order(request, pk), check_out_form=form)


@login_required
@require_POST
def order_cancel(request, pk: int):
    order = _party_order(request, pk)
    side = _side(order, request.user)
    form = ReasonForm(request.POST, required=side == "employer", label="取消原因")
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if side == "worker":
                order = services.order_cancel_by_worker(order=order, worker=request.user, reason=reason)
            else:
                order = services.order_cancel_by_employer(order=order, actor=request.user, reason=reason)
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            if side == "worker":
                note = "，这次取消会降低靠谱分" if order.late_cancel else "（免费取消）"
            else:
                note = f"，需补偿工人 {order.compensation_fen / 100:.2f} 元" if order.compensation_fen else ""
            messages.success(request, f"订单已取消{note}")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, _party_order(request, pk), cancel_form=form)


@login_required
@require_POST
def order_confirm(request, pk: int):
    order = _party_order(request, pk)
    form = QuantityForm(request.POST, label=f"确认数量（{order.post.get_pay_unit_display()}）")
    if form.is_valid():
        try:
            order = services.order_confirm_completion(
                order=order, actor=request.user, quantity=form.cleaned_data["quantity"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"已确认完工，报酬 {order.amount_fen / 100:.2f} 元")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, _party_order(request, pk), confirm_form=form)


@login_required
@require_POST
def order_rate(request, pk: int):
    order = _party_order(request, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rating_create(
                order=order,
                rater=request.user,
                stars=form.cleaned_data["stars"],
                comment=form.cleaned_data["comment"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "谢谢您的评价")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, order, rating_form=form)


@login_required
@require_POST
def order_block(request, pk: int):
    order = _party_order(request, pk)
    form = ReasonForm(request.POST, required=False)
    if form.is_valid():
        try:
            services.block_create(
                employer=order.employer,
                actor=request.user,
                worker=order.worker,
                reason=form.cleaned_data["reason"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "已拉黑，这位工人以后不能再接您单位的活")
            return redirect("jobs:order_detail", pk=order.pk)
    return _order_page(request, order, block_form=form)


# ----------------------------------------------------------------------------------------- contract


def _contract_lines(body: str) -> list[tuple[str, str]]:
    """The stored text, line by line, marked for display: the title, clause headings (第一条 …), text."""
    lines = []
    for index, line in enumerate(body.splitlines()):
        if index == 0:
            kind = "title"
        elif not line.strip():
            kind = "gap"
        elif line.startswith("第") and "条" in line[:5]:
            kind = "clause"
        else:
            kind = "text"
        lines.append((kind, line))
    return lines


def _contract_page(request, order: Order, *, sign_form=None, code_sent_to: str = ""):
    try:
        contract = order.contract
    except Contract.DoesNotExist as exc:
        raise _not_found("该订单还没有协议") from exc
    side = _side(order, request.user)
    signed = contract.worker_signed_at if side == "worker" else contract.employer_signed_at
    return render(
        request,
        "jobs/contract.html",
        {
            "order": order,
            "contract": contract,
            "contract_lines": _contract_lines(contract.body),
            "side": side,
            "i_signed": bool(signed),
            "sign_form": sign_form or ContractSignForm(),
            "my_phone": mask_phone(request.user.phone),
            "code_sent_to": code_sent_to,
            "has_pdf": _pdf_renderer() is not None,
        },
    )


@login_required
def contract_detail(request, pk: int):
    return _contract_page(request, _party_order(request, pk))


@login_required
@require_POST
def contract_code(request, pk: int):
    order = _party_order(request, pk)
    try:
        services.contract_code_send(order=order, user=request.user)
    except SERVICE_ERRORS as exc:
        form = ContractSignForm()
        form.add_error(None, _error_text(exc))
        return _contract_page(request, order, sign_form=form)
    return _contract_page(request, order, code_sent_to=mask_phone(request.user.phone))


@login_required
@require_POST
def contract_sign(request, pk: int):
    order = _party_order(request, pk)
    form = ContractSignForm(request.POST)
    if form.is_valid():
        try:
            services.contract_sign(order=order, user=request.user, code=form.cleaned_data["code"])
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "协议已确认")
            return redirect("jobs:contract", pk=order.pk)
    return _contract_page(request, _party_order(request, pk), sign_form=form)


def _pdf_renderer():
    try:
        from .pdf import render_contract_pdf  # fpdf2 and the font load only when someone downloads
    except ImportError:  # the PDF module is optional at import time; the page hides the link without it
        return None
    return render_contract_pdf


@login_required
def contract_pdf(request, pk: int):
    order = _party_order(request, pk)
    try:
        contract = order.contract
    except Contract.DoesNotExist as exc:
        raise _not_found("该订单还没有协议") from exc
    render_pdf = _pdf_renderer()
    if render_pdf is None:
        raise _not_found("暂不能下载PDF")
    response = HttpResponse(render_pdf(contract), content_type="application/pdf")
    name = f"GM-{order.pk:08d}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"contract-{name}.pdf\"; filename*=UTF-8''%E9%9B%B6%E5%B7%A5%E6%9C%8D%E5%8A%A1%E5%8D%8F%E8%AE%AE-{name}.pdf"
    )
    return response


# -------------------------------------------------------------------------------- employer: posts


def _approved_employers(user):
    return (
        account_selectors.employers_for_user(user=user)
        .filter(status=Employer.Status.APPROVED)
        .order_by("name")
    )


def _member_post(request, pk: int) -> Post:
    try:
        return selectors.post_for_member(pk=pk, user=request.user)
    except Post.DoesNotExist as exc:
        raise _not_found("没有这个岗位") from exc


def _default_times() -> dict:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    tz = timezone.get_current_timezone()
    return {
        "starts_at": dt.datetime.combine(tomorrow, dt.time(8, 0), tzinfo=tz),
        "ends_at": dt.datetime.combine(tomorrow, dt.time(17, 0), tzinfo=tz),
    }


@login_required
def my_posts(request):
    user = request.user
    posts = selectors.posts_for_employer_member(user=user).annotate(applicant_count=Count("claims"))[
        :LIST_LIMIT
    ]
    employers = list(account_selectors.employers_for_user(user=user))
    return render(
        request,
        "jobs/my_posts.html",
        {
            "posts": posts,
            "employers": employers,
            "can_post": any(e.status == Employer.Status.APPROVED for e in employers),
        },
    )


def _post_form_page(request, form, *, title: str, post=None, on_behalf: bool = False, status: int = 200):
    return render(
        request,
        "jobs/post_form.html",
        {"form": form, "title": title, "post": post, "on_behalf": on_behalf, "rules": rules().as_text()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_create(request):
    user = request.user
    employers = _approved_employers(user)
    initial = {"contact_name": user.name, "contact_phone": user.phone, **_default_times()}
    form = PostForm(_posted(request), employers=employers, initial=initial)
    if form.is_bound and form.is_valid():
        publish = request.POST.get("action") == "publish"
        try:
            post = services.post_create(
                employer=form.cleaned_data["employer"], actor=user, publish=publish, **form.service_kwargs()
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, PostForm.FIELD_MAP)
        else:
            messages.success(
                request, "已发布，工人现在就能看到" if publish else "已存为草稿，检查无误后再发布"
            )
            return redirect("jobs:post_manage", pk=post.pk)
    return _post_form_page(request, form, title="发布招工")


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request, pk: int):
    post = _member_post(request, pk)
    if post.status != Post.Status.DRAFT:
        messages.info(request, "已发布的岗位不能修改，请关闭后重新发布")
        return redirect("jobs:post_manage", pk=post.pk)
    form = PostForm(_posted(request), with_employer=False, initial=PostForm.initial_from(post))
    if form.is_bound and form.is_valid():
        publish = request.POST.get("action") == "publish"
        try:
            # Edit and publish together or not at all: a refused publish leaves the draft as it was.
            with transaction.atomic():
                post = services.post_update(post=post, actor=request.user, **form.service_kwargs())
                if publish:
                    post = services.post_publish(post=post, actor=request.user)
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, PostForm.FIELD_MAP)
        else:
            messages.success(request, "已发布" if publish else "草稿已保存")
            return redirect("jobs:post_manage", pk=post.pk)
    return _post_form_page(request, form, title="修改草稿", post=post)


def _applicant_rows(post: Post) -> list[dict]:
    """What an employer sees of each applicant: masked name and ID, reliability, stars, skills, valid
    certificates and the note."""
    rows = []
    for claim_obj in selectors.applicants(post=post):
        worker = claim_obj.worker
        realname = getattr(worker, "realname", None)
        profile = getattr(worker, "worker_profile", None)
        stats = getattr(worker, "worker_stats", None)
        rows.append(
            {
                "claim": claim_obj,
                "name": mask_name(realname.name if realname else worker.name) or "（未填称呼）",
                "id_masked": realname.id_masked if realname else "",
                "verified": worker.is_verified,
                "reliability": stats.reliability if stats else 100,
                "stars": stats.stars if stats else None,
                "completed": stats.completed if stats else 0,
                "skills": (profile.skills if profile else []) or [],
                "certificates": [c for c in worker.certificates.all() if c.is_valid],
            }
        )
    return rows


def _manage_page(request, post: Post, *, cancel_form=None, reject_form=None, status: int = 200):
    orders = selectors.orders_for_employer_member(user=request.user).filter(post=post).order_by("pk")
    return render(
        request,
        "jobs/post_manage.html",
        {
            "post": post,
            "applicants": _applicant_rows(post),
            "orders": orders,
            "rules": rules().as_text(),
            "cancel_form": cancel_form or ReasonForm(label="取消原因"),
            "reject_form": reject_form or ReasonForm(required=False, label="不录用原因（可不填）"),
            "can_close": post.status in (Post.Status.OPEN, Post.Status.FILLED),
            "can_cancel": post.status not in (Post.Status.CANCELLED, Post.Status.EXPIRED),
        },
        status=status,
    )


@login_required
def post_manage(request, pk: int):
    return _manage_page(request, _member_post(request, pk))


def _post_action(request, pk: int, action, success: str):
    post = _member_post(request, pk)
    try:
        action(post=post, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return redirect("jobs:post_manage", pk=post.pk)


@login_required
@require_POST
def post_publish(request, pk: int):
    return _post_action(request, pk, services.post_publish, "已发布，工人现在就能看到")


@login_required
@require_POST
def post_close(request, pk: int):
    return _post_action(request, pk, services.post_close, "已停止招工，已确认的订单照常进行")


@login_required
@require_POST
def post_cancel(request, pk: int):
    post = _member_post(request, pk)
    form = ReasonForm(request.POST, label="取消原因")
    if form.is_valid():
        try:
            services.post_cancel(post=post, actor=request.user, reason=form.cleaned_data["reason"])
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "岗位已取消，已通知接单的工人")
            return redirect("jobs:post_manage", pk=post.pk)
    return _manage_page(request, _member_post(request, pk), cancel_form=form)


def _member_claim(request, pk: int, claim_pk: int) -> tuple[Post, Claim]:
    post = _member_post(request, pk)
    try:
        return post, selectors.applicants(post=post).get(pk=claim_pk)
    except Claim.DoesNotExist as exc:
        raise _not_found("没有这个报名") from exc


@login_required
@require_POST
def claim_accept(request, pk: int, claim_pk: int):
    post, claim_obj = _member_claim(request, pk, claim_pk)
    try:
        services.claim_accept(claim=claim_obj, actor=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已录用，已短信通知工人")
    return redirect("jobs:post_manage", pk=post.pk)


@login_required
@require_POST
def claim_reject(request, pk: int, claim_pk: int):
    post, claim_obj = _member_claim(request, pk, claim_pk)
    form = ReasonForm(request.POST, required=False)
    form.is_valid()
    try:
        services.claim_reject(claim=claim_obj, actor=request.user, reason=form.cleaned_data.get("reason", ""))
    except SERVICE_ERRORS as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "已标记为不录用")
    return redirect("jobs:post_manage", pk=post.pk)


@login_required
def employer_orders(request):
    orders = selectors.orders_for_employer_member(user=request.user).order_by("-starts_at", "-pk")[
        :LIST_LIMIT
    ]
    return render(request, "jobs/employer_orders.html", {"orders": orders})


# ------------------------------------------------------------------------------------ staff: 代发


@login_required
@require_http_methods(["GET", "POST"])
def post_on_behalf(request):
    """Hall staff post for a walk-in employer; the service records them as ``on_behalf_by``. Published at
    once: the staff member does not manage the post afterwards, the employer does."""
    if not request.user.has_perm("jobs.post_on_behalf"):
        raise PermissionDenied("只有网点工作人员可以代发岗位")
    # The employers of the staff member's service points (core.scoping).
    employers = objects_visible_to(
        request.user, Employer.objects.filter(status=Employer.Status.APPROVED)
    ).order_by("name")
    form = PostForm(_posted(request), employers=employers, initial=_default_times())
    if form.is_bound and form.is_valid():
        try:
            post = services.post_create(
                employer=form.cleaned_data["employer"],
                actor=request.user,
                publish=True,
                **form.service_kwargs(),
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, PostForm.FIELD_MAP)
        else:
            messages.success(request, f"已代“{post.employer.name}”发布：{post.title}")
            return redirect("jobs:post_detail", pk=post.pk)
    return _post_form_page(request, form, title="代发岗位", on_behalf=True)
