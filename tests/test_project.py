"""The deployment shape: docker-compose services, production settings, health check, protected uploads."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.conftest import make_image

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_every_service_with_health_checks_and_volumes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "events", "worker", "worker-codes", "beat", "db", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    assert "gunicorn gigmarket.wsgi:application" in services["web"]["command"]
    # The live streams: uvicorn on the ASGI entry point, beside gunicorn (docs/live.md).
    assert services["events"]["command"].startswith("uvicorn gigmarket.asgi:application ")
    assert services["worker"]["command"].startswith("celery -A gigmarket worker -Q celery,codes")
    # one-time codes have a worker of their own, so a login code never waits behind a digest
    assert services["worker-codes"]["command"].startswith("celery -A gigmarket worker -Q codes ")
    assert services["beat"]["command"].startswith("celery -A gigmarket beat")
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert any("pgdata:" in v for v in services["db"]["volumes"])
    assert any("redisdata:" in v for v in services["redis"]["volumes"])
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    for name in ("web", "events", "worker", "worker-codes", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "gigmarket.settings.production"
        assert env["GIGMARKET_CELERY_EAGER"] == "false"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    assert (ROOT / "Dockerfile").exists()


def _production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIGMARKET_")}
    env.update(
        DJANGO_SETTINGS_MODULE="gigmarket.settings.production",
        GIGMARKET_SECRET_KEY="p" * 20 + "Q8#kd93-jd0!xk2m4ls9dkf0293jdkalq",
        GIGMARKET_ALLOWED_HOSTS="gig.example.cn",
        GIGMARKET_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        GIGMARKET_BLIND_INDEX_KEY="b" * 40,
        GIGMARKET_REDIS_URL="redis://127.0.0.1:6379/3",
        GIGMARKET_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "extra"),
    [
        ("GIGMARKET_SECRET_KEY", {}),
        ("GIGMARKET_FIELD_ENCRYPTION_KEYS", {}),
        ("", {"GIGMARKET_DEBUG": "true"}),
        ("", {"GIGMARKET_PAYMENT_GATEWAY": "http"}),
        ("", {"GIGMARKET_INSURER_BACKEND": "http"}),
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, extra):
    env = _production_env(**extra)
    env.pop(missing, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_uploaded_licence_only_for_members_and_reviewers(client, alice, charlie, staff):
    from accounts import services

    employer = services.employer_register(
        user=alice,
        kind="company",
        name="测试公司",
        uscc="91110000600037341L",
        legal_representative="陈",
        licence_image=make_image(),
    )
    url = f"/media/{employer.licence_image.name}"
    assert client.get(url).status_code == 302  # to login
    client.force_login(charlie)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    client.force_login(staff)
    assert client.get(url).status_code == 200
    assert client.get("/media/../gigmarket/settings/base.py").status_code == 404
    client.logout()
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=alice)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    _, token = AuthToken.objects.create(user=charlie)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 404


@pytest.mark.django_db
def test_pages_are_chinese_whatever_the_browser_asks(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in response.content.decode() and "Log in" not in response.content.decode()
