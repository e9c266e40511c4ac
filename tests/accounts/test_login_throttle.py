"""Throttling by client address as well as by number (issue 22, item 6).

The attack: 102 wrong passwords over 34 numbers from one client, all processed, every number then locked.
Now the address waits after its limit (429, Retry-After, 「请稍后再试（N 秒）」), its further attempts touch no
number, the sprayed workers still sign in by SMS code, a hall's kiosk address serves many people, and
honest users elsewhere never notice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Gig-pass-2026"  # tests/factories.py
SPRAYER = "203.0.113.66"
HONEST = "198.51.100.7"
KIOSK = "10.20.0.31"
T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


def workers(n: int) -> list[User]:
    return [UserFactory(phone=f"1370000{i:04d}", name=f"工人{i}") for i in range(n)]


def web_password(client: Client, phone: str, password: str, address: str):
    return client.post(
        reverse("accounts:login"),
        {"way": "password", "phone": phone, "password": password},
        REMOTE_ADDR=address,
    )


def web_code_login(client: Client, phone: str, code: str, address: str):
    return client.post(
        reverse("accounts:login"), {"way": "code", "phone": phone, "code": code}, REMOTE_ADDR=address
    )


def request_code(phone: str, address: str):
    return Client().post(reverse("accounts:send_code", args=["login"]), {"phone": phone}, REMOTE_ADDR=address)


def failures_recorded() -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.all())


@time_machine.travel(T0, tick=False)
def test_password_spraying_from_one_address_is_throttled_and_locks_no_number(outbox):
    people = workers(34)
    limit, window = settings.LOGIN_ADDRESS_FAILURES["password"]
    attacker = Client()
    statuses = []
    for round_ in range(3):  # 102 attempts: 3 wrong passwords for each of 34 numbers
        for person in people:
            response = web_password(attacker, person.phone, f"guess-{round_}", SPRAYER)
            statuses.append(response.status_code)
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert statuses[limit - 1] == 429  # the failure that reaches the limit starts the wait
    assert set(statuses[limit:]) == {429}
    assert response["Retry-After"] == str(window)
    assert re.search(r"请稍后再试（\d+ 秒）", response.content.decode())
    # Only the attempts before the wait were processed: no number reached the lock-out.
    assert failures_recorded() == limit
    assert not any(a.failures_since_start >= settings.AXES_FAILURE_LIMIT for a in AccessAttempt.objects.all())

    # Every sprayed worker signs in: by password from home, by SMS code even from the sprayer's network.
    for person in people[:3] + people[-3:]:
        assert web_password(Client(), person.phone, PASSWORD, HONEST).status_code == 302
    for person in people[:3]:
        assert request_code(person.phone, SPRAYER).status_code == 200
        assert web_code_login(Client(), person.phone, outbox.code(person.phone), SPRAYER).status_code == 302

    # A slow-down, not a lock: once the window has passed the address may try again.
    with time_machine.travel(T0 + dt.timedelta(seconds=window + 1), tick=False):
        assert web_password(attacker, people[0].phone, "guess-again", SPRAYER).status_code == 200


@time_machine.travel(T0, tick=False)
def test_sprayed_numbers_locked_for_passwords_still_sign_in_by_code(outbox):
    """Even a number that did reach the lock-out (wrong passwords from many addresses) keeps code login."""
    (worker,) = workers(1)
    for i in range(settings.AXES_FAILURE_LIMIT):
        web_password(Client(), worker.phone, f"guess-{i}", f"192.0.2.{i + 1}")
    assert web_password(Client(), worker.phone, PASSWORD, HONEST).status_code == 429  # password: locked
    assert "用短信验证码登录" in web_password(Client(), worker.phone, PASSWORD, HONEST).content.decode()

    assert request_code(worker.phone, HONEST).status_code == 200
    browser = Client()
    assert web_code_login(browser, worker.phone, outbox.code(worker.phone), HONEST).status_code == 302
    assert browser.get(reverse("accounts:security")).status_code == 200


@time_machine.travel(T0, tick=False)
def test_wrong_codes_from_one_address_are_throttled_too(outbox):
    people = workers(8)
    limit, _window = settings.LOGIN_ADDRESS_FAILURES["code"]
    attacker = Client()
    statuses = [
        web_code_login(attacker, people[i % 8].phone, f"{i:06d}", SPRAYER).status_code
        for i in range(limit + 5)
    ]
    assert statuses[: limit - 1] == [200] * (limit - 1) and set(statuses[limit - 1 :]) == {429}
    # The numbers are not locked for passwords, and their owners' codes still work from elsewhere.
    assert web_password(Client(), people[0].phone, PASSWORD, HONEST).status_code == 302
    request_code(people[1].phone, HONEST)
    assert web_code_login(Client(), people[1].phone, outbox.code(people[1].phone), HONEST).status_code == 302


@time_machine.travel(T0, tick=False)
def test_honest_users_on_other_addresses_are_unaffected():
    people = workers(12)
    attacker = Client()
    for person in people:
        web_password(attacker, person.phone, "guess", SPRAYER)
    assert web_password(attacker, people[0].phone, PASSWORD, SPRAYER).status_code == 429  # waits
    for i, person in enumerate(people):
        assert web_password(Client(), person.phone, PASSWORD, f"198.51.100.{i + 10}").status_code == 302


@time_machine.travel(T0, tick=False)
def test_a_hall_kiosk_address_serves_many_people_with_their_typing_mistakes(settings):
    """40 people sign in at a hall's kiosks (one address), a third mistyping once: over the ordinary
    address limit, yet all of them get in, because the address is listed as the hall's."""
    settings.LOGIN_KIOSK_NETWORKS = ["10.20.0.0/24"]
    people = workers(40)
    limit, _window = settings.LOGIN_ADDRESS_FAILURES["password"]
    mistakes = 0
    for i, person in enumerate(people):
        kiosk = Client()
        if i % 3 == 0:
            assert web_password(kiosk, person.phone, "typo", KIOSK).status_code == 200
            mistakes += 1
        assert web_password(kiosk, person.phone, PASSWORD, KIOSK).status_code == 302, person.phone
    assert mistakes > limit
    # The same crowd from an unlisted address would have been made to wait.
    settings.LOGIN_KIOSK_NETWORKS = []
    statuses = [web_password(Client(), p.phone, "typo", "10.30.0.1").status_code for p in people[: limit + 1]]
    assert statuses[-1] == 429


