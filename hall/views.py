"""Hall pages: a service point's big screen (大屏) and its cached data, the kiosk (求职机) flow, and the
staff dashboard (数据看板) with its CSV/Excel export.

The big screen and the kiosk are public pages on the hall's own devices. The kiosk never logs anyone in to
the site: a kiosk session is a separate short-lived row (hall.models.KioskSession) behind an HttpOnly
cookie scoped to that kiosk's path, ended on 完成, on inactivity and by the next sign-in.
"""

from __future__ import annotations

import hashlib
import json

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import apply_service_error
from accounts.models import ServicePoint
from accounts.selectors import sees_every_point, service_points_visible_to
from core.errors import DomainError, NotAllowed
from core.masking import mask_phone
from core.services import client_ip
from core.spreadsheets import Sheet, csv_response, xlsx_response
from core.swr import StaleWhileRebuild
from jobs.models import Claim, Post
from outreach.models import Course
from outreach.services import training_signup

from . import selectors, services
from .forms import DashboardForm, KioskCodeForm, KioskIdForm, KioskPhoneForm
from .models import KioskSession

KIOSK_COOKIE = "hall_kiosk"
SERVICE_ERRORS = (DomainError, ValidationError)


def _point(pk: int) -> ServicePoint:
    return get_object_or_404(ServicePoint.objects.select_related("area"), pk=pk, is_active=True)


# ------------------------------------------------------------------------------------------ big screen


def screen_qr_svg(url: str) -> str:
    """An inline SVG QR code (segno): paths and fill/stroke attributes only, nothing the CSP refuses."""
    code = segno.make(url, error="m")
    return code.svg_inline(
        scale=6,
        border=2,
        dark="#000",
        light="#fff",
        svgclass="screen-qr-code",
        title="扫码找活",
        omitsize=True,
    )


@require_GET
def screen(request, pk: int):
    point = _point(pk)
    # The QR code opens the board on the host the screen was loaded from (the hall PC reaches the site the
    # same way the visitors' phones do), so it never points at a default or internal address.
    board_url = request.build_absolute_uri(reverse("jobs:board"))
    return render(
        request,
        "hall/screen.html",
        {
            "point": point,
            "board_url": board_url,
            "qr_svg": mark_safe(screen_qr_svg(board_url)),  # noqa: S308 (segno markup; the URL is only encoded)
            "config": {
                "url": reverse("hall:screen_data", args=[point.pk]),
                "poll": settings.HALL_SCREEN_POLL_SECONDS,
                "pageSize": settings.HALL_SCREEN_PAGE_SIZE,
                "pageSeconds": settings.HALL_SCREEN_PAGE_SECONDS,
            },
        },
    )


# Each point's screen data (JSON bytes and ETag) and the market-wide ticker counts, through the same
# stale-while-rebuild helper as the board's pages (core/swr.py): however many screens poll, the database sees
# at most one build per point per HALL_SCREEN_CACHE_SECONDS; each process keeps a copy for
# HALL_SCREEN_LOCAL_SECONDS (bounded by the number of service points), for the whole period while Redis is
# down.
SCREENS = StaleWhileRebuild(
    "hall:screen",
    fresh=lambda: settings.HALL_SCREEN_CACHE_SECONDS,
    local=lambda: settings.HALL_SCREEN_LOCAL_SECONDS,
    local_max=4096,
    keep=12,
)
FIGURES = StaleWhileRebuild(
    "hall:screen-figures", fresh=lambda: settings.HALL_SCREEN_FIGURES_SECONDS, keep=12
)


def _build(point_pk: int) -> tuple[bytes, str]:
    point = _point(point_pk)
    # Market-wide counts, the same for every screen: one build per HALL_SCREEN_FIGURES_SECONDS.
    figures = FIGURES.get("all", selectors.screen_figures)
    payload = selectors.screen_payload(point=point, figures=figures)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _screen_body(point_pk: int) -> tuple[bytes, str]:
    """The point's screen data as JSON bytes and their ETag."""
    return SCREENS.get(str(point_pk), lambda: _build(point_pk))


