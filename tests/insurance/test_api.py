"""The insurance API: the policy document for both sides and staff (404 for anyone else), 报案 as multipart,
claims seen by the insured worker and claim staff only, staff review endpoints behind their permission, the
dashboard figures, and the endpoints documented in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from insurance.models import AccidentClaim
from wallet import ledger

from .helpers import COVER, PREMIUM, at, bal, books_clean, pdf, png, report

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    client = APIClient()
    _, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_policy_document_for_both_sides(working, worker, boss, reviewer):
    url = reverse("api:order-policy", args=[working.pk])
    for who in (worker, boss, reviewer):
        data = api_as(who).get(url).json()
        assert data["policy_number"] == working.policy.policy_number and data["status"] == "active"
        assert data["insured"] == {"name": "赵洪亮", "id_masked": worker.realname.id_masked}
        assert (data["cover_fen"], data["premium_fen"], data["risk_class"]) == (COVER, PREMIUM, 4)
        assert data["policyholder"] == "马架龙建筑劳务公司" and data["trade"] == "架子工"
        assert data["cover_from"] and data["cover_to"] is None and len(data["how_to_claim"]) >= 3
        assert worker.realname.id_number not in str(data)
    assert api_as(worker).get(url).json()["can_report"] is True
    assert api_as(boss).get(url).json()["can_report"] is False


def test_policy_document_is_404_for_anyone_else(working, charlie, worker2, staff, publish, safe_trade):
    url = reverse("api:order-policy", args=[working.pk])
    for who in (charlie, worker2, staff):
        response = api_as(who).get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert APIClient().get(url).status_code == 401


def test_report_over_the_api_and_read_it_back(working, worker, boss, charlie):
    accident = working.starts_at + dt.timedelta(hours=2)
    with at(accident + dt.timedelta(minutes=20)):
        response = api_as(worker).post(
            reverse("api:order-policy-claims", args=[working.pk]),
            {"accident_at": accident.isoformat(), "place": "工地三号楼二层",
             "description": "搭架时从二层踩空摔下，左腿骨折", "documents": [png(), pdf()]},
            format="multipart",
        )  # fmt: skip
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "reported" and data["order"] == working.pk and len(data["documents"]) == 2
    assert data["documents"][1]["content_type"] == "application/pdf"
    claim_url = reverse("api:insurance-claim-detail", args=[data["id"]])
    assert api_as(worker).get(claim_url).json()["number"] == data["number"]
    listed = api_as(worker).get(reverse("api:me-insurance-claims")).json()["results"]
    assert [c["id"] for c in listed] == [data["id"]]
    for who in (boss, charlie):
        assert api_as(who).get(claim_url).status_code == 404
        assert api_as(who).get(reverse("api:me-insurance-claims")).json()["results"] == []
    # The document link works with the worker's token, and not with someone else's.
    link = data["documents"][0]["url"]
    assert api_as(worker).get(link).status_code == 200
    assert api_as(charlie).get(link).status_code == 404


def test_report_refusals_over_the_api(working, issued, worker, boss, charlie):
    url = reverse("api:order-policy-claims", args=[working.pk])
    body = {"accident_at": timezone.now().isoformat(), "place": "工地", "description": "摔伤了腿，去了医院看"}
    response = api_as(worker).post(url, {**body, "documents": []}, format="multipart")
    assert response.status_code == 400 and "documents" in response.json()["fields"]
    response = api_as(boss).post(url, {**body, "documents": [png()]}, format="multipart")
    assert response.status_code == 403 and response.json()["detail"] == "只能为自己的订单报案"
    assert api_as(charlie).post(url, {**body, "documents": [png()]}, format="multipart").status_code == 404
    assert not AccidentClaim.objects.exists()


def test_staff_review_endpoints(working, worker, reviewer, clerk):
    claim = report(working, worker)
    review = reverse("api:staff-insurance-claim-review", args=[claim.pk])
    approve = reverse("api:staff-insurance-claim-approve", args=[claim.pk])
    # Staff without the review permission, and the worker, are refused.
    for who in (clerk, worker):
        assert api_as(who).post(review).status_code == 403
    assert api_as(reviewer).post(review).json()["status"] == "under_review"
    response = api_as(reviewer).post(approve, {"payout_fen": COVER + 1}, format="json")
    assert response.status_code == 400 and response.json()["fields"] == {
        "payout": [response.json()["detail"]]
    }
    assert api_as(reviewer).post(approve, {"payout_fen": 0}, format="json").status_code == 400
    data = api_as(reviewer).post(approve, {"payout_fen": 880_00, "note": "医疗费"}, format="json").json()
    assert data["status"] == "approved" and data["payout_fen"] == 880_00
    assert bal(ledger.worker_account(worker)) == 880_00 and books_clean()
    again = api_as(reviewer).post(approve, {"payout_fen": 880_00}, format="json")
    assert again.status_code == 409 and bal(ledger.worker_account(worker)) == 880_00
    assert (
        api_as(reviewer).post(reverse("api:staff-insurance-claim-review", args=[999999])).status_code == 404
    )


def test_staff_reject_endpoint_needs_a_reason(working, worker, reviewer):
    claim = report(working, worker)
    url = reverse("api:staff-insurance-claim-reject", args=[claim.pk])
    assert api_as(reviewer).post(url, {"reason": ""}, format="json").status_code == 400
    assert api_as(reviewer).post(url, {"reason": "材料不全"}, format="json").json()["status"] == "rejected"


def test_summary_endpoint(working, reviewer, clerk):
    url = reverse("api:staff-insurance-summary")
    params = {
        "since": (timezone.now() - dt.timedelta(days=1)).isoformat(),
        "until": (timezone.now() + dt.timedelta(days=1)).isoformat(),
    }
    data = api_as(reviewer).get(url, params).json()
    assert data["orders"] == 1 and data["insured_orders"] == 1 and data["insured_share"] == 1.0
    assert data["policies_by_status"]["active"] == 1 and data["premiums_fen"] == PREMIUM
    assert api_as(clerk).get(url, params).status_code == 403
    bad = api_as(reviewer).get(url, {**params, "until": params["since"]})
    assert bad.status_code == 400 and "until" in bad.json()["fields"]


def test_insurance_endpoints_are_documented(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path, method in [
        ("/api/v1/orders/{id}/policy/", "get"),
        ("/api/v1/orders/{id}/policy/claims/", "post"),
        ("/api/v1/me/insurance-claims/", "get"),
        ("/api/v1/insurance-claims/{id}/", "get"),
        ("/api/v1/staff/insurance-claims/{id}/review/", "post"),
        ("/api/v1/staff/insurance-claims/{id}/approve/", "post"),
        ("/api/v1/staff/insurance-claims/{id}/reject/", "post"),
        ("/api/v1/staff/insurance/summary/", "get"),
    ]:
        assert method in paths[path], path
    report_op = paths["/api/v1/orders/{id}/policy/claims/"]["post"]
    assert "multipart/form-data" in report_op["requestBody"]["content"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(report_op["responses"])
