import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services as account_services
from core.errors import InvalidTransition, NotAllowed
from jobs import services
from jobs.models import Claim, Post

pytestmark = pytest.mark.django_db


def test_create_draft_then_publish(employer, boss, post_data):
    post = services.post_create(employer=employer, actor=boss, **post_data)
    assert post.status == "draft" and post.slots_left == 2 and post.contact_phone == "13700001111"
    assert post.district.name == "青溪区"
    assert "小工" in post.search_tokens.split() and "搬" in post.search_tokens.split()
    services.post_publish(post=post, actor=boss)
    post.refresh_from_db()
    assert post.status == "open" and post.published_at
    with pytest.raises(InvalidTransition):
        services.post_publish(post=post, actor=boss)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pay_fen": 0}, "pay_fen"),
        ({"pay_fen": -500}, "pay_fen"),
        ({"pay_fen": 12.5}, "pay_fen"),
        ({"pay_fen": 10_000_01}, "pay_fen"),
        ({"slots": 0}, "slots"),
        ({"slots": 501}, "slots"),
        ({"pay_unit": "week"}, "pay_unit"),
        ({"title": "x"}, "title"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"quantity": "-1"}, "quantity"),
        ({"lat": 95.0}, "lat"),
        ({"lat": None}, "lat"),
        ({"mode": "auction"}, "mode"),
        ({"address": " "}, "address"),
    ],
)
def test_bad_post_input_is_field_level_and_saves_nothing(employer, boss, post_data, change, field):
    with pytest.raises(ValidationError) as info:
        services.post_create(employer=employer, actor=boss, **{**post_data, **change})
    assert field in info.value.message_dict
    assert not Post.objects.exists()


def test_far_future_start_refused(employer, boss, post_data):
    far = timezone.now() + dt.timedelta(days=400)
    with pytest.raises(ValidationError) as info:
        services.post_create(employer=employer, actor=boss, **{**post_data, "starts_at": far, "ends_at": far})
    assert "starts_at" in info.value.message_dict


def test_times_must_be_future_and_ordered(employer, boss, post_data):
    past = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as info:
        services.post_create(employer=employer, actor=boss, **{**post_data, "starts_at": past})
    assert "starts_at" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.post_create(
            employer=employer,
            actor=boss,
            **{**post_data, "ends_at": post_data["starts_at"] - dt.timedelta(hours=1)},
        )
    assert "ends_at" in info.value.message_dict


def test_unapproved_or_suspended_employer_cannot_publish(employer, boss, post_data, staff):
    from accounts.models import Employer

    Employer.objects.filter(pk=employer.pk).update(status="pending")
    post = services.post_create(employer=employer, actor=boss, **post_data)
    with pytest.raises(NotAllowed):
        services.post_publish(post=post, actor=boss)
    Employer.objects.filter(pk=employer.pk).update(status="approved")
    employer.refresh_from_db()
    account_services.employer_suspend(employer=employer, actor=staff, reason="欠薪调查")
    with pytest.raises(NotAllowed):
        services.post_publish(post=post, actor=boss)
    assert Post.objects.get(pk=post.pk).status == "draft"


def test_publish_refused_once_start_has_passed(employer, boss, post_data):
    import time_machine

    post = services.post_create(employer=employer, actor=boss, **post_data)
    with (
        time_machine.travel(post.starts_at + dt.timedelta(minutes=1)),
        pytest.raises(Exception, match="开工时间已过"),
    ):
        services.post_publish(post=post, actor=boss)


def test_only_members_manage_posts(employer, boss, post_data, alice):
    with pytest.raises(NotAllowed):
        services.post_create(employer=employer, actor=alice, **post_data)
    post = services.post_create(employer=employer, actor=boss, **post_data)
    with pytest.raises(NotAllowed):
        services.post_publish(post=post, actor=alice)
    with pytest.raises(NotAllowed):
        services.post_update(post=post, actor=alice, title="改个标题")


def test_staff_post_on_behalf_is_recorded(employer, hall_staff, post_data, staff):
    post = services.post_create(employer=employer, actor=hall_staff, publish=True, **post_data)
    assert post.on_behalf_by == hall_staff and post.service_point == hall_staff.service_point
    assert post.status == "open"


def test_staff_without_permission_cannot_post_on_behalf(employer, staff, post_data):
    with pytest.raises(NotAllowed):
        services.post_create(employer=employer, actor=staff, **post_data)


def test_draft_edit_and_published_frozen(employer, boss, post_data):
    post = services.post_create(employer=employer, actor=boss, **post_data)
    post = services.post_update(post=post, actor=boss, title="招保洁阿姨", slots=3)
    assert post.slots == post.slots_left == 3 and "保洁" in post.search_tokens
    services.post_publish(post=post, actor=boss)
    with pytest.raises(InvalidTransition):
        services.post_update(post=post, actor=boss, title="又改")


def test_scheduled_expiry_closes_started_posts_and_their_applications(post, worker):
    import time_machine

    Post.objects.filter(pk=post.pk).update(mode="apply")
    post.refresh_from_db()
    claim = services.claim_create(post=post, worker=worker)
    with time_machine.travel(post.starts_at + dt.timedelta(minutes=1)):
        assert services.posts_expire() == 1
        assert services.posts_expire() == 0
    post.refresh_from_db()
    claim.refresh_from_db()
    assert post.status == "expired" and claim.status == Claim.Status.EXPIRED


def test_close_and_cancel(post, boss, worker, worker2):
    claim = services.claim_create(post=post, worker=worker)
    services.post_close(post=post, actor=boss)
    post.refresh_from_db()
    assert post.status == "closed"
    with pytest.raises(InvalidTransition):
        services.claim_create(post=post, worker=worker2)
    services.post_cancel(post=post, actor=boss, reason="甲方项目取消")
    claim.order.refresh_from_db()
    assert claim.order.status == "cancelled" and claim.order.cancelled_by == "employer"
    assert Post.objects.get(pk=post.pk).status == "cancelled"