@require_GET
def screen_data(request, pk: int):
    body, etag = _screen_body(pk)
    seconds = settings.HALL_SCREEN_CACHE_SECONDS
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={seconds}"
    return response


# ---------------------------------------------------------------------------------------------- kiosk


def _kiosk_context(point: ServicePoint, **extra) -> dict:
    return {"point": point, "timeout": settings.HALL_KIOSK_TIMEOUT_SECONDS, **extra}


def _kiosk_session(request, point: ServicePoint, *states: str) -> KioskSession | None:
    return services.kiosk_session_for(
        token=request.COOKIES.get(KIOSK_COOKIE, ""),
        point=point,
        states=states or (KioskSession.State.ACTIVE,),
    )


def _set_cookie(response, request, point: ServicePoint, token: str):
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=settings.HALL_KIOSK_TIMEOUT_SECONDS * 20,  # the server ends an idle session much sooner
        path=reverse("hall:kiosk", args=[point.pk]),
        httponly=True,
        samesite="Strict",
        secure=request.is_secure(),
    )
    return response


def _to_start(request, point: ServicePoint, *, notice: str = ""):
    response = redirect(reverse("hall:kiosk", args=[point.pk]) + (f"?notice={notice}" if notice else ""))
    response.delete_cookie(KIOSK_COOKIE, path=reverse("hall:kiosk", args=[point.pk]))
    return response


NOTICES = {
    "timeout": "长时间没有操作，已自动退出",
    "done": "已退出，欢迎再来",
    "expired": "登录已失效，请重新登录",
}


@require_http_methods(["GET", "POST"])
def kiosk(request, pk: int):
    """Start screen: phone (or ID number) on the on-screen pad → 获取验证码."""
    point = _point(pk)
    way = request.POST.get("way") or request.GET.get("way") or "phone"
    way = way if way in ("phone", "id") else "phone"
    form_class = KioskIdForm if way == "id" else KioskPhoneForm
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        old = _kiosk_session(request, point, KioskSession.State.CODE_SENT, KioskSession.State.ACTIVE)
        if old is not None:
            services.kiosk_session_end(session=old, reason="new_sign_in")
        try:
            _session, token = services.kiosk_code_send(
                point=point,
                phone=form.cleaned_data.get("phone", ""),
                id_number=form.cleaned_data.get("id_number", ""),
                ip_address=client_ip(request),
            )
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            return _set_cookie(redirect("hall:kiosk_code", pk=point.pk), request, point, token)
    notice = NOTICES.get(request.GET.get("notice", ""), "")
    response = render(
        request, "hall/kiosk_start.html", _kiosk_context(point, form=form, way=way, notice=notice)
    )
    if request.method == "GET" and KIOSK_COOKIE in request.COOKIES:
        # The start screen means nobody is signed in: whoever walked away without 完成 is signed out.
        old = _kiosk_session(request, point, KioskSession.State.CODE_SENT, KioskSession.State.ACTIVE)
        if old is not None:
            services.kiosk_session_end(session=old, reason="start_screen")
        response.delete_cookie(KIOSK_COOKIE, path=reverse("hall:kiosk", args=[point.pk]))
    return response


@require_http_methods(["GET", "POST"])
def kiosk_code(request, pk: int):
    point = _point(pk)
    session = _kiosk_session(request, point, KioskSession.State.CODE_SENT)
    if session is None:
        return _to_start(request, point, notice="expired")
    form = KioskCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.kiosk_sign_in(session=session, code=form.cleaned_data["code"])
        except SERVICE_ERRORS as exc:
            apply_service_error(form, exc)
        else:
            return redirect("hall:kiosk_posts", pk=point.pk)
    return render(
        request,
        "hall/kiosk_code.html",
        _kiosk_context(point, form=form, phone=mask_phone(session.user.phone)),
    )


@require_GET
def kiosk_posts(request, pk: int):
    point = _point(pk)
    session = _kiosk_session(request, point)
    if session is None:
        return _to_start(request, point, notice="expired")
    notice = {"signed": "培训报名成功，短信已发到您的手机"}.get(request.GET.get("notice", ""), "")
    return _posts_page(request, point, session, notice=notice)


