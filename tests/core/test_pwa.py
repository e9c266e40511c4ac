"""The web app manifest and the service worker as served: the fields an installable app needs, icons that
exist at the sizes they claim, the worker at the root with no long cache, and both allowed by the CSP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


def test_the_manifest_has_what_installing_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert data["name"] == data["short_name"] == "零工市场"
    assert data["lang"] == "zh-CN" and data["display"] == "standalone"
    assert data["start_url"] == "/jobs/" and data["scope"] == "/" and data["id"] == "/"
    assert data["theme_color"] == "#0a3d7a" and data["background_color"] == "#f2f4f7"
    css = Path(finders.find("css/site.css")).read_text(encoding="utf-8")
    assert f"--brand: {data['theme_color']};" in css and f"--page: {data['background_color']};" in css
    purposes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert purposes == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for icon in data["icons"]:
        assert icon["type"] == "image/png"
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
            if icon["purpose"] == "maskable":
                # Full bleed: a launcher's mask may cut any corner, so no transparent corner is left.
                assert image.convert("RGBA").getpixel((0, 0))[3] == 255


def test_every_page_links_the_manifest_theme_color_and_touch_icon(client):
    page = client.get("/jobs/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#0a3d7a">' in page
    assert 'rel="apple-touch-icon" href="/static/img/icons/apple-touch-icon.png"' in page
    assert finders.find("img/icons/apple-touch-icon.png")
    assert 'data-sw="/sw.js" data-viewer="anon"' in page


def test_the_worker_is_served_from_the_root_without_a_long_cache(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache, max-age=0"
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert body.startswith('const VERSION = "')
    assert '"/offline/"' in body and '"/static/css/site.css"' in body and '"/logout/"' in body
    # The policy a worker runs under: scripts only from us, connections only to us; nothing loosened.
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    page_policy = client.get("/jobs/")["Content-Security-Policy"]
    assert "default-src 'self'" in page_policy and "worker-src" not in page_policy  # 'self' via script-src
    assert "manifest-src" not in page_policy  # default-src 'self' covers our manifest


def test_the_offline_page_names_no_one(client, alice):
    client.force_login(alice)
    page = client.get("/offline/").content.decode()
    assert "网络不好" in page and alice.name not in page and "退出" not in page


def test_the_viewer_differs_per_person_and_reveals_no_id(client, alice, bob):
    client.force_login(alice)
    mark_a = client.get("/jobs/").content.decode().split('data-viewer="')[1].split('"')[0]
    client.force_login(bob)
    mark_b = client.get("/jobs/").content.decode().split('data-viewer="')[1].split('"')[0]
    assert mark_a != mark_b and "anon" not in (mark_a, mark_b)
    assert str(alice.pk) != mark_a and len(mark_a) == 20
