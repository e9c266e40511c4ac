"""The shared upload check and file response (core.uploads): the bytes decide, images are re-encoded without
what followed or described them, bombs are refused from their header, and files leave with safe headers."""

from __future__ import annotations

import io

import pytest
from csp.decorators import csp_exempt
from csp.middleware import CSPMiddleware
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from PIL import Image, PngImagePlugin

from core.uploads import FILE_CSP, random_name, upload_check, upload_response
from tests.conftest import SCRIPT, bomb_png, make_image, polyglot_png


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_jpeg_and_png_accepted_and_typed_by_their_bytes():
    assert upload_check(make_image("PNG", name="x.jpg")).content_type == "image/png"
    checked = upload_check(make_image("JPEG", name="x.png"))
    assert checked.content_type == "image/jpeg" and checked.extension == "jpg"
    assert checked.as_file().name == "upload.jpg"


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (lambda: make_image("GIF"), "bad_type"),
        (lambda: _upload("x.png", b"%PDF-1.4 not an image"), "bad_type"),  # PDF not allowed here
        (
            lambda: _upload("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
            "bad_type",
        ),
        (lambda: _upload("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50), "bad_file"),
        (lambda: _upload("x.png", b""), "empty"),
    ],
)
def test_refusals_have_a_code_and_a_chinese_message(upload, code):
    with pytest.raises(ValidationError) as info:
        upload_check(upload())
    assert info.value.code == code and all("\u4e00" <= ch <= "\u9fff" for ch in info.value.messages[0][:1])


def test_size_cap(settings):
    settings.UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as info:
        upload_check(make_image("PNG", size=(400, 400)))
    assert info.value.code == "too_large"


def test_pdf_only_where_allowed_and_must_parse():
    from pypdf import PdfWriter

    buffer = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(buffer)
    assert upload_check(_upload("a.pdf", buffer.getvalue()), allow_pdf=True).content_type == "application/pdf"
    with pytest.raises(ValidationError) as info:
        upload_check(_upload("a.pdf", b"%PDF-1.4 broken"), allow_pdf=True)
    assert info.value.code == "bad_file"


def test_polyglot_png_keeps_its_pixels_and_loses_the_script():
    checked = upload_check(polyglot_png())
    assert (
        checked.content_type == "image/png"
        and SCRIPT not in checked.content
        and b"<script" not in checked.content
    )
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.size == (40, 30) and image.getpixel((0, 0)) == (200, 30, 30)


def test_metadata_stripped_and_orientation_applied():
    # A 60×20 JPEG whose EXIF says "rotate 90°" and names the camera; a PNG with a text chunk.
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (10, 200, 10)).save(buffer, format="JPEG", exif=exif.tobytes())
    checked = upload_check(_upload("p.jpg", buffer.getvalue()))
    assert b"PhoneMaker" not in checked.content and b"Exif" not in checked.content
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.size == (20, 60) and not image.getexif()

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buffer, format="PNG", pnginfo=info)
    checked = upload_check(_upload("p.png", buffer.getvalue()))
    assert b"script" not in checked.content
    with Image.open(io.BytesIO(checked.content)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (12000, 12000), (8000, 5001)])
def test_images_above_the_pixel_cap_are_refused_from_their_header(width, height):
    with pytest.raises(ValidationError) as info:
        upload_check(bomb_png(width, height))
    assert info.value.code == "too_many_pixels" and "像素" in info.value.messages[0]


def test_pixel_cap_is_the_setting_and_pillows_own_warning_is_a_refusal(settings, monkeypatch):
    settings.UPLOAD_MAX_IMAGE_PIXELS = 100 * 100
    upload_check(make_image("PNG", size=(100, 100)))
    with pytest.raises(ValidationError) as info:
        upload_check(make_image("PNG", size=(101, 100)))
    assert info.value.code == "too_many_pixels"
    # Pillow's own bomb warning (between its cap and twice it) is also a refusal, not a log line.
    settings.UPLOAD_MAX_IMAGE_PIXELS = 10**9
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 50)
    with pytest.raises(ValidationError) as info:
        upload_check(make_image("PNG", size=(60, 60)))
    assert info.value.code == "too_many_pixels"


def test_pillows_cap_is_the_upload_cap(settings):
    assert Image.MAX_IMAGE_PIXELS == settings.UPLOAD_MAX_IMAGE_PIXELS == 40_000_000


def test_random_names_use_only_our_extensions():
    name = random_name("licences", "upload.png")
    assert name.startswith("licences/") and name.endswith(".png") and len(name.rsplit("/", 1)[1]) == 36
    assert random_name("x", "poly.html").endswith(".bin") and random_name("x", "a.svg").endswith(".bin")
    assert random_name("x", "upload.png") != random_name("x", "upload.png")


# -------------------------------------------------------------------------------------------- serving


def _stored(name: str, data: bytes) -> str:
    return default_storage.save(name, ContentFile(data))


def _assert_hardened(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == FILE_CSP
    assert response["Cache-Control"] == "private, no-store"


def test_an_old_polyglot_under_its_uploaders_name_is_served_as_an_image():
    name = _stored("certificates/2026/11/poly.html", polyglot_png().read())
    response = upload_response(name, download_name="certificate-1")
    assert response["Content-Type"] == "image/png"
    assert (
        response["Content-Disposition"].startswith("inline")
        and "certificate-1.png" in response["Content-Disposition"]
    )
    _assert_hardened(response)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "application/octet-stream",
        ),
        (b"<html><script>alert(1)</script></html>", "application/octet-stream"),
        (b"%PDF-1.4\n%...", "application/pdf"),
    ],
)
def test_anything_else_is_a_download(data, content_type):
    name = _stored("licences/2026/11/old.svg", data)
    response = upload_response(name, download_name="licence-9")
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment")
    _assert_hardened(response)


def test_the_file_csp_survives_a_site_csp_middleware_and_csp_exempt(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'"]}}
    name = _stored("evidence/2026/11/a.png", make_image().read())
    request = RequestFactory().get("/media/x")
    for view in (lambda r: upload_response(name), csp_exempt()(lambda r: upload_response(name))):
        response = CSPMiddleware(view)(request)
        assert response["Content-Security-Policy"] == FILE_CSP


def test_a_media_root_inside_a_served_directory_fails_the_system_check(settings):
    from core.checks import media_is_not_served_directly

    assert media_is_not_served_directly(None) == []
    settings.MEDIA_ROOT = settings.STATICFILES_DIRS[0] / "uploads"
    assert [e.id for e in media_is_not_served_directly(None)] == ["core.E001"]
    settings.MEDIA_ROOT = "/tmp/gigmarket-media"
    settings.WHITENOISE_ROOT = "/tmp"
    assert [e.id for e in media_is_not_served_directly(None)] == ["core.E001"]