def _posts_page(request, point, session, **extra):
    matches = selectors.kiosk_posts(worker=session.user, point=point, limit=settings.HALL_KIOSK_POSTS)
    courses = selectors.kiosk_courses(worker=session.user)
    return render(
        request,
        "hall/kiosk_posts.html",
        _kiosk_context(point, matches=matches, name=session.user.name, courses=courses, **extra),
    )


@require_POST
def kiosk_training(request, pk: int, course_pk: int):
    """Sign up for a training course from the kiosk (outreach.services.training_signup)."""
    point = _point(pk)
    session = _kiosk_session(request, point)
    if session is None:
        return _to_start(request, point, notice="expired")
    course = get_object_or_404(Course, pk=course_pk, is_published=True)
    try:
        training_signup(course=course, worker=session.user)
    except DomainError as exc:
        return _posts_page(request, point, session, course_error=exc.message)
    return redirect(reverse("hall:kiosk_posts", args=[point.pk]) + "?notice=signed")


@require_http_methods(["GET", "POST"])
def kiosk_confirm(request, pk: int, post_pk: int):
    point = _point(pk)
    session = _kiosk_session(request, point)
    if session is None:
        return _to_start(request, point, notice="expired")
    post = get_object_or_404(
        Post.objects.select_related("trade", "area", "employer"),
        pk=post_pk,
        status__in=(Post.Status.OPEN, Post.Status.FILLED),
    )
    error = ""
    if request.method == "POST":
        try:
            claim = services.kiosk_claim(session=session, post=post)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("hall:kiosk_done", pk=point.pk, claim_pk=claim.pk)
    return render(request, "hall/kiosk_confirm.html", _kiosk_context(point, post=post, error=error))


@require_GET
def kiosk_done(request, pk: int, claim_pk: int):
    point = _point(pk)
    session = _kiosk_session(request, point)
    if session is None:
        return _to_start(request, point, notice="expired")
    # Only the signed-in worker's own claim (else 404).
    claim = get_object_or_404(
        Claim.objects.select_related("post__area", "post__trade"), pk=claim_pk, worker=session.user
    )
    return render(
        request,
        "hall/kiosk_done.html",
        _kiosk_context(point, claim=claim, phone=mask_phone(session.user.phone)),
    )


@require_POST
def kiosk_end(request, pk: int):
    point = _point(pk)
    session = _kiosk_session(request, point, KioskSession.State.CODE_SENT, KioskSession.State.ACTIVE)
    reason = "timeout" if request.POST.get("reason") == "timeout" else "done"
    if session is not None:
        services.kiosk_session_end(session=session, reason=reason)
    return _to_start(request, point, notice=reason)


# ------------------------------------------------------------------------------------------ dashboard


def _require_dashboard(request, perm: str = "hall.view_dashboard") -> None:
    if not (request.user.is_staff and request.user.has_perm(perm)):
        raise PermissionDenied


def _dashboard_query(request):
    """The validated filter and the staff member's scope, or the bound form with its errors."""
    points = list(service_points_visible_to(user=request.user).order_by("kind", "name"))
    form = DashboardForm(request.GET or None, points=points, every=sees_every_point(user=request.user))
    if request.GET and not form.is_valid():
        return form, None
    if not request.GET:
        # The default period (the last 30 days) goes into the date fields, so they show what is shown.
        form = DashboardForm({}, points=points, every=sees_every_point(user=request.user))
        form.is_valid()
        period = {key: form.cleaned_data[key].isoformat() for key in ("start", "end")}
        form = DashboardForm(period, points=points, every=sees_every_point(user=request.user))
        form.is_valid()
    try:
        scope = selectors.dashboard_scope(user=request.user, point_id=form.cleaned_data.get("point"))
    except NotAllowed as exc:
        if exc.field:
            form.add_error(exc.field, exc.message)
            return form, None
        raise PermissionDenied(exc.message) from exc
    return form, scope


