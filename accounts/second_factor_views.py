"""Pages of the second factor for staff and mediators: enrolment (QR code, key, confirm, recovery codes
shown once), verification after the password/SMS login, and new recovery codes. See
:mod:`accounts.second_factor`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from core.errors import DomainError

from . import second_factor
from .forms import SecondFactorCodeForm, apply_service_error


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url("admin:index" if request.user.is_staff else settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, request) -> str:
    return f"{resolve_url(name)}?{urlencode({'next': _next_url(request)})}"


def _passed(request, device) -> None:
    # A new session key once the second factor is proven, like a login (no fixation across the step up).
    request.session.cycle_key()
    otp_login(request, device)
    request._second_factor_passed = True


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    user = request.user
    if not second_factor.needs_second_factor(user):
        return redirect(_next_url(request))
    if second_factor.has_second_factor(user=user):
        return redirect(_with_next("accounts:second_factor_verify", request))
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device, codes = second_factor.totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            _passed(request, device)
            # Shown in this response only: a reload posts again and finds the device already confirmed.
            return render(
                request,
                "accounts/second_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
    device = second_factor.totp_enrolment_start(user=user)
    return render(
        request,
        "accounts/second_factor_enrol.html",
        {
            "form": form,
            "qr_svg": second_factor.qr_svg(device),
            "secret": second_factor.secret_in_groups(device),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if not second_factor.needs_second_factor(user) or second_factor.second_factor_passed(request):
        return redirect(_next_url(request))
    if not second_factor.has_second_factor(user=user):
        return redirect(_with_next("accounts:second_factor_enrol", request))
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None, recovery=True)
    if form.is_bound and form.is_valid():
        try:
            device = second_factor.second_factor_verify(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            _passed(request, device)
            if isinstance(device, StaticDevice):
                left = second_factor.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    f"已用掉一个恢复码，还剩 {left} 个。"
                    + ("请尽快在“恢复码”页重新生成。" if left <= 3 else ""),
                )
            return redirect(_next_url(request))
    return render(request, "accounts/second_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """New recovery codes, after the authenticator's code (the middleware has already demanded a verified
    session to reach this page)."""
    user = request.user
    if not second_factor.needs_second_factor(user):
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    form.fields["code"].help_text = "为确认是您本人，请输入身份验证器上当前的6位数字"
    if form.is_bound and form.is_valid():
        try:
            codes = second_factor.recovery_codes_regenerate(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            return render(
                request,
                "accounts/second_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": False},
            )
    return render(
        request,
        "accounts/second_factor_recovery.html",
        {"form": form, "left": second_factor.recovery_codes_left(user=user)},
    )
