"""A hall's kiosks share one address: listed in LOGIN_KIOSK_NETWORKS, a whole morning's queue signs in there
with per-address limits that would stop a single client (issue 22, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from .conftest import seeker

pytestmark = pytest.mark.django_db

KIOSK_ADDRESS = "10.20.0.31"
T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def sign_in(point, phone: str, outbox, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("hall:kiosk", args=[point.pk]), {"way": "phone", "phone": phone})
    if response.status_code != 302:
        return response.status_code
    response = client.post(reverse("hall:kiosk_code", args=[point.pk]), {"code": outbox.code(phone)})
    return response.status_code


@time_machine.travel(T0, tick=False)
def test_many_people_sign_in_at_a_listed_kiosk_address(settings, east_point, east, outbox):
    settings.PHONE_CODE_IP_LIMIT = (dt.timedelta(hours=1), 4)  # small, so the test stays small
    settings.LOGIN_KIOSK_NETWORKS = ["10.20.0.0/24"]
    people = [seeker(f"1360000{i:04d}", f"求职者{i}", area=east) for i in range(12)]
    assert all(sign_in(east_point, p.phone, outbox, KIOSK_ADDRESS) == 302 for p in people)
    # The same queue from an unlisted address is stopped at the ordinary limit.
    others = [seeker(f"1350000{i:04d}", f"路人{i}", area=east) for i in range(5)]
    results = [sign_in(east_point, p.phone, outbox, "10.99.0.1") for p in others]
    assert results[:4] == [302] * 4 and results[4] != 302