def _dashboard_data(scope, start, end, trade_id=None) -> dict:
    """The dashboard's figures, kept for HALL_DASHBOARD_CACHE_SECONDS per scope and period (a market-wide
    view reads every open post and seeker)."""
    seconds = settings.HALL_DASHBOARD_CACHE_SECONDS
    if not seconds:
        return selectors.dashboard(scope=scope, start=start, end=end, trade_id=trade_id)
    points = "all" if scope.everything else ",".join(str(pk) for pk in sorted(scope.point_ids))
    raw = f"{points}|{getattr(scope.point, 'pk', '')}|{start}|{end}|{trade_id}"
    key = "hall:dashboard:" + hashlib.sha256(raw.encode()).hexdigest()
    data = cache.get(key)
    if data is None:
        data = selectors.dashboard(scope=scope, start=start, end=end, trade_id=trade_id)
        cache.set(key, data, seconds)
    return data


@login_required
@require_GET
def dashboard(request):
    _require_dashboard(request)
    form, scope = _dashboard_query(request)
    data = None
    if scope is not None:
        data = _dashboard_data(
            scope, form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data.get("trade")
        )
    return render(
        request,
        "hall/dashboard.html",
        {
            "form": form,
            "data": data,
            "query": request.GET.urlencode(),
            "can_export": request.user.has_perm("hall.export_dashboard"),
        },
    )


def export_rows(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """The dashboard as sheets: (title, header, rows)."""
    deals = data["deals"]
    insurance = data["insurance"]
    sheets = [
        ("工种供需", ["工种", "可上岗求职者", "空缺名额", "在招岗位", "求人倍率"],
         [[r["trade"], r["seekers"], r["openings"], r["posts"], r["ratio"]] for r in data["trades"]]),
        ("区县供需", ["区县", "可上岗求职者", "空缺名额", "在招岗位", "求人倍率"],
         [[r["district"], r["seekers"], r["openings"], r["posts"], r["ratio"]] for r in data["districts"]]),
        ("紧缺工种", ["工种", "空缺名额", "求职者", "求人倍率", "紧缺区县数", "综合指数"],
         [[r["trade"], r["openings"], r["seekers"], r["ratio"], r["districts"], r["score"]] for r in data["shortage"]]),
        ("供需走势", ["日期", "可上岗求职者", "空缺名额", "求人倍率"],
         [[r["day"], r["seekers"], r["openings"], r["ratio"]] for r in data["history"]]),
        ("成交", ["指标", "数值"], [
            ["发布岗位", deals["posts"]], ["招工名额", deals["slots"]], ["已招名额", deals["filled"]],
            ["招满率", deals["fill_rate"]], ["平均招满用时（小时）", deals["avg_hours_to_fill"]],
            ["成交订单", deals["deals"]], ["已完工", deals["completed"]], ["已付报酬（元）", deals["paid_fen"] / 100],
            ["投保订单", insurance["insured_orders"]], ["参保率", insurance["insured_share"]],
        ]),
        ("网点注册", ["网点", "新注册求职者"], [[r["point"], r["n"]] for r in data["registrations"]]),
    ]  # fmt: skip
    for panel in data["panels"]:
        if panel["available"]:
            sheets.append((panel["label"][:28], ["指标", "数值"], panel["rows"]))
    return sheets


@login_required
@require_GET
def dashboard_export(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("不支持的格式")
    _require_dashboard(request)
    _require_dashboard(request, "hall.export_dashboard")
    form, scope = _dashboard_query(request)
    if scope is None:
        raise Http404("筛选条件有误")
    data = _dashboard_data(
        scope, form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data.get("trade")
    )
    name = f"dashboard-{data['start']}-{data['end']}"
    sheets = export_rows(data)
    # Trade, point and panel labels are typed by people: core.spreadsheets neutralises formulas.
    if fmt == "csv":
        lines: list[list] = [
            [
                f"范围：{data['scope']}",
                f"{data['start']} 至 {data['end']}",
                f"工种：{data['trade'] or '全部'}",
            ]
        ]
        for title, header, rows in sheets:
            lines += [[], [title], header, *rows]
        return csv_response(lines, filename=f"{name}.csv")
    return xlsx_response(
        [Sheet(title=title, rows=[header, *rows], header=True) for title, header, rows in sheets],
        filename=f"{name}.xlsx",
    )
