"""The short grab asks its row checks (member of the employer, blocked, already claimed, an order or a
pending grab at those hours) in one locked query, and only a worker it flags goes through them one by
one. Each refusal must still be the first that applies, with its own code and message, and nothing taken."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import EmployerMember
from core.errors import DomainError
from jobs import grabbing
from jobs.models import Block, Claim, Post
from tests.factories import EmployerFactory, PostFactory, SeekerFactory, TradeFactory, verified_seeker

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer(db):
    return EmployerFactory(name="青溪市快运物流有限公司")


@pytest.fixture
def trade(db):
    return TradeFactory(name="搬运", category="logistics", risk_class=2)


def _post(employer, trade, *, day: int = 3, hours: tuple[int, int] = (8, 16), **kwargs) -> Post:
    start = (timezone.now() + dt.timedelta(days=day)).replace(
        hour=hours[0], minute=0, second=0, microsecond=0
    )
    return PostFactory(
        employer=employer, trade=trade, mode=Post.Mode.GRAB, slots=3, starts_at=start,
        ends_at=start.replace(hour=hours[1]), **kwargs,
    )  # fmt: skip


def _refusal(post: Post, worker) -> tuple[str, str]:
    with pytest.raises(DomainError) as refused:
        grabbing.claim(post=post, worker=worker)
    post.refresh_from_db()
    return refused.value.code, refused.value.message


def test_a_clean_worker_is_confirmed(employer, trade):
    post = _post(employer, trade)
    claim = grabbing.claim(post=post, worker=verified_seeker(phone="13600000011", name="赵一"))
    assert claim.status == Claim.Status.CONFIRMED
    post.refresh_from_db()
    assert post.slots_left == 2


def test_a_member_of_the_employer_is_refused(employer, trade):
    post = _post(employer, trade)
    worker = verified_seeker(phone="13600000012", name="钱二")
    EmployerMember.objects.create(employer=employer, user=worker, role=EmployerMember.Role.MEMBER)
    assert _refusal(post, worker)[1] == "不能接自己单位发布的岗位"
    assert post.slots_left == 3


def test_a_blocked_worker_is_refused(employer, trade):
    post = _post(employer, trade)
    worker = verified_seeker(phone="13600000013", name="孙三")
    Block.objects.create(
        employer=employer, worker=worker, reason="多次未到岗", created_by=employer.created_by
    )
    assert _refusal(post, worker) == ("blocked", "该雇主暂不接受您的报名")
    assert post.slots_left == 3


def test_a_second_grab_of_the_same_post_is_a_duplicate(employer, trade):
    post = _post(employer, trade)
    worker = verified_seeker(phone="13600000014", name="李四")
    grabbing.claim(post=post, worker=worker)
    assert _refusal(post, worker) == ("duplicate", "您已经接过/报过这个岗位")
    assert post.slots_left == 2


def test_an_order_at_the_same_hours_is_an_overlap(employer, trade):
    first, second = _post(employer, trade), _post(EmployerFactory(name="另一家公司"), trade, hours=(12, 18))
    worker = verified_seeker(phone="13600000015", name="周五")
    grabbing.claim(post=first, worker=worker)  # its order is made at once in the test settings
    code, message = _refusal(second, worker)
    assert code == "overlap" and first.title in message
    assert second.slots_left == 3


def test_other_hours_are_no_overlap(employer, trade):
    first, second = _post(employer, trade), _post(employer, trade, day=4)
    worker = verified_seeker(phone="13600000016", name="吴六")
    grabbing.claim(post=first, worker=worker)
    assert grabbing.claim(post=second, worker=worker).status == Claim.Status.CONFIRMED


def test_the_first_refusal_that_applies_wins(employer, trade):
    """Blocked and already claimed: the block is checked first, as before."""
    post = _post(employer, trade)
    worker = verified_seeker(phone="13600000017", name="郑七")
    grabbing.claim(post=post, worker=worker)
    Block.objects.create(
        employer=employer, worker=worker, reason="多次未到岗", created_by=employer.created_by
    )
    assert _refusal(post, worker)[0] == "blocked"


def test_a_worker_without_a_real_name_is_refused_before_any_lock(employer, trade):
    post = _post(employer, trade)
    worker = SeekerFactory(phone="13600000018", name="王八")
    assert _refusal(post, worker)[0] == "realname_required"
    assert post.slots_left == 3


def test_an_order_in_dispute_that_was_active_still_blocks_those_hours(employer, trade):
    """The orders part of the one query is selectors.blocking_orders written out: they must agree."""
    from jobs import selectors, services
    from jobs.models import Order

    first, second = _post(employer, trade), _post(EmployerFactory(name="另一家公司"), trade, hours=(12, 18))
    worker = verified_seeker(phone="13600000019", name="冯九")
    grabbing.claim(post=first, worker=worker)
    order = Order.objects.get(post=first, worker=worker)
    services.order_mark_disputed(order=order, actor=worker, reason="工钱有争议")
    assert selectors.blocking_orders(worker=worker).filter(pk=order.pk).exists()

    assert _refusal(second, worker)[0] == "overlap"
    assert second.slots_left == 3
