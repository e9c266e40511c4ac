"""Insurance pages: an order's policy document (both sides of the order and staff), 报案 with documents, a
claim's progress, and its documents served through a permission check.

Objects come through selectors that refuse other people's things (DoesNotExist → 404); a service's error
is shown on the field it names or at the top of the form.
"""

from __future__ import annotations

import json
import time
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.forms import apply_service_error
from core.errors import DomainError
from core.uploads import upload_response

from . import claims, selectors, services
from .backends import callback_key, sign
from .forms import ClaimDocumentsForm, ClaimReportForm
from .models import AccidentClaim, Policy

SERVICE_ERRORS = (DomainError, ValidationError)


def _found(getter, **kwargs):
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("未找到") from exc


def _side(policy: Policy, user) -> str:
    if policy.order.worker_id == user.pk:
        return "worker"
    if policy.order.employer.memberships.filter(user=user).exists():
        return "employer"
    return "staff"


def _policy_context(request, policy: Policy) -> dict:
    order = policy.order
    realname = getattr(order.worker, "realname", None)
    return {
        "policy": policy,
        "order": order,
        "post": order.post,
        "side": _side(policy, request.user),
        "insured_name": realname.name if realname else order.worker.name,
        "insured_id": realname.id_masked if realname else "",
        "claims": selectors.claims_of_policy(policy=policy),
        "remaining_cover_fen": services.remaining_cover_fen(policy),
        "can_report": selectors.can_report_claim(policy=policy, user=request.user),
        "how_to_claim": selectors.HOW_TO_CLAIM,
    }


@login_required
def policy_detail(request, order_pk: int):
    policy = _found(selectors.policy_for_viewer, order_pk=order_pk, user=request.user)
    return render(request, "insurance/policy_detail.html", _policy_context(request, policy))


@login_required
@require_http_methods(["GET", "POST"])
def claim_create(request, order_pk: int):
    policy = _found(selectors.policy_for_viewer, order_pk=order_pk, user=request.user)
    user = request.user
    if policy.order.worker_id != user.pk and not (
        user.is_staff and user.has_perm("insurance.add_accidentclaim")
    ):
        raise PermissionDenied("只有被保险的工人本人或工作人员可以报案")
    form = ClaimReportForm(request.POST, request.FILES) if request.method == "POST" else ClaimReportForm()
    if form.is_bound and form.is_valid():
        try:
            claim = services.claim_report(order=policy.order, actor=user, **form.cleaned_data)
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"报案成功，报案号 {claim.number}。工作人员会尽快审核，结果短信通知。")
            if claim.policy.order.worker_id == user.pk or user.has_perm("insurance.view_accidentclaim"):
                return redirect("insurance:claim_detail", pk=claim.pk)
            return redirect("insurance:policy", order_pk=order_pk)
    context = _policy_context(request, policy)
    context["form"] = form
    return render(request, "insurance/claim_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def claim_detail(request, pk: int):
    """A claim's progress (each status with its date) and, when the insurer asks, 补材料."""
    claim = _found(selectors.claim_for_viewer, pk=pk, user=request.user)
    order = claim.policy.order
    can_add = claim.status in AccidentClaim.AT_INSURER and (
        order.worker_id == request.user.pk or request.user.has_perm("insurance.add_accidentclaim")
    )
    form = None
    if can_add:
        form = (
            ClaimDocumentsForm(request.POST, request.FILES)
            if request.method == "POST"
            else ClaimDocumentsForm()
        )
        if form.is_bound and form.is_valid():
            try:
                claims.claim_add_documents(claim=claim, actor=request.user, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, "材料已提交，平台会转交保险公司。")
                return redirect("insurance:claim_detail", pk=claim.pk)
    elif request.method == "POST":
        raise PermissionDenied("该理赔现在不需要补充材料")
    return render(
        request,
        "insurance/claim_detail.html",
        {
            "claim": claim,
            "policy": claim.policy,
            "order": order,
            "post": order.post,
            "documents": claim.documents.all(),
            "events": claim.events.all(),
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


@csrf_exempt
@require_POST
def insurer_callback(request):
    """The insurer's signed claim status callbacks (insurance/claims.py); answers are signed the same way."""
    try:
        answer, status = claims.insurer_callback(body=request.body, headers=request.headers), 200
    except claims.CallbackRefused as exc:
        answer, status = {"code": exc.code, "message": exc.message}, exc.status
    body = json.dumps(answer, ensure_ascii=False).encode()
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    response["X-GM-Timestamp"], response["X-GM-Nonce"] = timestamp, nonce
    response["X-GM-Signature"] = sign(callback_key(), timestamp, nonce, body)
    return response


@login_required
def my_claims(request):
    claims = selectors.claims_for_worker(user=request.user)[:100]
    return render(request, "insurance/my_claims.html", {"claims": claims})


def _user(request):
    """The session user for pages, or the API token's user for apps (``Authorization: Token …``)."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def claim_document(request, pk: int, doc_pk: int):
    """A claim's document, for the insured worker and staff who view claims; never public media."""
    user = _user(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    document = _found(selectors.document_for_viewer, claim_pk=pk, pk=doc_pk, user=user)
    return upload_response(document.file.name, download_name=f"理赔材料{document.pk}")
