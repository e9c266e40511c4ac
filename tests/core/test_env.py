import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from gigmarket.checks import environment_names_are_known
from gigmarket.env import Env, env, known_variables


def test_env_reads_typed_values(monkeypatch):
    monkeypatch.setenv("GIGMARKET_DEBUG", "false")
    monkeypatch.setenv("GIGMARKET_ALLOWED_HOSTS", "gig.example.cn, www.gig.example.cn")
    monkeypatch.setenv("GIGMARKET_LOGIN_FAILURE_LIMIT", "7")
    e = Env()
    assert e.debug is False and e.allowed_hosts == ["gig.example.cn", "www.gig.example.cn"]
    assert e.login_failure_limit == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GIGMARKET_DEBUG", "maybe"),
        ("GIGMARKET_LOGIN_FAILURE_LIMIT", "0"),
        ("GIGMARKET_SMS_BACKEND", "pigeon"),
        ("GIGMARKET_IDENTITY_VERIFIER", "psychic"),
    ],
)
def test_env_refuses_malformed_values_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    env.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match=name):
            env()
    finally:
        env.cache_clear()


ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"GIGMARKET_[A-Z0-9_]*[A-Z0-9]")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]


def test_every_variable_named_in_the_readme_and_docs_exists():
    """A shorthand such as ``_COOLOFF_MINUTES`` or a name that no setting reads would be set and then
    silently ignored: every ``GIGMARKET_*`` word in the docs must be a field of :class:`Env`."""
    known = known_variables()
    unknown = {
        f"{doc.relative_to(ROOT)}: {name}"
        for doc in _documents()
        if doc.exists()
        for name in NAME.findall(doc.read_text(encoding="utf-8"))
        if name not in known
    }
    assert not unknown, sorted(unknown)
    # No suffix-only shorthand beside a variable (`GIGMARKET_X_URL` / `_KEY`): a name nobody can set.
    shorthand = [
        f"{doc.relative_to(ROOT)}: {line.strip()[:80]}"
        for doc in _documents()
        if doc.exists()
        for line in doc.read_text(encoding="utf-8").splitlines()
        if "GIGMARKET_" in line and re.search(r"`_[A-Z][A-Z0-9_]*`", line)
    ]
    assert not shorthand, shorthand


def test_the_readme_table_names_every_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert known_variables() <= set(NAME.findall(readme))


def test_the_name_check_catches_the_shorthand_it_replaced():
    # The README's old shorthand, taken literally, must fail the documentation test above.
    assert "GIGMARKET_COOLOFF_MINUTES" not in known_variables()
    assert "GIGMARKET_LOGIN_COOLOFF_MINUTES" in known_variables()


def test_an_unknown_variable_is_reported_at_start_up_with_the_closest_name(monkeypatch):
    monkeypatch.setenv("GIGMARKET_COOLOFF_MINUTES", "30")
    monkeypatch.setenv("GIGMARKET_SMS_ACESS_KEY_ID", "LTAI")
    monkeypatch.setenv("GIGMARKET_LOGIN_FAILURE_LIMIT", "5")  # a real one: not reported
    warnings = {w.msg.split(" ")[0]: w for w in environment_names_are_known(None)}
    assert set(warnings) == {"GIGMARKET_COOLOFF_MINUTES", "GIGMARKET_SMS_ACESS_KEY_ID"}
    assert all(w.id == "gigmarket.W001" and w.level == checks.WARNING for w in warnings.values())
    assert "GIGMARKET_LOGIN_COOLOFF_MINUTES" in warnings["GIGMARKET_COOLOFF_MINUTES"].hint
    assert "GIGMARKET_SMS_ACCESS_KEY_ID" in warnings["GIGMARKET_SMS_ACESS_KEY_ID"].hint
    # The value never appears in the report (it may be a secret).
    assert "LTAI" not in str(warnings["GIGMARKET_SMS_ACESS_KEY_ID"])


def test_the_warning_reaches_manage_py_check(monkeypatch):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GIGMARKET_")}
    environ.update(DJANGO_SETTINGS_MODULE="gigmarket.settings.test", GIGMARKET_SMS_BACKNED="console")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "gigmarket.W001" in result.stderr + result.stdout
    assert "GIGMARKET_SMS_BACKNED" in result.stderr + result.stdout
    assert "GIGMARKET_SMS_BACKEND" in result.stderr + result.stdout


def test_no_warning_when_every_name_is_known(monkeypatch):
    for name in list(os.environ):
        if name.startswith("GIGMARKET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GIGMARKET_SITE_URL", "https://gig.example.cn")
    assert environment_names_are_known(None) == []
