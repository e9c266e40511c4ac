"""Claims at the insurer: staff accept → the claim and its documents go to the insurer (the http backend
against a fake insurer on loopback); the insurer's signed callbacks (受理 / 补材料 / 赔付 / 拒赔) move the
claim, reach the worker, and pay through the ledger, once; bad signatures, stale or repeated callbacks and a
timeout change nothing they should not."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from insurance import claims, services
from insurance.backends import InsurerUnavailable, sign
from insurance.models import AccidentClaim, InsurerCallback
from notifications.models import Message
from wallet import ledger
from wallet.models import LedgerTransaction

from .helpers import INSURER_KEY, bal, books_clean, png, report

pytestmark = pytest.mark.django_db

CALLBACK = "/insurance/insurer/callbacks/"


@pytest.fixture
def forwarded(working, worker, reviewer):
    claim = report(working, worker)
    services.claim_review_start(claim=claim, actor=reviewer)
    claims.claim_forward(claim=claim, actor=reviewer, note="材料齐全")
    claim.refresh_from_db()
    return claim


def submitted(claim):
    return claims.claim_submit(claim_id=claim.pk)


def post_callback(client, insurer, claim, status, *, key=INSURER_KEY, **extra):
    payload = {
        "event_id": extra.pop("event_id", uuid.uuid4().hex), "claim_no": claim.insurer_claim_no,
        "request_no": claims.request_no(claim), "status": status, "at": timezone.now().isoformat(), **extra,
    }  # fmt: skip
    body, headers = insurer.callback(payload, key=key)
    return client.post(CALLBACK, body, content_type="application/json", **headers)


def test_claim_goes_to_the_insurer_with_its_documents(insurer, forwarded):
    assert forwarded.status == "forwarded" and not forwarded.insurer_claim_no
    claim = submitted(forwarded)
    assert claim.insurer_claim_no == insurer.claims[claims.request_no(claim)]
    assert claim.forwarded_at and claim.forward_error == "" and claim.next_forward_at is None
    assert len(insurer.documents) == 2 and all(d.sent_at for d in claim.documents.all())
    submitted(claim)  # again (a redelivered task): the insurer sees the same claim, no new documents
    assert len(insurer.claims) == 1 and len(insurer.documents) == 2


def test_timeout_is_retried_with_the_same_request_number(insurer, forwarded):
    insurer.mode = "slow"
    with pytest.raises(InsurerUnavailable):
        submitted(forwarded)
    forwarded.refresh_from_db()
    assert forwarded.insurer_claim_no == "" and "报送未完成" in forwarded.forward_error
    assert forwarded.next_forward_at > timezone.now()
    insurer.mode = "normal"
    assert claims.claims_retry_forwarding(now=forwarded.next_forward_at) == 1  # eager: sent now
    forwarded.refresh_from_db()
    assert forwarded.insurer_claim_no and forwarded.forward_error == "" and len(insurer.claims) == 1


def test_insurer_declining_the_submission_is_shown_to_staff(insurer, forwarded):
    insurer.mode = "decline"
    claim = submitted(forwarded)
    claim.refresh_from_db()
    assert "保险公司未受理" in claim.forward_error and claim.next_forward_at is None


def test_callbacks_from_acceptance_to_payout(
    client, insurer, forwarded, worker, django_capture_on_commit_callbacks
):
    claim = submitted(forwarded)
    assert post_callback(client, insurer, claim, "accepted").json()["code"] == "0000"
    claim.refresh_from_db()
    assert claim.status == "accepted"

    response = post_callback(
        client, insurer, claim, "need_documents", documents_needed="医疗费用发票原件照片"
    )
    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.status == "need_docs" and claim.documents_needed == "医疗费用发票原件照片"
    for channel in ("sms", "inapp"):
        assert Message.objects.filter(
            recipient=worker, template="claim_need_documents", channel=channel
        ).exists()

    # The worker adds the invoice on the claim page: it goes to the insurer, the claim is back with it.
    client.force_login(worker)
    page = client.get(f"/insurance/claims/{claim.pk}/")
    assert "医疗费用发票原件照片" in page.content.decode() and 'id="add-documents"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(f"/insurance/claims/{claim.pk}/", {"documents": [png("发票.png")]})
    assert added.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "forwarded" and len(insurer.documents) == 3
    client.logout()

    wallet_before = bal(ledger.worker_account(worker))
    event = uuid.uuid4().hex
    assert (
        post_callback(client, insurer, claim, "paid", amount_fen=52_300_00, event_id=event).status_code == 200
    )
    assert (
        post_callback(client, insurer, claim, "paid", amount_fen=52_300_00, event_id=event).json()["code"]
        == "0000"
    )
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.payout_fen == 52_300_00 and claim.decided_at
    assert bal(ledger.worker_account(worker)) == wallet_before + 52_300_00
    assert LedgerTransaction.objects.filter(kind="claim_payout").count() == 1 and books_clean()
    assert Message.objects.filter(recipient=worker, template="claim_approved", channel="sms").count() == 1

    # Each status with its date, on the worker's page.
    client.force_login(worker)
    text = client.get(f"/insurance/claims/{claim.pk}/").content.decode()
    for step in (
        "审核通过，已报保险公司",
        "保险公司受理",
        "保险公司要求补材料",
        "补充材料1份",
        "保险公司赔付",
    ):
        assert step in text
    assert 'id="add-documents"' not in text


def test_a_second_paid_event_after_payout_pays_nothing(client, insurer, forwarded, worker):
    claim = submitted(forwarded)
    post_callback(client, insurer, claim, "paid", amount_fen=1_000_00)
    post_callback(client, insurer, claim, "paid", amount_fen=9_000_00)  # another event id, late: ignored
    claim.refresh_from_db()
    assert claim.payout_fen == 1_000_00 and bal(ledger.worker_account(worker)) >= 1_000_00
    assert LedgerTransaction.objects.filter(kind="claim_payout").count() == 1 and books_clean()


def test_rejection_reaches_the_worker(client, insurer, forwarded, worker):
    claim = submitted(forwarded)
    post_callback(client, insurer, claim, "rejected", reason="事故发生在保障期外")
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.decision_note == "事故发生在保障期外"
    assert Message.objects.filter(recipient=worker, template="claim_rejected", channel="sms").exists()


def test_bad_signature_stale_and_unknown_callbacks_change_nothing(client, insurer, forwarded):
    claim = submitted(forwarded)
    forged = post_callback(client, insurer, claim, "paid", amount_fen=100_00, key="someone-else")
    assert forged.status_code == 401 and forged.json()["code"] == "4001"
    payload = {"event_id": "e1", "claim_no": claim.insurer_claim_no, "status": "paid", "amount_fen": 100_00}
    body, headers = insurer.callback(payload, age=3600)
    stale = client.post(CALLBACK, body, content_type="application/json", **headers)
    assert stale.status_code == 401 and stale.json()["code"] == "4002"
    body, headers = insurer.callback(payload)
    tampered = client.post(
        CALLBACK, body.replace(b"10000", b"99999"), content_type="application/json", **headers
    )
    assert tampered.status_code == 401
    body, headers = insurer.callback({**payload, "claim_no": "PICCLP999999", "event_id": "e2"})
    assert client.post(CALLBACK, body, content_type="application/json", **headers).status_code == 404
    body, headers = insurer.callback({**payload, "status": "maybe", "event_id": "e3"})
    assert client.post(CALLBACK, body, content_type="application/json", **headers).status_code == 400
    body, headers = insurer.callback({**payload, "amount_fen": -5, "event_id": "e4"})
    assert client.post(CALLBACK, body, content_type="application/json", **headers).status_code == 400
    claim.refresh_from_db()
    assert claim.status == "forwarded" and not InsurerCallback.objects.exists()
    assert not LedgerTransaction.objects.filter(kind="claim_payout").exists()


def test_answers_are_signed(client, insurer, forwarded):
    claim = submitted(forwarded)
    response = post_callback(client, insurer, claim, "accepted")
    expected = sign(INSURER_KEY, response["X-GM-Timestamp"], response["X-GM-Nonce"], response.content)
    assert response["X-GM-Signature"] == expected


def test_only_reviewers_forward_and_only_claims_under_review(working, worker, reviewer, clerk):
    claim = report(working, worker)
    with pytest.raises(InvalidTransition):
        claims.claim_forward(claim=claim, actor=reviewer)  # not under review yet
    services.claim_review_start(claim=claim, actor=reviewer)
    with pytest.raises(NotAllowed):
        claims.claim_forward(claim=claim, actor=clerk)
    with pytest.raises(NotAllowed):
        claims.claim_forward(claim=claim, actor=worker)
    claim.refresh_from_db()
    assert claim.status == "under_review"


def test_another_worker_cannot_add_documents(client, forwarded, worker2):
    client.force_login(worker2)
    assert client.post(f"/insurance/claims/{forwarded.pk}/", {"documents": [png()]}).status_code == 404
    assert forwarded.documents.count() == 2


def test_local_insurer_driven_from_the_console_pays_the_worker(
    client, working, worker, reviewer, django_capture_on_commit_callbacks
):
    claim = report(working, worker)
    services.claim_review_start(claim=claim, actor=reviewer)
    client.force_login(reviewer)
    changelist = "/admin/insurance/accidentclaim/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "forward", "_selected_action": [claim.pk], "post": "yes"}
        )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "forwarded" and claim.insurer_claim_no.startswith(
        "LC"
    )  # eager task, local insurer
    form = {"action": "local_insurer", "_selected_action": [claim.pk], "post": "yes", "decision": "paid"}
    page = client.post(changelist, form)  # no amount: the form says so, nothing moves
    assert page.status_code == 200 and "赔付时请填写赔付金额" in page.content.decode()
    assert client.post(changelist, {**form, "amount": "3200"}).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.payout_fen == 3200_00
    assert bal(ledger.worker_account(worker)) >= 3200_00 and books_clean()
    assert InsurerCallback.objects.filter(claim=claim, status="paid").count() == 1


def test_local_insurer_is_not_offered_with_a_real_insurer(insurer, forwarded, reviewer):
    claim = submitted(forwarded)
    with pytest.raises(NotAllowed):
        claims.local_insurer_decide(claim=claim, actor=reviewer, decision="paid", amount_fen=100)
    assert AccidentClaim.objects.get(pk=claim.pk).status == "forwarded"


def test_staff_can_no_longer_reject_a_claim_the_insurer_holds(forwarded, reviewer):
    with pytest.raises(InvalidTransition):
        services.claim_reject(claim=forwarded, actor=reviewer, reason="重复报案")
