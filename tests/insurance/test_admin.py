"""The staff console: the premium table edited in yuan; policies listed with failed ones a filter away and
重新出单 for pending ones; claims reviewed, approved with a payout or rejected with a reason through actions
that call the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from insurance.models import AccidentClaim, Policy, PremiumRate
from wallet import ledger

from .helpers import bal, books_clean, report

pytestmark = pytest.mark.django_db


def test_premium_table_is_edited_in_yuan(client, reviewer):
    client.force_login(reviewer)
    rate = PremiumRate.objects.get(risk_class=4)
    url = reverse("admin:insurance_premiumrate_change", args=[rate.pk])
    page = client.get(url).content.decode()
    assert 'value="6"' in page and 'value="1000000"' in page
    response = client.post(
        url, {"risk_class": 4, "premium_fen": "7.5", "cover_fen": "800000", "insurable": "on"}
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert (rate.premium_fen, rate.cover_fen, rate.insurable) == (750, 80_000_000, True)
    for bad in ("7.555", "0", "-3", "abc", "2000"):
        response = client.post(url, {"risk_class": 4, "premium_fen": bad, "cover_fen": "800000"})
        assert response.status_code == 200 and "errorlist" in response.content.decode(), bad
    rate.refresh_from_db()
    assert rate.premium_fen == 750
    listing = client.get(reverse("admin:insurance_premiumrate_changelist")).content.decode()
    assert "7.50元" in listing


def test_policy_list_and_retry(client, reviewer, order, django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    changelist = reverse("admin:insurance_policy_changelist")
    policy = Policy.objects.get(order=order)
    Policy.objects.filter(pk=policy.pk).update(attempts=8, last_error="保险公司接口暂时无法连接")
    listing = client.get(changelist, {"status__exact": "pending"}).content.decode()
    assert "保险公司接口暂时无法连接" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_issue", "_selected_action": [policy.pk]}, follow=True
        )
    assert "已为 1 张保单重新发起出单" in response.content.decode()
    policy.refresh_from_db()
    assert policy.status == "issued" and policy.attempts == 1
    # Only pending policies can be retried: the refusal is shown, nothing changes.
    response = client.post(
        changelist, {"action": "retry_issue", "_selected_action": [policy.pk]}, follow=True
    )
    assert "只有出单中的保单可以重新出单" in response.content.decode()
    assert client.get(reverse("admin:insurance_policy_change", args=[policy.pk])).status_code == 200


def test_claim_review_actions(client, reviewer, working, worker):
    claim = report(working, worker)
    client.force_login(reviewer)
    changelist = reverse("admin:insurance_accidentclaim_changelist")
    page = client.get(reverse("admin:insurance_accidentclaim_change", args=[claim.pk])).content.decode()
    assert reverse("insurance:claim_document", args=[claim.pk, claim.documents.first().pk]) in page
    client.post(changelist, {"action": "start_review", "_selected_action": [claim.pk]})
    assert AccidentClaim.objects.get(pk=claim.pk).status == "under_review"
    form = client.post(changelist, {"action": "approve", "_selected_action": [claim.pk]})
    assert "剩余可赔" in form.content.decode()
    too_much = client.post(
        changelist,
        {"action": "approve", "_selected_action": [claim.pk], "post": "yes", "payout": "1000000.01"},
    )
    assert "超过保额" in too_much.content.decode()
    assert AccidentClaim.objects.get(pk=claim.pk).status == "under_review"
    client.post(
        changelist, {"action": "approve", "_selected_action": [claim.pk], "post": "yes", "payout": "1234.5"}
    )
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.payout_fen == 123450
    assert bal(ledger.worker_account(worker)) == 123450 and books_clean()


def test_claim_reject_action_needs_a_reason(client, reviewer, working, worker):
    claim = report(working, worker)
    client.force_login(reviewer)
    changelist = reverse("admin:insurance_accidentclaim_changelist")
    client.post(changelist, {"action": "reject", "_selected_action": [claim.pk], "post": "yes", "reason": ""})
    assert AccidentClaim.objects.get(pk=claim.pk).status == "reported"
    client.post(
        changelist, {"action": "reject", "_selected_action": [claim.pk], "post": "yes", "reason": "材料不全"}
    )
    assert AccidentClaim.objects.get(pk=claim.pk).status == "rejected"


def test_staff_without_claim_permissions_cannot_act(client, clerk, working, worker):
    claim = report(working, worker)
    client.force_login(clerk)
    changelist = reverse("admin:insurance_accidentclaim_changelist")
    assert client.get(changelist).status_code == 403
    client.post(changelist, {"action": "start_review", "_selected_action": [claim.pk]})
    assert AccidentClaim.objects.get(pk=claim.pk).status == "reported"
