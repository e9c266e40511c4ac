"""Fixtures for the disputes tests: an order worked and checked out (its pay in escrow), the employer's
boss, a mediator, hall staff who accept cases, and a second mediator for the "not your case" checks."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jobs import services as job_services
from tests import phones
from tests.factories import (
    AreaFactory,
    EmployerFactory,
    PostFactory,
    TradeFactory,
    UserFactory,
    verified_seeker,
)

PAY = 20000  # PostFactory: 200 yuan a day, quantity 1


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000001", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="马架龙建筑劳务公司")


@pytest.fixture
def worker(db):
    return verified_seeker(phone="13600000001", name="赵洪亮")


@pytest.fixture
def worker2(db):
    return verified_seeker(phone="13600000002", name="钱师傅")


@pytest.fixture
def post(employer):
    street = AreaFactory(name="西城街道", code="350186001000", level="street")
    trade = TradeFactory(name="小工", category="construction", risk_class=3)
    return PostFactory(employer=employer, trade=trade, area=street, district=street, slots=2)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def confirmed_order(post, worker):
    return job_services.claim_create(post=post, worker=worker).order


@pytest.fixture
def order(confirmed_order, worker):
    """Worked and checked out; the employer has not confirmed: the pay is still in escrow."""
    order = confirmed_order
    with at(order.starts_at):
        job_services.order_check_in(order=order, worker=worker)
    with at(order.ends_at):
        job_services.order_check_out(order=order, worker=worker, quantity="1")
    order.refresh_from_db()
    return order


def _perms(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="disputes", codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def case_staff(db, service_point):
    user = UserFactory(
        phone="13900000019", name="周受理", role="staff", is_staff=True, service_point=service_point
    )
    return _perms(user, "accept_case", "add_case", "view_case")


@pytest.fixture
def mediator(db):
    return UserFactory(phone="13900000031", name="吴调解", role="mediator")


@pytest.fixture
def mediator2(db):
    return UserFactory(phone="13900000032", name="郑调解", role="mediator")


@pytest.fixture
def grant():
    return _perms


def png(name="欠条.png", size=(30, 20)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_file(name="工资条.pdf") -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


@pytest.fixture
def later():
    return lambda **kw: dt.timedelta(**kw)


@pytest.fixture
def outbox(db):
    """The newest SMS code sent to a number, as the phone got it (tests/phones.py: newest by pk)."""

    class Outbox:
        def code(self, phone):
            return phones.code(phone)

    return Outbox()
