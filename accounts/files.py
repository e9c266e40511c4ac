"""Uploaded licences and certificate photos are personal data: they are served only to their owners and to
staff of their service point who review them (core.scoping), never as public media. ``MEDIA_URL`` (/media/)
is this view, in every setting: no static server, WhiteNoise root or proxy location serves the media
directory itself. Bytes leave through :func:`core.uploads.upload_response` (sniffed type, nosniff, sandbox
CSP, attachment unless an image)."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from core.scoping import objects_visible_to
from core.uploads import upload_response

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
        kind, allowed = "licence", Employer.objects.filter(licence_image=name)
        if user.is_staff and user.has_perm("accounts.view_employer"):
            allowed = objects_visible_to(user, allowed) | allowed.filter(memberships__user=user)
        else:
            allowed = allowed.filter(memberships__user=user)
    elif name.startswith("certificates/"):
        kind, allowed = "certificate", Certificate.objects.filter(image=name)
        if user.is_staff and user.has_perm("accounts.view_certificate"):
            allowed = objects_visible_to(user, allowed) | allowed.filter(user=user)
        else:
            allowed = allowed.filter(user=user)
    else:
        raise Http404
    found = allowed.first()
    if found is None:
        raise Http404
    return upload_response(name, download_name=f"{kind}-{found.pk}")
