"""The jobs endpoints are in the OpenAPI schema (which must stay free of warnings: see
tests/accounts/test_api_schema.py), with their error responses and the PDF documented as a PDF."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_jobs_endpoints_are_documented(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]

    for path, method in [
        ("/api/v1/posts/", "get"),
        ("/api/v1/posts/{id}/", "get"),
        ("/api/v1/posts/{id}/claims/", "post"),
        ("/api/v1/my/posts/", "post"),
        ("/api/v1/my/posts/{id}/", "patch"),
        ("/api/v1/my/posts/{id}/publish/", "post"),
        ("/api/v1/my/posts/{id}/claims/", "get"),
        ("/api/v1/claims/{id}/accept/", "post"),
        ("/api/v1/me/orders/", "get"),
        ("/api/v1/my/orders/", "get"),
        ("/api/v1/orders/{id}/check-in/", "post"),
        ("/api/v1/orders/{id}/confirm-completion/", "post"),
        ("/api/v1/orders/{id}/contract/sign/", "post"),
        ("/api/v1/orders/{id}/ratings/", "post"),
        ("/api/v1/employers/{id}/blocks/", "post"),
        ("/api/v1/blocks/{id}/", "delete"),
        ("/api/v1/staff/posts/", "post"),
    ]:
        assert method in paths[path], path

    board = paths["/api/v1/posts/"]["get"]
    assert {"q", "trade", "area", "pay_unit", "pay_min", "date", "lat", "lng", "radius_km", "sort", "cursor",
            "limit"} <= {p["name"] for p in board["parameters"]}  # fmt: skip
    assert "400" in board["responses"]
    claim = paths["/api/v1/posts/{id}/claims/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(claim)
    pdf = paths["/api/v1/orders/{id}/contract.pdf"]["get"]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]
