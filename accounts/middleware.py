"""Staff and mediator sessions (see :mod:`accounts.second_factor`).

For a logged-in user who needs a second factor, on every request:

1. a session that logged in before a superuser reset their second factor ends;
2. a session idle longer than ``STAFF_IDLE_TIMEOUT`` ends (the last request's time is kept in the session;
   seekers and employers keep Django's normal session length);
3. until the session has passed the second factor, every page redirects to the verification page (or to
   enrolment, without a confirmed device) and every ``/api/`` call gets a 403 — only those pages, logout
   and static files are open. Gating every page rather than a list of staff views means a new staff
   page cannot be forgotten.

API tokens are not sessions: the token login asks staff for the code (``accounts.api.LoginView``) and
their tokens end after the same idle time (``accounts.auth.TokenAuthentication``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import second_factor

API_PREFIX = "/api/"


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(
                reverse(name)
                for name in (
                    "accounts:second_factor_verify",
                    "accounts:second_factor_enrol",
                    "accounts:logout",
                    "admin:logout",
                    "healthz",
                )
            )
        return self._open_paths

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not second_factor.needs_second_factor(user):
            return self.get_response(request)

        if second_factor.session_ended_by_reset(request, user):
            return self._end(request, "您的二次验证已被管理员重置，请重新登录并绑定新的身份验证器")
        if second_factor.session_idle_too_long(request):
            minutes = int(settings.STAFF_IDLE_TIMEOUT.total_seconds() // 60)
            return self._end(request, f"超过{minutes}分钟没有操作，已自动退出，请重新登录")
        second_factor.session_touch(request)

        if second_factor.second_factor_passed(request) or self._is_open(request.path):
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            return JsonResponse(
                {
                    "code": "second_factor_required",
                    "detail": "工作人员和调解员须先在网页上完成二次验证（身份验证器）",
                    "fields": {},
                },
                status=403,
            )
        name = (
            "accounts:second_factor_verify"
            if second_factor.has_second_factor(user=user)
            else "accounts:second_factor_enrol"
        )
        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths() or path.startswith(settings.STATIC_URL)

    def _end(self, request, message: str):
        logout(request)
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"code": "session_ended", "detail": message, "fields": {}}, status=401)
        messages.info(request, message)
        login_url = reverse("admin:login") if request.path.startswith(reverse("admin:index")) else None
        return redirect_to_login(request.get_full_path(), login_url)
