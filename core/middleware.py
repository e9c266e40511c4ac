"""Security headers on every response: the Content-Security-Policy (django-csp, settings in
``CONTENT_SECURITY_POLICY``) and the Permissions-Policy (``PERMISSIONS_POLICY``).

See docs/security-headers.md for the policy and why each part is there."""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from django.conf import settings


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with two house rules.

    - Every HTML page's policy carries a fresh nonce, whether or not its template used one: django-csp
      adds the nonce only once something read ``request.csp_nonce``, which would make the policy differ
      page by page for no reason a reader can see. A nonce nobody uses allows nothing.
    - PDFs (contracts, agreements, certificates) get no policy: they run none of our scripts for it to
      protect, and Chromium's built-in viewer runs inside the PDF's own document, where a page policy
      (``object-src 'none'`` above all) can only get in its way.
    """

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/pdf"):
            response._csp_exempt = True
            response._csp_exempt_ro = True
        elif content_type.startswith("text/html") and hasattr(request, "csp_nonce"):
            str(request.csp_nonce)  # makes the nonce, so the header names it
        preset = HEADER in response  # a view's own policy (file responses' sandbox) is left as it wrote it
        response = super().process_response(request, response)
        if HEADER in response and not preset:
            response[HEADER] = in_settings_order(response[HEADER])
        return response


def in_settings_order(policy: str) -> str:
    """The directives in the order the settings list them (django-csp joins them from a set, so the
    order would change with every server start), to read and compare the header easily."""
    order = {name: i for i, name in enumerate(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])}
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    return "; ".join(sorted(parts, key=lambda part: order.get(part.split()[0], len(order))))


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy``: which powerful browser features a page (or a frame in it) may use
    at all. A view that set its own keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(allow)})" for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
