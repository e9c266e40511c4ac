"""Issue #22, items 3 and 4 for licences and certificates: a PNG with a page appended, named .html or .svg,
and a decompression-bomb header, through the pages and the API; what is stored and how it is served back
(to the owner under /media/ and to reviewing staff in the console)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.views.static import serve

from accounts.files import protected_file
from accounts.models import Certificate, Employer
from tests import factories
from tests.accounts.test_api_employers import api_as, cert_form, company_form
from tests.conftest import SCRIPT, bomb_png, make_image, polyglot_png

pytestmark = pytest.mark.django_db
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'"
SERVER_NAME = re.compile(r"^(licences|certificates)/\d{4}/\d{2}/[0-9a-f]{32}\.png$")


def _stored_bytes(field_file) -> bytes:
    with default_storage.open(field_file.name, "rb") as handle:
        return handle.read()


def _assert_safe_image(response, *, reencoded: bool = True):
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_CSP
    assert body.startswith(b"\x89PNG")
    # An old file keeps its bytes (type, nosniff and the sandbox make them harmless); a new one is clean.
    assert (b"<script" not in body) is reencoded


@pytest.mark.parametrize("name", ["poly.html", "poly.svg", "poly.png.html"])
def test_polyglot_certificate_on_the_page_is_stored_clean_and_served_as_an_image(client, alice, staff, name):
    client.force_login(alice)
    data = {
        "cert_type": factories.CertificateTypeFactory().pk,
        "number": "T350402197506151234",
        "image": polyglot_png(name),
        "expires_on": "2030-01-01",
    }
    assert client.post(reverse("accounts:certificates"), data).status_code == 302
    cert = Certificate.objects.get(user=alice)
    assert SERVER_NAME.match(cert.image.name), cert.image.name
    assert SCRIPT not in _stored_bytes(cert.image)
    _assert_safe_image(client.get(cert.image.url))
    client.force_login(staff)
    _assert_safe_image(client.get(reverse("admin:accounts_certificate_image", args=[cert.pk])))


@pytest.mark.parametrize("name", ["poly.html", "poly.svg"])
def test_polyglot_licence_through_the_api_is_stored_clean_and_served_as_an_image(client, alice, staff, name):
    response = api_as(alice).post(
        reverse("api:employer-list"), company_form(licence_image=polyglot_png(name)), format="multipart"
    )
    assert response.status_code == 201, response.json()
    employer = Employer.objects.get(pk=response.json()["id"])
    assert SERVER_NAME.match(employer.licence_image.name), employer.licence_image.name
    assert SCRIPT not in _stored_bytes(employer.licence_image)
    client.force_login(alice)
    _assert_safe_image(client.get(employer.licence_image.url))
    client.force_login(staff)
    _assert_safe_image(client.get(reverse("admin:accounts_employer_licence", args=[employer.pk])))


def test_polyglot_certificate_through_the_api(alice):
    client = api_as(alice)
    welding = factories.CertificateTypeFactory()
    response = client.post(
        reverse("api:certificate-list"), cert_form(welding, image=polyglot_png("x.svg")), format="multipart"
    )
    assert response.status_code == 201, response.json()
    cert = Certificate.objects.get(pk=response.json()["id"])
    assert SERVER_NAME.match(cert.image.name) and SCRIPT not in _stored_bytes(cert.image)
    _assert_safe_image(client.get(cert.image.url))


def test_files_stored_before_the_rules_are_served_the_safe_way(client, alice, staff):
    """Rows that point at an uploader-named polyglot (poly.html) or an SVG: still readable, never a page."""
    poly = default_storage.save("certificates/2026/11/poly.html", ContentFile(polyglot_png().read()))
    svg = default_storage.save(
        "licences/2026/11/logo.svg",
        ContentFile(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'),
    )
    cert = Certificate.objects.create(
        user=alice, cert_type=factories.CertificateTypeFactory(), number="T350402197506151234",
        image=poly, expires_on=timezone.localdate() + dt.timedelta(days=30),
    )  # fmt: skip
    employer = factories.EmployerFactory(created_by=alice, licence_image=svg)
    assert cert.image.name.endswith("poly.html") and employer.licence_image.name.endswith("logo.svg")

    client.force_login(alice)
    _assert_safe_image(client.get(cert.image.url), reencoded=False)
    client.force_login(staff)
    _assert_safe_image(
        client.get(reverse("admin:accounts_certificate_image", args=[cert.pk])), reencoded=False
    )
    response = client.get(reverse("admin:accounts_employer_licence", args=[employer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == FILE_CSP and response["X-Content-Type-Options"] == "nosniff"


def test_bomb_certificate_on_the_page_is_a_field_error(client, alice):
    client.force_login(alice)
    for bomb in (bomb_png(30000, 30000), bomb_png(12000, 12000)):
        data = {
            "cert_type": factories.CertificateTypeFactory().pk,
            "number": "T350402197506151234",
            "image": bomb,
            "expires_on": "2030-01-01",
        }
        response = client.post(reverse("accounts:certificates"), data)
        page = response.content.decode()
        assert response.status_code in (200, 400) and 'id="id_image_error"' in page and "像素" in page
    assert not Certificate.objects.exists()


def test_bomb_licence_and_certificate_through_the_api_are_a_structured_400(alice):
    client = api_as(alice)
    response = client.post(
        reverse("api:employer-list"), company_form(licence_image=bomb_png()), format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "像素" in response.json()["fields"]["licence_image"][0]
    response = client.post(
        reverse("api:certificate-list"),
        cert_form(factories.CertificateTypeFactory(), image=bomb_png(12000, 12000)),
        format="multipart",
    )
    assert response.status_code == 400 and "像素" in response.json()["fields"]["image"][0]
    assert not Employer.objects.exists() and not Certificate.objects.exists()


def test_media_is_never_served_straight_from_disk(client, alice, staff, settings):
    """/media/ is the checked view in every setting: no static serve, no WhiteNoise root on the media dir,
    and a file nobody's row points at is a 404 even for staff."""

    def patterns(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from patterns(entry)
            elif isinstance(entry, URLPattern):
                yield entry

    assert all(p.callback is not serve for p in patterns(get_resolver()))
    match = get_resolver().resolve(settings.MEDIA_URL + "licences/2026/11/x.png")
    assert match.func is protected_file
    assert str(getattr(settings, "WHITENOISE_ROOT", "") or "") != str(settings.MEDIA_ROOT)

    stray = default_storage.save("licences/2026/11/stray.png", ContentFile(make_image().read()))
    assert client.get(settings.MEDIA_URL + stray).status_code == 302  # anonymous: to the login page
    client.force_login(staff)
    assert client.get(settings.MEDIA_URL + stray).status_code == 404
    assert client.get(settings.MEDIA_URL + "../settings.py").status_code == 404
