"""The installable site (PWA): the web app manifest, the service worker and its offline page.

The service worker (``templates/pwa/sw.js``, served at the root so its scope is the whole site) keeps the
app shell (CSS, scripts, icons, the offline page) and the last board page, for a weak signal. Everything
else goes to the network untouched: personal pages, the API and every non-GET are never cached. Its
caches of pages are dropped when the person signs out or a different person is signed in (each page tells
the worker who is looking through ``data-viewer``, an opaque per-person value). See docs/push.md.
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET

NAME = "零工市场"
THEME_COLOR = "#0a3d7a"  # --brand in static/css/site.css (the header bar)
BACKGROUND_COLOR = "#f2f4f7"  # --page
ICONS = [
    ("img/icons/icon-192.png", 192, "any"),
    ("img/icons/icon-512.png", 512, "any"),
    ("img/icons/maskable-192.png", 192, "maskable"),
    ("img/icons/maskable-512.png", 512, "maskable"),
]
# What a page needs to draw without the network (the board's own script included).
SHELL_STATIC = [
    "css/site.css",
    "js/elder.js",
    "js/pwa.js",
    "jobs/board.js",
    "img/favicon.svg",
    "img/icons/icon-192.png",
    "img/icons/apple-touch-icon.png",
]


def viewer(request) -> dict:
    """Context processor: ``pwa_viewer``, who is looking, as the service worker compares it (a keyed hash
    of the user id, or "anon"): a change drops the pages it kept for the previous person."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pwa_viewer": "anon"}
    return {"pwa_viewer": salted_hmac("core.pwa.viewer", str(user.pk)).hexdigest()[:20]}


@require_GET
def manifest(request):
    data = {
        "id": "/",
        "name": NAME,
        "short_name": NAME,
        "description": "公益免费的零工市场：找活、抢单、结算、保险、调解",
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": reverse("jobs:board"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["business", "productivity"],
        "icons": [
            {"src": static(path), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
            for path, size, purpose in ICONS
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=1),
        content_type="application/manifest+json; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _worker_source() -> str:
    shell = [static(path) for path in SHELL_STATIC] + [reverse("offline")]
    context = {
        "shell": json.dumps(shell),
        "offline_url": json.dumps(reverse("offline")),
        "board_path": json.dumps(reverse("jobs:board")),
        "logout_paths": json.dumps([reverse("accounts:logout"), reverse("accounts:logout_all")]),
        "icon": json.dumps(static("img/icons/icon-192.png")),
        "badge": json.dumps(static("img/icons/maskable-192.png")),
    }
    body = render_to_string("pwa/sw.js", context)
    # A new shell (another deploy's hashed file names) or a new worker makes a new version: browsers
    # compare the worker byte for byte, install the new one, and it drops the old shell cache.
    version = hashlib.sha256(body.encode()).hexdigest()[:12]
    return f'const VERSION = "{version}";\n{body}'


@require_GET
def service_worker(request):
    """``/sw.js``: at the root, so its scope is the whole site. Never cached long: a fixed worker could
    only be replaced once the browser's copy expired (browsers cap that at 24 hours, but ``no-cache``
    makes every update check ask)."""
    response = HttpResponse(_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache, max-age=0"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request):
    """What the service worker shows for a page it cannot fetch and does not keep. Rendered for no one
    (it is cached once, for every person on the phone), so it names no user."""
    response = render(request, "pwa/offline.html")
    response["Cache-Control"] = "no-cache"
    return response
