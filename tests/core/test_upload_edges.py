"""Uploads at their edges (core.uploads): broken images behind a valid signature (a truncated JPEG or PNG,
a PNG whose header checksum is wrong, a header Pillow cannot make sense of), random bytes under an image's
name, and the size limit to the byte: exactly the limit is accepted, one byte more is refused with the
Chinese message, whether or not the upload says its size, and on a page as a field error (not a 500)."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Certificate
from core.uploads import upload_check
from tests.conftest import make_image
from tests.factories import CertificateTypeFactory

LIMIT = 5 * 1024 * 1024
BROKEN = "图片已损坏，无法打开"
NOT_AN_IMAGE = "文件不是有效的图片，请上传 JPG 或 PNG 照片"
TOO_LARGE = "文件不能超过5MB"


def refusal(upload, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        upload_check(upload, **kwargs)
    return info.value.code, info.value.messages[0]


def named(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def image_bytes(fmt: str, size=(200, 150)) -> bytes:
    """A photo with detail (noise), so its compressed data is long enough to cut in the middle."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(header: bytes, *, crc: int | None = None) -> bytes:
    """A 2×2 PNG (black, RGB, 8 bits) under ``header``, its IHDR checksum ``crc`` if given."""
    rows = zlib.compress((b"\x00" + b"\x00" * 6) * 2)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header, crc)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------------------------- broken images


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_image_with_a_valid_signature_is_broken_not_a_500(fmt):
    whole = image_bytes(fmt)
    assert upload_check(named("a.jpg", whole)).size > 0  # the whole file is fine
    assert refusal(named("a.jpg", whole[: len(whole) // 2])) == ("bad_file", BROKEN)


@pytest.mark.parametrize("head", [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"])
def test_a_signature_followed_by_noise_is_broken(head):
    noise = random.Random(3).randbytes(4000)
    assert refusal(named("a.jpg", head + noise)) == ("bad_file", BROKEN)


def test_a_png_header_with_a_wrong_checksum_is_broken():
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    assert upload_check(named("a.png", png(header))).content_type == "image/png"  # the same, intact
    bad_crc = zlib.crc32(b"IHDR" + header) ^ 1
    assert refusal(named("a.png", png(header, crc=bad_crc))) == ("bad_file", BROKEN)


@pytest.mark.parametrize(
    "header",
    [
        struct.pack(">IIBBBBB", 2, 2, 3, 2, 0, 0, 0),  # 3 bits per RGB sample: no such PNG
        struct.pack(">IIBBBBB", 2, 2, 8, 5, 0, 0, 0),  # colour type 5 does not exist
        struct.pack(">IIBBBB", 2, 2, 8, 2, 0, 0),  # IHDR one byte short
    ],
)
def test_a_png_header_pillow_cannot_read_is_broken(header):
    assert refusal(named("a.png", png(header))) == ("bad_file", BROKEN)


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo"])
def test_random_bytes_under_an_image_name_are_not_an_image(name):
    noise = random.Random(11).randbytes(3000)
    assert not noise.startswith((b"\xff\xd8\xff", b"\x89PNG", b"%PDF-"))
    assert refusal(named(name, noise)) == ("bad_type", NOT_AN_IMAGE)
    assert refusal(named(name, noise), allow_pdf=True) == ("bad_type", "不是 JPG、PNG 图片或 PDF 文件")


# ------------------------------------------------------------------------------------------ the limit


def padded_png(total: int) -> bytes:
    """A valid PNG followed by zeros up to ``total`` bytes (Pillow stops at IEND; the bytes after it are
    what a size check counts and what re-encoding drops)."""
    data = make_image("PNG").read()
    return data + b"\x00" * (total - len(data))


class Unsized(io.BytesIO):
    """An upload that does not say its size: only reading it tells."""


@pytest.fixture
def limit(settings):
    settings.UPLOAD_MAX_BYTES = LIMIT
    return LIMIT


def test_exactly_the_limit_is_accepted_one_byte_more_is_refused(limit):
    assert upload_check(named("a.png", padded_png(limit))).content_type == "image/png"
    assert refusal(named("a.png", padded_png(limit + 1))) == ("too_large", TOO_LARGE)


def test_the_limit_holds_for_an_upload_that_does_not_say_its_size(limit):
    assert upload_check(Unsized(padded_png(limit))).content_type == "image/png"
    assert refusal(Unsized(padded_png(limit + 1))) == ("too_large", TOO_LARGE)


def test_an_upload_that_understates_its_size_is_measured(limit):
    liar = named("a.png", padded_png(limit + 1))
    liar.size = 10
    assert refusal(liar) == ("too_large", TOO_LARGE)


def test_a_callers_own_limit_replaces_the_setting(limit):
    assert upload_check(named("a.png", padded_png(2 * limit)), max_bytes=2 * limit).size > 0
    assert refusal(named("a.png", padded_png(2 * limit + 1)), max_bytes=2 * limit) == (
        "too_large",
        "文件不能超过10MB",
    )


@pytest.mark.django_db
def test_a_photo_one_byte_over_the_limit_is_a_field_error_on_the_page(client, alice, limit):
    cert_type = CertificateTypeFactory()

    def send(data: bytes):
        return client.post(
            reverse("accounts:certificates"),
            {
                "cert_type": cert_type.pk,
                "number": "T350402197506151234",
                "image": SimpleUploadedFile("cert.png", data, content_type="image/png"),
                "issued_on": "2024-01-01",
                "expires_on": "2030-01-01",
            },
        )

    client.force_login(alice)
    response = send(padded_png(limit + 1))
    page = response.content.decode()
    assert response.status_code == 200 and 'id="id_image_error"' in page and TOO_LARGE in page
    assert not Certificate.objects.exists()
    assert send(padded_png(limit)).status_code == 302
    assert Certificate.objects.get(user=alice).image
