import pytest
from django.core.exceptions import ImproperlyConfigured

from gigmarket.env import Env, env


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
