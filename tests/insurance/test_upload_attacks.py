"""Issue #22, items 3 and 4 for claim documents: a polyglot PNG named .html and a decompression-bomb header,
on the page and through the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from insurance.models import AccidentClaim, ClaimDocument
from tests.conftest import SCRIPT, bomb_png, polyglot_png

from .helpers import at
from .test_api import api_as
from .test_pages import local_input

pytestmark = pytest.mark.django_db
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'"


def _report_page(client, order, documents):
    accident = order.starts_at + dt.timedelta(hours=2)
    with at(accident + dt.timedelta(hours=1)):
        return client.post(
            reverse("insurance:claim_create", args=[order.pk]),
            {"accident_at": local_input(accident), "place": "工地三号楼二层",
             "description": "搭架时从二层踩空摔下，左腿骨折，送市第一医院", "documents": documents},
        )  # fmt: skip


@pytest.mark.parametrize("name", ["poly.html", "poly.svg"])
def test_polyglot_document_is_stored_clean_and_served_as_an_image(client, working, worker, name):
    client.force_login(worker)
    assert _report_page(client, working, [polyglot_png(name)]).status_code == 302
    doc = ClaimDocument.objects.get()
    assert re.fullmatch(r"insurance-claims/\d{4}/\d{2}/[0-9a-f]{32}\.png", doc.file.name), doc.file.name
    with default_storage.open(doc.file.name, "rb") as handle:
        assert SCRIPT not in handle.read()
    response = client.get(reverse("insurance:claim_document", args=[doc.claim_id, doc.pk]))
    assert response["Content-Type"] == "image/png" and response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"] == FILE_CSP and response["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in b"".join(response.streaming_content)


def test_bomb_document_on_the_page_is_a_field_error(client, working, worker):
    client.force_login(worker)
    response = _report_page(client, working, [bomb_png()])
    assert response.status_code == 400
    assert "像素" in " ".join(response.context["form"].errors["documents"])
    assert not AccidentClaim.objects.exists() and not ClaimDocument.objects.exists()


def test_bomb_document_through_the_api_is_a_structured_400(working, worker):
    accident = working.starts_at + dt.timedelta(hours=2)
    with at(accident + dt.timedelta(minutes=20)):
        response = api_as(worker).post(
            reverse("api:order-policy-claims", args=[working.pk]),
            {"accident_at": accident.isoformat(), "place": "工地三号楼二层",
             "description": "搭架时从二层踩空摔下，左腿骨折", "documents": [bomb_png(12000, 12000)]},
            format="multipart",
        )  # fmt: skip
    assert response.status_code == 400 and "像素" in response.json()["fields"]["documents"][0]
    assert not AccidentClaim.objects.exists()
