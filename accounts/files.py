"""Uploaded licences and certificate photos are personal data: they are served only to their owners and to
staff who review them, never as public media."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from .models import Certificate, Employer


@login_required
def protected_file(request, path: str):
    clean = PurePosixPath(path)
    if ".." in clean.parts or clean.is_absolute():
        raise Http404
    name = str(clean)
    user = request.user
    if name.startswith("licences/"):
        allowed = Employer.objects.filter(licence_image=name)
        if not (user.is_staff and user.has_perm("accounts.view_employer")):
            allowed = allowed.filter(memberships__user=user)
    elif name.startswith("certificates/"):
        allowed = Certificate.objects.filter(image=name)
        if not (user.is_staff and user.has_perm("accounts.view_certificate")):
            allowed = allowed.filter(user=user)
    else:
        raise Http404
    if not allowed.exists() or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
