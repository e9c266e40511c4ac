"""Uploaded files, in and out. Every upload on the platform (licences, certificates, dispute evidence,
claim documents) passes :func:`upload_check`; every stored upload leaves through :func:`upload_response`.

In: the bytes decide, never the name. A JPEG or PNG is decoded and re-encoded by Pillow, so what is kept is
pixels only: bytes appended after the image (``<script>`` in a PNG polyglot), EXIF (GPS position, camera
serial) and text chunks are gone, and the EXIF orientation is applied first so the picture stands the way
it was taken. A PDF (where allowed) must parse. An image above ``UPLOAD_MAX_IMAGE_PIXELS`` is refused from
its header, before anything is decoded (a 370-byte PNG can declare 30000×30000 = 2.7 GB of pixels). The
caller stores the result under a name the server chooses: random, with the extension of the detected type.

Out: the type is sniffed again from the stored bytes (so files stored before these rules, under the names
their uploaders chose, are served the same safe way), sent with that type, ``nosniff``, a sandboxing CSP,
``private, no-store``, and as an attachment unless it is an image shown inline.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PdfStreamError

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
PIL_TYPES = {"JPEG": JPEG, "PNG": PNG}
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))
# Served on every stored file: no script runs and nothing loads, even if a browser renders the file as a
# page; an image may still show itself.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'"
FILE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


@dataclass(frozen=True)
class CheckedUpload:
    """An accepted upload: the bytes to store (re-encoded for an image) and what they are."""

    content: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def is_image(self) -> bool:
        return self.content_type in (JPEG, PNG)

    def as_file(self) -> ContentFile:
        """A file to assign to a FileField; its name only carries the extension (``upload_to`` picks the
        rest, see :func:`random_name`)."""
        return ContentFile(self.content, name=f"upload.{self.extension}")


def random_name(prefix: str, filename: str) -> str:
    """``<prefix>/YYYY/MM/<32 hex>.<ext>``: the server's name for a stored upload. ``filename`` is the
    checked file's (``upload.png``); an extension that is not one we produce becomes ``bin``."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in EXTENSIONS.values():
        ext = "bin"
    return f"{prefix}/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{ext}"


def sniff(head: bytes) -> str | None:
    """The type the first bytes announce (PNG, JPEG, PDF), or None."""
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _wrong_type(allow_pdf: bool) -> ValidationError:
    if allow_pdf:
        return _refuse("不是 JPG、PNG 图片或 PDF 文件", "bad_type")
    return _refuse("文件不是有效的图片，请上传 JPG 或 PNG 照片", "bad_type")


def upload_check(upload, *, allow_pdf: bool = False, max_bytes: int | None = None) -> CheckedUpload:
    """Check an uploaded file and return what to store; raise ``ValidationError`` (message in Chinese,
    ``code`` one of required, empty, too_large, bad_type, bad_file, too_many_pixels) otherwise."""
    if upload is None:
        raise _refuse("请选择要上传的文件" if allow_pdf else "请上传图片", "required")
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(f"文件不能超过{limit // (1024 * 1024)}MB", "too_large")
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        raise _refuse(f"文件不能超过{limit // (1024 * 1024)}MB", "too_large")
    if not data:
        raise _refuse("文件是空的", "empty")
    kind = sniff(data)
    if kind == PDF:
        if not allow_pdf:
            raise _wrong_type(allow_pdf)
        _check_pdf(data)
        return CheckedUpload(content=data, content_type=PDF)
    content = _reencode(data, announced=kind, allow_pdf=allow_pdf)
    return CheckedUpload(content=content, content_type=sniff(content) or JPEG)


def _check_pdf(data: bytes) -> None:
    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, PdfStreamError, KeyError, TypeError, *FILE_ERRORS) as exc:
        raise _refuse("PDF 已损坏，无法打开", "bad_file") from exc
    if pages < 1:
        raise _refuse("PDF 没有内容", "bad_file")


def _too_many_pixels() -> ValidationError:
    wan = settings.UPLOAD_MAX_IMAGE_PIXELS // 10_000  # 万 pixels: 40 MP is 4000万
    return _refuse(f"图片像素太大（超过{wan}万像素），请用手机正常模式拍照或缩小后再上传", "too_many_pixels")


def _reencode(data: bytes, *, announced: str | None, allow_pdf: bool) -> bytes:
    """Decode a JPEG/PNG and encode its pixels again, without metadata; refuse anything else."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; here a warning is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=tuple(PIL_TYPES)) as image:
                if image.width * image.height > settings.UPLOAD_MAX_IMAGE_PIXELS:
                    raise _too_many_pixels()
                fmt = image.format
                image.load()
                upright = ImageOps.exif_transpose(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels() from exc
        except UnidentifiedImageError as exc:
            if announced is not None:  # a PNG/JPEG signature, then nothing Pillow can read
                raise _refuse("图片已损坏，无法打开", "bad_file") from exc
            raise _wrong_type(allow_pdf) from exc
        except FILE_ERRORS as exc:
            raise _refuse("图片已损坏，无法打开", "bad_file") from exc
    transparency = upright.info.get("transparency")
    upright.info.clear()  # EXIF, ICC, XMP, PNG text chunks: none of it is kept
    out = io.BytesIO()
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, format="JPEG", quality=90)
    else:
        if upright.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            upright = upright.convert("RGBA")
        extra = {"transparency": transparency} if transparency is not None else {}
        upright.save(out, format="PNG", **extra)
    return out.getvalue()


# -------------------------------------------------------------------------------------------- serving


def upload_response(name: str, *, download_name: str = "file") -> FileResponse:
    """A stored upload for a viewer the caller has already checked. The type comes from the stored bytes,
    never from the name or a database column; an unknown type is an ``octet-stream`` download."""
    if not name or not default_storage.exists(name):
        raise Http404("文件不存在")
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    kind = sniff(handle.read(8))
    handle.seek(0)
    inline = kind in (JPEG, PNG)
    content_type = kind or "application/octet-stream"
    filename = f"{download_name}.{EXTENSIONS.get(kind, 'bin')}"
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=filename)
    harden_file_response(response)
    return response


def harden_file_response(response):
    """The headers every file response carries. The CSP is set here, on the response, so a site-wide CSP
    middleware (which leaves an existing header alone) or a ``csp_exempt`` view still sends it."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
