"""Account pages: home, sign-up, login, password reset, profile, real-name, employers, certificates, 代注册.

Each view validates its form, calls one service and renders; a service's error is shown on the field it
names (:func:`accounts.forms.apply_service_error`). Logins go through ``authenticate`` so django-axes
counts the failures.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.masking import mask_phone
from core.services import client_ip

from . import selectors, services, throttle
from .elder import elder_mode_on, set_elder_cookie
from .forms import (
    CODE_PURPOSES,
    PAGE_FORMS_BY_PURPOSE,
    AssistedConfirmForm,
    AssistedRegisterForm,
    CertificateForm,
    CodeLoginForm,
    EmployerForm,
    EmployerResubmitForm,
    MemberAddForm,
    PasswordChangeForm,
    PasswordLoginForm,
    PasswordResetForm,
    ProfileForm,
    RealNameForm,
    RegisterForm,
    apply_service_error,
)
from .models import Employer, EmployerMember, RealName

SERVICE_ERRORS = (DomainError, ValidationError)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ASSISTED_PHONE_KEY = "assisted_phone"


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes calls this when a number is locked out after repeated failed password logins (code
    logins stay open: they never go through axes)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else 15
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _realname_of(user) -> RealName | None:
    return RealName.objects.filter(user=user).first()


# ----------------------------------------------------------------------------------------------- home


def home(request):
    context = {}
    user = request.user
    if user.is_authenticated:
        employers = list(selectors.employers_for_user(user=user))
        context.update(
            realname=_realname_of(user),
            employers=employers,
            can_publish=any(e.status == Employer.Status.APPROVED for e in employers),
            certificate_count=selectors.certificates_for_user(user=user).count(),
            can_register_on_behalf=user.has_perm("accounts.register_on_behalf"),
        )
    return render(request, "home.html", context)


# --------------------------------------------------------------------------------- sign-up and codes


def _register_page(request, form, *, code_sent_to: str = ""):
    return render(request, "accounts/register.html", {"form": form, "code_sent_to": code_sent_to})


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(_posted(request))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_register(
                phone=data["phone"],
                code=data["code"],
                name=data["name"],
                password=data["password"] or None,
                role=data["role"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, "注册成功！")
            return redirect("home")
    return _register_page(request, form)


@require_POST
def send_code(request, purpose: str):
    """The "获取验证码" button of the register, login and reset pages. Without JavaScript the button posts
    the whole page form here and gets the page back; with htmx only the status line is swapped."""
    if purpose not in CODE_PURPOSES:
        raise Http404
    form = PAGE_FORMS_BY_PURPOSE[purpose](request.POST, phone_only=True)
    form.is_valid()
    for name in [n for n in form.errors if n != "phone"]:
        del form.errors[name]  # only the number matters for sending a code
    code_sent_to = ""
    if not form.errors:
        try:
            services.phone_code_send(
                phone=form.cleaned_data["phone"], purpose=purpose, ip_address=client_ip(request)
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            code_sent_to = mask_phone(form.cleaned_data["phone"])

    if request.htmx:
        errors = form.errors.get("phone") or form.non_field_errors()
        return render(
            request,
            "accounts/_code_status.html",
            {"code_error": errors[0] if errors else "", "code_sent_to": code_sent_to},
        )
    if purpose == "register":
        return _register_page(request, form, code_sent_to=code_sent_to)
    if purpose == "login":
        return _login_page(request, code_form=form, way="code", code_sent_to=code_sent_to)
    return _reset_page(request, form, code_sent_to=code_sent_to)


# ------------------------------------------------------------------------------------ login / logout


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _login_page(
    request,
    *,
    password_form=None,
    code_form=None,
    way: str = "code",
    code_sent_to: str = "",
    retry_after: int = 0,
):
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    response = render(
        request,
        "accounts/login.html",
        {
            "way": way,
            "password_form": password_form or PasswordLoginForm(),
            "code_form": code_form or CodeLoginForm(),
            "next": nxt if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}) else "",
            "code_sent_to": code_sent_to,
        },
        status=429 if retry_after else 200,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    way = request.POST.get("way") or request.GET.get("way") or "code"
    way = way if way in ("code", "password") else "code"
    password_form = PasswordLoginForm(_posted(request) if way == "password" else None)
    code_form = CodeLoginForm(_posted(request) if way == "code" else None)
    form = password_form if way == "password" else code_form
    retry_after = 0
    if form.is_bound and form.is_valid():
        phone, address = form.cleaned_data["phone"], client_ip(request)
        # An address past its failures waits; its attempts are not processed (and so lock no number).
        retry_after = throttle.wait_seconds(scope=way, address=address)
        if retry_after:
            form.add_error(None, throttle.message(retry_after))
            return _login_page(
                request, password_form=password_form, code_form=code_form, way=way, retry_after=retry_after
            )
        if way == "password":
            user = authenticate(request, phone=phone, password=form.cleaned_data["password"])
            failure = "手机号或密码不正确。没设过密码的，请用短信验证码登录"
        else:
            try:
                user = services.user_login_by_code(phone=phone, code=form.cleaned_data["code"])
            except DomainError as exc:
                user, failure = None, exc.message
        if user is not None:
            login(request, user, backend=MODEL_BACKEND)
            return redirect(_next_url(request))
        retry_after = throttle.failed(scope=way, address=address)
        form.add_error(None, throttle.message(retry_after) if retry_after else failure)
    return _login_page(
        request, password_form=password_form, code_form=code_form, way=way, retry_after=retry_after
    )


@require_POST
def logout_view(request):
    # The device keeps the account's 长辈模式 after the person signs out (the next page is still large).
    elder = elder_mode_on(request)
    logout(request)
    messages.info(request, "您已退出")
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    set_elder_cookie(response, on=elder, secure=request.is_secure())
    return response


@require_POST
def elder_mode(request):
    """长辈模式 on or off from the header's button: saved on the account (if signed in) and in a cookie
    for this device (also before login), then back to the page the button was on."""
    on = request.POST.get("on") == "1"
    if request.user.is_authenticated:
        services.user_elder_mode_set(user=request.user, on=on)
    response = redirect(_next_url(request))
    set_elder_cookie(response, on=on, secure=request.is_secure())
    return response


@login_required
@require_http_methods(["GET", "POST"])
def security(request):
    """账户安全: change the password (other devices are signed out) and 退出所有设备."""
    form = PasswordChangeForm(_posted(request))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.password_change(
                user=request.user, old_password=data["old_password"], new_password=data["new_password"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"password": "new_password"})
        else:
            update_session_auth_hash(request, user)  # this device stays signed in; the others are out
            messages.success(request, "密码已修改，其他设备上的登录已退出")
            return redirect("accounts:security")
    return render(
        request,
        "accounts/security.html",
        {"form": form, "has_password": request.user.has_usable_password()},
    )


@login_required
@require_POST
def logout_all(request):
    """退出所有设备: every web session and API token of the user ends, this one too."""
    services.user_sessions_end(user=request.user)
    logout(request)
    messages.info(request, "已退出所有设备（包括这台），请重新登录")
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _reset_page(request, form, *, code_sent_to: str = ""):
    return render(request, "accounts/password_reset.html", {"form": form, "code_sent_to": code_sent_to})


@require_http_methods(["GET", "POST"])
def password_reset(request):
    form = PasswordResetForm(_posted(request))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        # Read before the reset: afterwards the old session no longer verifies against the new hash.
        signed_in_pk = request.user.pk if request.user.is_authenticated else None
        try:
            user = services.password_reset(
                phone=data["phone"], code=data["code"], new_password=data["new_password"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, {"password": "new_password"})
        else:
            if signed_in_pk == user.pk:
                update_session_auth_hash(request, user)  # the others are out; this one stays
                messages.success(request, "密码已重新设置，其他设备上的登录已退出")
                return redirect("home")
            messages.success(request, "密码已重新设置，请用新密码登录")
            return redirect(reverse("accounts:login") + "?way=password")
    return _reset_page(request, form)


# ------------------------------------------------------------------------------------------- profile


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    current = getattr(request.user, "worker_profile", None)
    initial = ProfileForm.initial_from(current) if current else {}
    form = ProfileForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.worker_profile_update(user=request.user, **form.service_kwargs())
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc, ProfileForm.FIELD_MAP)
        else:
            messages.success(request, "档案已保存")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


# ----------------------------------------------------------------------------------------- real-name


@login_required
@require_http_methods(["GET", "POST"])
def realname(request):
    record = _realname_of(request.user)
    initial = {"name": record.name} if record else {}
    form = RealNameForm(_posted(request), request.FILES or None, initial=initial)
    if form.is_bound and form.is_valid():
        front, back = form.cleaned_data.get("id_front"), form.cleaned_data.get("id_back")
        try:
            with transaction.atomic():
                record = services.realname_submit(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"],
                )
                if (front or back) and record.status == RealName.Status.PENDING:
                    services.realname_photos_store(user=request.user, front=front, back=back)
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "已提交")
            return redirect("accounts:realname")
    can_submit = record is None or record.status == RealName.Status.REJECTED
    return render(
        request,
        "accounts/realname.html",
        {
            "record": record,
            "form": form if (can_submit or form.is_bound) else None,
            "has_photos": record is not None and record.id_photos.exists(),
        },
    )


# ----------------------------------------------------------------------------------------- employers


def _member_employer(request, pk: int) -> Employer:
    try:
        return selectors.employer_for_member(user=request.user, pk=pk)
    except Employer.DoesNotExist as exc:
        raise Http404("没有这个用工主体") from exc


@login_required
def employer_list(request):
    employers = selectors.employers_for_user(user=request.user).order_by("-created_at")
    return render(request, "accounts/employer_list.html", {"employers": employers})


@login_required
@require_http_methods(["GET", "POST"])
def employer_create(request):
    form = EmployerForm(_posted(request), request.FILES or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            employer = services.employer_register(
                user=request.user,
                kind=data["kind"],
                name=data["name"],
                uscc=data["uscc"] or None,
                legal_representative=data["legal_representative"],
                licence_image=data["licence_image"] or None,
                licence_expires_on=data["licence_expires_on"],
                contact_name=data["contact_name"],
                address=data["address"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "已提交，工作人员审核后会短信通知您")
            return redirect("accounts:employer_detail", pk=employer.pk)
    return render(
        request,
        "accounts/employer_form.html",
        {"form": form, "title": "登记用工主体", "is_verified": request.user.is_verified},
    )


def _employer_page(request, employer: Employer, *, member_form=None, status: int = 200):
    memberships = list(employer.memberships.select_related("user").order_by("-role", "added_at"))
    is_owner = any(m.user_id == request.user.pk and m.role == EmployerMember.Role.OWNER for m in memberships)
    return render(
        request,
        "accounts/employer_detail.html",
        {
            "employer": employer,
            "memberships": memberships,
            "is_owner": is_owner,
            "member_form": member_form or MemberAddForm(),
        },
        status=status,
    )


@login_required
def employer_detail(request, pk: int):
    return _employer_page(request, _member_employer(request, pk))


@login_required
@require_POST
def employer_member_add(request, pk: int):
    employer = _member_employer(request, pk)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            services.employer_member_add(
                employer=employer, actor=request.user, phone=form.cleaned_data["phone"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"已添加成员 {mask_phone(form.cleaned_data['phone'])}")
            return redirect("accounts:employer_detail", pk=employer.pk)
    return _employer_page(request, employer, member_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def employer_resubmit(request, pk: int):
    employer = _member_employer(request, pk)
    if request.method == "GET" and employer.status != Employer.Status.REJECTED:
        messages.info(request, "只有未通过的申请可以修改后重新提交")
        return redirect("accounts:employer_detail", pk=employer.pk)
    initial = {
        "name": employer.name,
        "uscc": employer.uscc or "",
        "legal_representative": employer.legal_representative,
        "licence_expires_on": employer.licence_expires_on,
    }
    form = EmployerResubmitForm(_posted(request), request.FILES or None, initial=initial)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.employer_resubmit(
                employer=employer,
                actor=request.user,
                name=data["name"],
                uscc=data["uscc"] or None,
                legal_representative=data["legal_representative"],
                licence_image=data["licence_image"] or None,
                licence_expires_on=data["licence_expires_on"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "已重新提交，请等待审核")
            return redirect("accounts:employer_detail", pk=employer.pk)
    return render(
        request,
        "accounts/employer_form.html",
        {"form": form, "title": "修改后重新提交", "employer": employer},
    )


# -------------------------------------------------------------------------------------- certificates


@login_required
@require_http_methods(["GET", "POST"])
def certificates(request):
    form = CertificateForm(_posted(request), request.FILES or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.certificate_submit(
                user=request.user,
                cert_type=data["cert_type"],
                number=data["number"],
                image=data["image"],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "证书已上传，请等待审核")
            return redirect("accounts:certificates")
    return render(
        request,
        "accounts/certificates.html",
        {"form": form, "certificates": selectors.certificates_for_user(user=request.user)},
    )


# ------------------------------------------------------------------------------ assisted registration


def _require_assist_permission(request) -> None:
    if not request.user.has_perm("accounts.register_on_behalf"):
        raise PermissionDenied("只有网点工作人员可以代注册")


@login_required
@require_http_methods(["GET", "POST"])
def assisted_register(request):
    _require_assist_permission(request)
    form = AssistedRegisterForm(_posted(request))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_register_assisted(
                staff=request.user,
                phone=data["phone"],
                name=data["name"],
                id_number=data["id_number"],
                wanted_trade_ids=[trade.pk for trade in data["wanted_trades"]],
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            request.session[ASSISTED_PHONE_KEY] = data["phone"]
            messages.success(request, f"验证码已发到 {mask_phone(data['phone'])}，请村民念出收到的6位验证码")
            return redirect("accounts:assisted_confirm")
    return render(request, "accounts/assisted_register.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def assisted_confirm(request):
    _require_assist_permission(request)
    form = AssistedConfirmForm(
        _posted(request), initial={"phone": request.session.get(ASSISTED_PHONE_KEY, "")}
    )
    if form.is_bound and form.is_valid():
        try:
            user = services.user_confirm_assisted(
                staff=request.user, phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            request.session.pop(ASSISTED_PHONE_KEY, None)
            messages.success(request, f"代注册完成：{user}。村民以后可用短信验证码登录")
            return redirect("accounts:assisted_register")
    return render(request, "accounts/assisted_confirm.html", {"form": form})