@time_machine.travel(T0, tick=False)
def test_api_login_is_throttled_by_address_with_retry_after(outbox):
    people = workers(15)
    limit, window = settings.LOGIN_ADDRESS_FAILURES["password"]
    api = APIClient(REMOTE_ADDR=SPRAYER)
    codes = []
    for person in people:
        response = api.post(
            reverse("api:auth-login"), {"phone": person.phone, "password": "guess"}, format="json"
        )
        codes.append(response.json()["code"])
    assert codes[: limit - 1] == ["invalid_credentials"] * (limit - 1)
    assert set(codes[limit - 1 :]) == {"too_many_attempts"}
    assert response.status_code == 429 and response["Retry-After"] == str(window)
    assert re.fullmatch(r"尝试次数太多，请稍后再试（\d+ 秒）", response.json()["detail"])
    assert failures_recorded() == limit  # the refused attempts counted against no number
    # Code login from that address has its own count and works.
    api.post(reverse("api:auth-codes"), {"phone": people[0].phone, "purpose": "login"}, format="json")
    response = api.post(
        reverse("api:auth-login"),
        {"phone": people[0].phone, "code": outbox.code(people[0].phone)},
        format="json",
    )
    assert response.status_code == 200


@time_machine.travel(T0, tick=False)
def test_code_requests_per_address_wait_with_retry_after_and_kiosks_get_more(settings):
    settings.PHONE_CODE_IP_LIMIT = (dt.timedelta(hours=1), 3)
    settings.LOGIN_KIOSK_NETWORKS = [KIOSK]
    people = workers(35)
    api = APIClient(REMOTE_ADDR=SPRAYER)
    statuses = [
        api.post(reverse("api:auth-codes"), {"phone": p.phone, "purpose": "login"}, format="json")
        for p in people[:4]
    ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 429]
    assert int(statuses[-1]["Retry-After"]) > 0
    assert "请稍后再试（" in statuses[-1].json()["detail"]
    kiosk = APIClient(REMOTE_ADDR=KIOSK)  # a hall: LOGIN_KIOSK_FACTOR times as many
    statuses = [
        kiosk.post(
            reverse("api:auth-codes"), {"phone": p.phone, "purpose": "login"}, format="json"
        ).status_code
        for p in people[4:]
    ]
    assert statuses == [201] * 3 * settings.LOGIN_KIOSK_FACTOR + [429]
