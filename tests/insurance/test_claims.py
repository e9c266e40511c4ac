"""Claims: the insured worker (or staff for them) reports an accident with documents; staff review; approval
records the payout and pays it from the insurer into the worker's wallet through the ledger, once; every
refusal is a clear error and leaves nothing behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import DomainError, InvalidTransition, NotAllowed
from insurance import services
from insurance.models import AccidentClaim, ClaimDocument, ClaimEvent
from jobs import services as jobs_services
from notifications.models import Message
from wallet import ledger
from wallet.models import LedgerTransaction

from .helpers import COVER, at, bal, books_clean, check_in, check_out, grab, issue, pdf, png, report

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not AccidentClaim.objects.exists() and not ClaimDocument.objects.exists()


def test_report_review_approve_pays_the_worker(working, worker, reviewer, settings):
    claim = report(working, worker)
    assert claim.status == "reported" and claim.number.startswith("LP")
    docs = list(claim.documents.all())
    assert [d.content_type for d in docs] == ["image/png", "application/pdf"]
    assert all(d.file.name.startswith("insurance-claims/") and "现场" not in d.file.name for d in docs)
    assert docs[0].original_name == "现场照片.png"
    assert Message.objects.filter(phone=worker.phone, template="claim_reported", channel="sms").exists()

    services.claim_review_start(claim=claim, actor=reviewer)
    claim = services.claim_approve(claim=claim, actor=reviewer, payout_fen=12_345_67, note="按伤残评定")
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.payout_fen == 12_345_67 and claim.decided_at
    assert claim.reviewed_by == reviewer and claim.decision_note == "按伤残评定"
    txn = claim.payout_transaction
    assert txn.kind == "claim_payout" and txn.order_id == working.pk
    assert txn.idempotency_key == f"insurance-claim:{claim.pk}:payout"
    assert bal(ledger.worker_account(worker)) == 12_345_67 and bal(ledger.bank()) < 0
    assert list(ClaimEvent.objects.filter(claim=claim).order_by("pk").values_list("from_status", "to_status")) == [
        ("", "reported"), ("reported", "under_review"), ("under_review", "approved"),
    ]  # fmt: skip
    paid = Message.objects.get(phone=worker.phone, template="claim_approved", channel="sms")
    assert "12345.67元" in paid.body
    assert books_clean()


def test_approving_twice_pays_once(working, worker, reviewer):
    claim = report(working, worker)
    services.claim_review_start(claim=claim, actor=reviewer)
    services.claim_approve(claim=claim, actor=reviewer, payout_fen=5_000_00)
    with pytest.raises(InvalidTransition):
        services.claim_approve(claim=claim, actor=reviewer, payout_fen=5_000_00)
    assert bal(ledger.worker_account(worker)) == 5_000_00
    assert LedgerTransaction.objects.filter(kind="claim_payout").count() == 1 and books_clean()


def test_reject_needs_a_reason_and_tells_the_worker(working, worker, reviewer):
    claim = report(working, worker)
    with pytest.raises(DomainError) as info:
        services.claim_reject(claim=claim, actor=reviewer, reason="  ")
    assert info.value.field == "reason"
    services.claim_reject(claim=claim, actor=reviewer, reason="非工作时间受伤")
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.decision_note == "非工作时间受伤"
    assert (
        "非工作时间受伤"
        in Message.objects.get(phone=worker.phone, template="claim_rejected", channel="sms").body
    )
    with pytest.raises(InvalidTransition):
        services.claim_review_start(claim=claim, actor=reviewer)
    assert not LedgerTransaction.objects.filter(kind="claim_payout").exists()


def test_approval_only_after_review(working, worker, reviewer):
    claim = report(working, worker)
    with pytest.raises(InvalidTransition):
        services.claim_approve(claim=claim, actor=reviewer, payout_fen=100)
    assert bal(ledger.worker_account(worker)) == 0


@pytest.mark.parametrize("payout", [0, -100, 1.5, "100", True])
def test_payout_must_be_positive_whole_fen(working, worker, reviewer, payout):
    claim = report(working, worker)
    services.claim_review_start(claim=claim, actor=reviewer)
    with pytest.raises(DomainError) as info:
        services.claim_approve(claim=claim, actor=reviewer, payout_fen=payout)
    assert info.value.field == "payout"
    claim.refresh_from_db()
    assert claim.status == "under_review" and claim.payout_fen is None
    assert not LedgerTransaction.objects.filter(kind="claim_payout").exists() and books_clean()


def test_payouts_on_one_policy_never_exceed_the_cover(working, worker, reviewer):
    first, second = report(working, worker), report(working, worker)
    for claim in (first, second):
        services.claim_review_start(claim=claim, actor=reviewer)
    with pytest.raises(DomainError, match="超过保额") as info:
        services.claim_approve(claim=first, actor=reviewer, payout_fen=COVER + 1)
    assert info.value.code == "above_cover"
    services.claim_approve(claim=first, actor=reviewer, payout_fen=COVER - 100)
    with pytest.raises(DomainError, match=r"剩余可赔1\.00元"):
        services.claim_approve(claim=second, actor=reviewer, payout_fen=101)
    services.claim_approve(claim=second, actor=reviewer, payout_fen=100)
    assert bal(ledger.worker_account(worker)) == COVER and books_clean()


def test_only_reviewers_decide(working, worker, clerk):
    claim = report(working, worker)
    for call in (
        lambda: services.claim_review_start(claim=claim, actor=clerk),
        lambda: services.claim_approve(claim=claim, actor=clerk, payout_fen=100),
        lambda: services.claim_reject(claim=claim, actor=clerk, reason="x"),
        lambda: services.claim_review_start(claim=claim, actor=worker),
    ):
        with pytest.raises(NotAllowed):
            call()
    claim.refresh_from_db()
    assert claim.status == "reported"


# ----------------------------------------------------------------------------------------- refusals


def test_claim_on_an_uninsured_order_is_refused(publish, safe_trade, worker):
    order = grab(publish(trade_=safe_trade), worker)
    check_in(order, worker)
    with pytest.raises(DomainError, match="没有投保") as info:
        services.claim_report(
            order=order, actor=worker, accident_at=order.starts_at, place="工地", description="摔伤了腿，去了医院",
            documents=[png()],
        )  # fmt: skip
    assert info.value.code == "not_insured" and nothing_written()


def test_claim_on_someone_elses_order_is_refused(working, worker2, boss, charlie):
    for who in (worker2, boss, charlie):
        with pytest.raises(NotAllowed, match="自己的订单"):
            report(working, who)
    assert nothing_written()


def test_claim_on_a_cancelled_order_is_refused(issued, worker):
    jobs_services.order_cancel_by_worker(order=issued, worker=worker)
    with pytest.raises(InvalidTransition, match="订单已取消") as info:
        services.claim_report(
            order=issued, actor=worker, accident_at=timezone.now(), place="工地", description="摔伤了腿，去了医院",
            documents=[png()],
        )  # fmt: skip
    assert info.value.code == "order_cancelled" and nothing_written()


def test_claim_before_cover_began_or_on_a_failed_policy_is_refused(issued, worker):
    with pytest.raises(DomainError) as info:
        services.claim_report(
            order=issued, actor=worker, accident_at=timezone.now(), place="工地", description="摔伤了腿，去了医院",
            documents=[png()],
        )  # fmt: skip
    assert info.value.code == "cover_not_started"
    issued.policy.status = "failed"
    issued.policy.save(update_fields=["status"])
    check_in(issued, worker)
    with pytest.raises(DomainError) as info:
        report(issued, worker, when=issued.starts_at)
    assert info.value.code == "not_insured" and nothing_written()


def test_accident_outside_the_cover_is_refused(working, worker):
    check_out(working, worker)
    working.policy.refresh_from_db()
    for when in (working.starts_at - dt.timedelta(minutes=1), working.ends_at + dt.timedelta(minutes=1)):
        with pytest.raises(ValidationError) as info:
            report(working, worker, when=when)
        assert "不在保障期内" in info.value.message_dict["accident_at"][0]
    with at(working.ends_at + dt.timedelta(days=1)):
        assert report(working, worker, when=working.ends_at).status == "reported"  # reported later is fine


def test_bad_fields_and_documents_are_refused_all_at_once(working, worker, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    fake_jpg = SimpleUploadedFile("伤情.jpg", b"this is not a picture", content_type="image/jpeg")
    gif = SimpleUploadedFile("x.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")
    big = png(size=(900, 900))
    with pytest.raises(ValidationError) as info:
        services.claim_report(
            order=working, actor=worker, accident_at=timezone.now() + dt.timedelta(hours=1), place="x",
            description="摔了", documents=[fake_jpg, gif, big],
        )  # fmt: skip
    errors = info.value.message_dict
    assert set(errors) == {"accident_at", "place", "description", "documents"}
    assert len(errors["documents"]) == 3 and "超过" in " ".join(errors["documents"])
    with pytest.raises(ValidationError, match="至少一份"):
        report(working, worker, documents=[])
    with pytest.raises(ValidationError, match="最多上传10份"):
        report(working, worker, documents=[png() for _ in range(11)])
    assert nothing_written()


def test_staff_report_for_the_worker(working, worker, reviewer):
    claim = report(working, reviewer, documents=[pdf()])
    assert claim.reported_by == reviewer
    assert ClaimEvent.objects.get(claim=claim).data["by_staff"] is True
    assert Message.objects.filter(phone=worker.phone, template="claim_reported").exists()


def test_claims_on_each_order_only(post, worker, worker2, reviewer):
    a, b = grab(post, worker), grab(post, worker2)
    for order, who in ((a, worker), (b, worker2)):
        issue(order)
        check_in(order, who)
    a.refresh_from_db()
    claim = report(a, worker)
    assert claim.policy.order_id == a.pk and not AccidentClaim.objects.filter(policy__order=b).exists()
