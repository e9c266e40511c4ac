import datetime as dt

import pytest
from django.utils import timezone

from accounts import services as account_services
from core.errors import Conflict, InvalidTransition, NotAllowed
from jobs import services
from jobs.models import Block, Claim, Order, Post
from notifications.models import Message
from tests.conftest import make_image
from tests.factories import CertificateTypeFactory, PostFactory, SeekerFactory, TradeFactory, verified_seeker

pytestmark = pytest.mark.django_db


def test_grab_confirms_until_full_then_refuses(post, worker, worker2, boss):
    c1 = services.claim_create(post=post, worker=worker)
    assert c1.status == "confirmed" and c1.order.status == "confirmed" and c1.order.contract.content_hash
    c2 = services.claim_create(post=post, worker=worker2)
    post.refresh_from_db()
    assert post.slots_left == 0 and post.status == "filled"
    with pytest.raises(Conflict) as info:
        services.claim_create(post=post, worker=verified_seeker())
    assert info.value.code == "full"
    assert Claim.objects.count() == 2 and Order.objects.count() == 2
    assert c2.order.events.get().to_status == "confirmed"
    # SMS + in-app to the worker; the employer owner hears about the contract
    assert Message.objects.filter(phone=worker.phone, template="claim_confirmed", channel="sms").exists()
    assert Message.objects.filter(recipient=boss, template="contract_ready", channel="inapp").exists()


def test_gates(post, boss, employer, trade):
    unverified = SeekerFactory()
    with pytest.raises(NotAllowed) as info:
        services.claim_create(post=post, worker=unverified)
    assert info.value.code == "realname_required"
    with pytest.raises(NotAllowed):
        services.claim_create(post=post, worker=boss)  # an employer account, and a member
    assert not Claim.objects.exists()


def test_restricted_trade_needs_valid_certificate(employer, street, staff):
    welding = CertificateTypeFactory()
    trade = TradeFactory(name="电焊工", risk_class=5, certificate_type=welding)
    post = PostFactory(employer=employer, trade=trade, area=street)
    welder = verified_seeker()
    with pytest.raises(NotAllowed) as info:
        services.claim_create(post=post, worker=welder)
    assert info.value.code == "certificate_required"
    cert = account_services.certificate_submit(
        user=welder, cert_type=welding, number="T11010519750615001X", image=make_image(),
        expires_on=timezone.localdate() + dt.timedelta(days=365),
    )  # fmt: skip
    with pytest.raises(NotAllowed):
        services.claim_create(post=post, worker=welder)  # pending review is not enough
    account_services.certificate_approve(certificate=cert, actor=staff)
    assert services.claim_create(post=post, worker=welder).status == "confirmed"


def test_one_claim_per_worker_per_post(post, worker):
    claim = services.claim_create(post=post, worker=worker)
    with pytest.raises(Conflict) as info:
        services.claim_create(post=post, worker=worker)
    assert info.value.code == "duplicate"
    services.claim_withdraw(claim=claim, worker=worker)
    with pytest.raises(Conflict):
        services.claim_create(post=post, worker=worker)


def test_overlapping_confirmed_order_refused(post, worker, employer, street, trade):
    services.claim_create(post=post, worker=worker)
    clash = PostFactory(
        employer=employer, trade=trade, area=street, starts_at=post.starts_at + dt.timedelta(hours=2),
        ends_at=post.ends_at + dt.timedelta(hours=2),
    )  # fmt: skip
    with pytest.raises(Conflict) as info:
        services.claim_create(post=clash, worker=worker)
    assert info.value.code == "overlap"
    later = PostFactory(
        employer=employer,
        trade=trade,
        area=street,
        starts_at=post.ends_at,
        ends_at=post.ends_at + dt.timedelta(hours=4),
    )
    assert services.claim_create(post=later, worker=worker).status == "confirmed"


