"""Evidence files: a JPEG or PNG photo, or a PDF, under the size cap. The bytes decide, not the name: the
first bytes must be the format's signature, an image must decode, a PDF must parse, and the name's
extension must agree with what the bytes are."""

from __future__ import annotations

import hashlib
import io
from pathlib import PurePath

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from core.errors import DomainError

SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"%PDF-": "application/pdf",
}
EXTENSIONS = {"image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"}, "application/pdf": {".pdf"}}
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


def evidence_check(upload) -> tuple[str, str]:
    """Return (content type, sha256) of a valid evidence file; raise DomainError(field="file") otherwise."""
    if upload is None:
        raise DomainError("请选择要上传的文件", field="file", code="required")
    limit = settings.DISPUTES_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise DomainError(f"文件不能超过{limit // (1024 * 1024)}MB", field="file", code="too_large")
    if upload.size == 0:
        raise DomainError("文件是空的", field="file", code="empty")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    content_type = next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)
    if content_type is None:
        raise DomainError("只接受 JPG、PNG 照片或 PDF 文件", field="file", code="bad_type")
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in EXTENSIONS[content_type]:
        raise DomainError("文件扩展名与文件内容不符，请上传原始的照片或PDF", field="file", code="bad_type")
    if content_type in PIL_FORMATS:
        try:
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise DomainError("照片已损坏，无法打开", field="file", code="bad_file") from exc
        if fmt != PIL_FORMATS[content_type]:
            raise DomainError("只接受 JPG、PNG 照片或 PDF 文件", field="file", code="bad_type")
    else:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            pages = len(PdfReader(io.BytesIO(data)).pages)
        except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
            raise DomainError("PDF 已损坏，无法打开", field="file", code="bad_file") from exc
        if pages < 1:
            raise DomainError("PDF 没有内容", field="file", code="bad_file")
    return content_type, hashlib.sha256(data).hexdigest()
