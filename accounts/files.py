"""Uploaded licences and certificate photos are personal data: they are served only to their owners and to
staff of their service point who review them (core.scoping), never as public media."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from core.scoping import objects_visible_to

from .auth import TokenAuthentication
from .models import Certificate, Employer


def _user(request):
    """The session user for pages, or the API token's user for apps (``Authorization: Token …``)."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def protected_file(request, path: str):
    user = _user(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    clean = PurePosixPath(path)
    if ".." in clean.parts or clean.is_absolute():
        raise Http404
    name = str(clean)
    if name.startswith("licences/"):
        allowed = Employer.objects.filter(licence_image=name)
        if user.is_staff and user.has_perm("accounts.view_employer"):
            allowed = objects_visible_to(user, allowed) | allowed.filter(memberships__user=user)
        else:
            allowed = allowed.filter(memberships__user=user)
    elif name.startswith("certificates/"):
        allowed = Certificate.objects.filter(image=name)
        if user.is_staff and user.has_perm("accounts.view_certificate"):
            allowed = objects_visible_to(user, allowed) | allowed.filter(user=user)
        else:
            allowed = allowed.filter(user=user)
    else:
        raise Http404
    if not allowed.exists() or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
