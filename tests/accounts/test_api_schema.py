"""The OpenAPI schema is valid without a single warning, and the docs page needs no CDN."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["info"]["title"] == "gigmarket API"
    paths = schema["paths"]
    for path in [
        "/api/v1/auth/codes/",
        "/api/v1/auth/login/",
        "/api/v1/me/realname/",
        "/api/v1/employers/{id}/members/{member_id}/",
        "/api/v1/staff/realnames/{id}/unmask/",
        "/api/v1/staff/assisted-registrations/confirm/",
    ]:
        assert path in paths
    # The token scheme is documented, and no output schema carries a full ID number.
    assert "knoxApiToken" in schema["components"]["securitySchemes"]
    outputs = {name: s for name, s in schema["components"]["schemas"].items() if not name.endswith("Request")}
    carriers = {name for name, s in outputs.items() if "id_number" in s.get("properties", {})}
    assert carriers == {"FullIdNumber"}


def test_schema_endpoint_serves_json():
    response = APIClient().get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/auth/login/" in response.json()["paths"]


def test_docs_page_uses_the_bundled_swagger_ui_not_a_cdn():
    response = APIClient().get(reverse("api:docs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    # Nothing is fetched from another host (no jsdelivr/unpkg/cdnjs): the hall's network may be closed.
    assert re.findall(r"https?://[^/\"'\s]+", html) == []
    # The start-up script is a second request to the same view (nothing inline, for the CSP).
    start = APIClient().get(reverse("api:docs"), {"script": ""})
    assert start["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in start.content.decode()
