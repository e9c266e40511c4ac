"""Evidence files: a JPEG or PNG photo, or a PDF, under the size cap, checked by the shared upload check
(:func:`core.uploads.upload_check`: the bytes decide, photos are re-encoded, oversized images refused from
their header). Evidence adds one rule of its own: the name's extension must agree with what the bytes are,
so a party is not surprised by what the other side and the mediator see. The stored name is the server's."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from core.errors import DomainError
from core.uploads import CheckedUpload, upload_check

EXTENSIONS = {"image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"}, "application/pdf": {".pdf"}}


def evidence_check(upload) -> CheckedUpload:
    """The evidence to store (re-encoded if a photo); raise DomainError(field="file") otherwise."""
    try:
        checked = upload_check(upload, allow_pdf=True, max_bytes=settings.DISPUTES_EVIDENCE_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file", code=exc.code) from exc
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in EXTENSIONS[checked.content_type]:
        raise DomainError("文件扩展名与文件内容不符，请上传原始的照片或PDF", field="file", code="bad_type")
    return checked
