"""Account pages."""

from django.shortcuts import render


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes calls this when a number is locked out after repeated failed logins."""
    return render(request, "accounts/locked_out.html", status=429)
