"""Issue #22, items 3 and 4 for dispute evidence: a polyglot PNG and a decompression-bomb header, on the
filing page, the evidence page and the API; what is stored and how it is served."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from disputes import services
from disputes.models import Case, Evidence
from jobs.models import Order
from tests.conftest import SCRIPT, bomb_png, polyglot_png
from tests.disputes.conftest import PAY

pytestmark = pytest.mark.django_db
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'"


@pytest.fixture
def case(order, worker):
    return services.case_file(actor=worker, order=order, category="wage_arrears",
                              description="干完活老板不给钱，电话不接", amount_claimed_fen=PAY)  # fmt: skip


def test_polyglot_evidence_is_stored_clean_under_a_server_name_and_served_as_an_image(client, case, worker):
    client.force_login(worker)
    response = client.post(
        reverse("disputes:evidence_upload", args=[case.pk]), {"file": polyglot_png("欠条.png")}
    )
    assert response.status_code == 302
    item = Evidence.objects.get()
    assert re.fullmatch(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.png", item.file.name)
    with default_storage.open(item.file.name, "rb") as handle:
        stored = handle.read()
    assert SCRIPT not in stored and item.size == len(stored)
    response = client.get(reverse("disputes:evidence_file", args=[item.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/png" and response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"] == FILE_CSP and response["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in body


@pytest.mark.parametrize("name", ["poly.html", "poly.svg"])
def test_polyglot_named_as_a_page_is_refused(client, case, worker, name):
    client.force_login(worker)
    response = client.post(reverse("disputes:evidence_upload", args=[case.pk]), {"file": polyglot_png(name)})
    assert response.status_code == 400 and "file" in response.context["evidence_form"].errors
    assert not Evidence.objects.exists()


def test_bomb_on_the_filing_page_is_a_field_error(client, order, worker):
    client.force_login(worker)
    for bomb in (bomb_png(30000, 30000), bomb_png(12000, 12000)):
        response = client.post(reverse("disputes:file", args=[order.pk]), {
            "category": "wage_arrears", "amount_claimed": "200", "description": "干完活老板不给钱", "evidence": bomb,
        })  # fmt: skip
        assert response.status_code == 400
        assert "像素" in " ".join(response.context["form"].errors["evidence"])
    assert not Case.objects.exists() and Order.objects.get(pk=order.pk).status == "checked_out"


def test_bomb_on_the_evidence_page_and_the_desk_is_a_field_error(client, case, worker, case_staff, mediator):
    client.force_login(worker)
    response = client.post(reverse("disputes:evidence_upload", args=[case.pk]), {"file": bomb_png()})
    assert response.status_code == 400
    assert "像素" in " ".join(response.context["evidence_form"].errors["file"])
    services.case_accept(case=case, actor=case_staff, mediator=mediator)
    client.force_login(mediator)
    response = client.post(
        reverse("disputes:desk_evidence", args=[case.pk]), {"file": bomb_png(12000, 12000)}
    )
    assert response.status_code == 400 and "像素" in response.content.decode()
    assert not Evidence.objects.exists()


def test_bomb_through_the_api_is_a_structured_400(case, worker):
    api = APIClient()
    api.force_authenticate(worker)
    response = api.post(
        f"/api/v1/disputes/cases/{case.pk}/evidence/", {"file": bomb_png()}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_many_pixels" and "像素" in body["fields"]["file"][0]
    assert not Evidence.objects.exists()
