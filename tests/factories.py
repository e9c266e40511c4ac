"""Factories for test data."""

from __future__ import annotations

import datetime as dt

import factory
from stdnum.cn import ric

from accounts.models import (
    Area,
    CertificateType,
    Employer,
    EmployerMember,
    RealName,
    ServicePoint,
    User,
    WorkerProfile,
)
from core.crypto import blind_index
from core.masking import mask_id_number
from jobs.models import Trade


def id_number(seq: int, birth: dt.date = dt.date(1975, 6, 15), region: str = "110105") -> str:
    """A valid 18-digit ID (real region code, real birth date, correct check digit)."""
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"测试街道{n}")
    code = factory.Sequence(lambda n: f"3504020{n:05d}")
    level = Area.Level.STREET


class ServicePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint

    name = factory.Sequence(lambda n: f"测试零工驿站{n}")
    kind = ServicePoint.Kind.VILLAGE_STATION
    area = factory.SubFactory(AreaFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"137{n:08d}")
    name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.SEEKER
    password = factory.PostGenerationMethodCall("set_password", "Gig-pass-2026")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SeekerFactory(UserFactory):
    profile = factory.RelatedFactory("tests.factories.WorkerProfileFactory", factory_related_name="user")


class WorkerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkerProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


class RealNameFactory(factory.django.DjangoModelFactory):
    """A real-name record written directly (bypassing the service), encrypted like the service does."""

    class Meta:
        model = RealName

    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda o: o.user.name)
    id_number = factory.Sequence(lambda n: id_number(n))
    id_index = factory.LazyAttribute(lambda o: blind_index(o.id_number, purpose="id_number"))
    id_masked = factory.LazyAttribute(lambda o: mask_id_number(o.id_number))
    birth_year = factory.LazyAttribute(lambda o: int(o.id_number[6:10]))
    status = RealName.Status.VERIFIED
    method = RealName.Method.MANUAL


class CertificateTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertificateType
        django_get_or_create = ("code",)

    code = "welding"
    name = "特种作业操作证（焊接与热切割作业）"


class TradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trade
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"工种{n}")
    category = Trade.Category.SERVICES
    risk_class = 2


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer
        skip_postgeneration_save = True

    kind = Employer.Kind.COMPANY
    name = factory.Sequence(lambda n: f"测试建筑公司{n}")
    uscc = None
    legal_representative = "陈老板"
    status = Employer.Status.APPROVED
    created_by = factory.SubFactory(UserFactory, role=User.Role.EMPLOYER)

    @factory.post_generation
    def owner(obj, create, extracted, **kwargs):
        if create:
            EmployerMember.objects.get_or_create(
                employer=obj, user=extracted or obj.created_by, defaults={"role": EmployerMember.Role.OWNER}
            )

    @factory.post_generation
    def funds(obj, create, extracted, **kwargs):
        """Money on the employer's account (default 1,000,000 yuan; ``funds=0`` for none)."""
        amount = 1_000_000_00 if extracted is None else extracted
        if create and amount:
            from wallet.services import employer_credit

            employer_credit(employer=obj, amount_fen=amount, key=f"test-funds:{obj.pk}")


class PostFactory(factory.django.DjangoModelFactory):
    """An open post, written directly (the publish gate is tested through the services)."""

    class Meta:
        model = "jobs.Post"
        skip_postgeneration_save = True

    employer = factory.SubFactory(EmployerFactory)
    created_by = factory.LazyAttribute(lambda o: o.employer.created_by)
    trade = factory.SubFactory(TradeFactory)
    title = factory.Sequence(lambda n: f"招小工{n}名")
    description = "搬砖、清理现场"
    pay_fen = 20000
    pay_unit = "day"
    quantity = 1
    slots = 5
    slots_left = factory.LazyAttribute(lambda o: o.slots)
    area = factory.SubFactory(AreaFactory)
    district = factory.LazyAttribute(lambda o: o.area)
    address = "工业区8号"
    lat = 28.9
    lng = 120.03
    starts_at = factory.LazyFunction(lambda: _now() + dt.timedelta(days=2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=8))
    mode = "grab"
    contact_name = "陈老板"
    contact_phone = "13700001111"
    status = "open"
    published_at = factory.LazyFunction(lambda: _now())
    search_tokens = factory.LazyAttribute(lambda o: _tokens(o.title, o.trade.name, o.description))

    @factory.post_generation
    def hold(obj, create, extracted, **kwargs):
        """An open post has its slots' money set aside, as publishing does."""
        if create and obj.status in ("open", "filled") and extracted is not False:
            from jobs.money import post_hold_fund

            post_hold_fund(post=obj)


def _now():
    from django.utils import timezone

    return timezone.now()


def _tokens(*texts):
    from jobs.search import index_tokens

    return index_tokens(*texts)


def verified_seeker(**kwargs):
    """A seeker with a verified real-name (the gate every claim needs)."""
    user = SeekerFactory(**kwargs)
    RealNameFactory(user=user, name=user.name if len(user.name) >= 2 else "测试工")
    return User.objects.get(pk=user.pk)


def started(order, ago=dt.timedelta(minutes=1)):
    """Move an order's (and its post's) shift so that it began ``ago`` before now, keeping its length: the
    worker may then check in and check out at once, with no clock frozen (the services read timezone.now()).
    Claims need a post that has not started, so tests claim first and start the shift afterwards."""
    from jobs.models import Order, Post

    length = order.ends_at - order.starts_at
    start = _now() - ago
    Order.objects.filter(pk=order.pk).update(starts_at=start, ends_at=start + length)
    Post.objects.filter(pk=order.post_id).update(starts_at=start, ends_at=start + length)
    order.refresh_from_db()
    order.post.refresh_from_db()
    return order