def test_blocked_worker_refused(post, worker, boss, employer, street, trade):
    claim = services.claim_create(post=post, worker=worker)
    services.block_create(employer=employer, actor=boss, worker=worker, reason="多次迟到")
    other = PostFactory(
        employer=employer, trade=trade, area=street, starts_at=post.ends_at + dt.timedelta(days=1)
    )
    with pytest.raises(NotAllowed) as info:
        services.claim_create(post=other, worker=worker)
    assert info.value.code == "blocked"
    services.block_remove(block=Block.objects.get(), actor=boss)
    assert services.claim_create(post=other, worker=worker)
    assert claim


def test_closed_expired_draft_posts_refuse(employer, street, trade, worker):
    for status in ("draft", "closed", "cancelled", "expired"):
        post = PostFactory(employer=employer, trade=trade, area=street, status=status)
        with pytest.raises(InvalidTransition):
            services.claim_create(post=post, worker=worker)
    started = PostFactory(employer=employer, trade=trade, area=street)
    Post.objects.filter(pk=started.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(InvalidTransition):
        services.claim_create(post=started, worker=worker)


def test_apply_mode_accept_reject_and_no_accept_beyond_slots(employer, street, trade, boss, worker, worker2):
    post = PostFactory(employer=employer, trade=trade, area=street, mode="apply", slots=1)
    a = services.claim_create(post=post, worker=worker, note="干过三年")
    b = services.claim_create(post=post, worker=worker2)
    assert a.status == b.status == "pending"
    assert (
        Message.objects.filter(recipient=boss, template="application_received", channel="inapp").count() == 2
    )
    post.refresh_from_db()
    assert post.slots_left == 1
    order = services.claim_accept(claim=a, actor=boss)
    assert order.status == "confirmed"
    with pytest.raises(Conflict) as info:
        services.claim_accept(claim=b, actor=boss)
    assert info.value.code == "full"
    b.refresh_from_db()
    assert b.status == "pending"
    services.claim_reject(claim=b, actor=boss, reason="人已招满")
    b.refresh_from_db()
    assert b.status == "rejected"
    assert (
        "人已招满"
        in Message.objects.filter(phone=worker2.phone, template="application_rejected", channel="sms")
        .get()
        .body
    )
    with pytest.raises(InvalidTransition):
        services.claim_accept(claim=b, actor=boss)


def test_only_the_employer_decides_applications(employer, street, trade, worker, alice):
    post = PostFactory(employer=employer, trade=trade, area=street, mode="apply")
    claim = services.claim_create(post=post, worker=worker)
    with pytest.raises(NotAllowed):
        services.claim_accept(claim=claim, actor=alice)
    with pytest.raises(NotAllowed):
        services.claim_reject(claim=claim, actor=alice)
    with pytest.raises(NotAllowed):
        services.claim_withdraw(claim=claim, worker=alice)


def test_withdrawal_frees_the_slot(post, worker, worker2):
    c1 = services.claim_create(post=post, worker=worker)
    services.claim_create(post=post, worker=worker2)
    post.refresh_from_db()
    assert post.status == "filled"
    services.claim_withdraw(claim=c1, worker=worker)
    post.refresh_from_db()
    assert post.slots_left == 1 and post.status == "open"
    c1.refresh_from_db()
    assert c1.status == "withdrawn" and c1.order.status == "cancelled"
    assert services.claim_create(post=post, worker=verified_seeker()).status == "confirmed"


def test_unanswered_applications_close_after_delay(employer, street, trade, worker, settings):
    import time_machine

    post = PostFactory(
        employer=employer,
        trade=trade,
        area=street,
        mode="apply",
        starts_at=timezone.now() + dt.timedelta(days=5),
    )
    claim = services.claim_create(post=post, worker=worker)
    assert services.applications_expire() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        assert services.applications_expire() == 1
    claim.refresh_from_db()
    assert claim.status == "expired"
    assert Message.objects.filter(phone=worker.phone, template="application_expired").exists()
