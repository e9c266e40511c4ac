"""The policy document and claim pages: both sides of the order (and staff) read the policy, nobody else;
the worker reports with documents through the page; a claim and its documents are seen by the insured
worker and claim staff only, never through public media; the order page shows the policy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from insurance.models import AccidentClaim, ClaimDocument

from .helpers import at, pdf, png, report

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def local_input(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_both_sides_and_staff_read_the_policy_document(client, working, worker, boss, reviewer):
    url = reverse("insurance:policy", args=[working.pk])
    policy = working.policy
    for who in (worker, boss, reviewer):
        client.force_login(who)
        page = html(client.get(url))
        assert policy.policy_number in page and "零工市场测试保险" in page and "保障中" in page
        assert worker.realname.id_masked in page and worker.realname.id_number not in page
        assert "1000000 元" in page and "6 元" in page and "风险等级 4 级" in page
        assert "马架龙建筑劳务公司" in page and "怎么理赔" in page
    client.force_login(worker)
    assert reverse("insurance:claim_create", args=[working.pk]) in html(client.get(url))
    client.force_login(boss)
    assert reverse("insurance:claim_create", args=[working.pk]) not in html(client.get(url))


def test_nobody_else_reads_the_policy(client, working, charlie, worker2, staff):
    url = reverse("insurance:policy", args=[working.pk])
    for who in (charlie, worker2, staff):  # staff without the policy permission too
        client.force_login(who)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_order_page_shows_the_policy(client, issued, worker, boss):
    for who in (worker, boss):
        client.force_login(who)
        page = html(client.get(reverse("jobs:order_detail", args=[issued.pk])))
        assert 'id="policy-panel"' in page and issued.policy.policy_number in page
        assert reverse("insurance:policy", args=[issued.pk]) in page


def test_worker_reports_through_the_page_and_reads_the_claim(client, working, worker):
    client.force_login(worker)
    url = reverse("insurance:claim_create", args=[working.pk])
    accident = working.starts_at + dt.timedelta(hours=2)
    with at(accident + dt.timedelta(hours=1)):
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {"accident_at": local_input(accident), "place": "工地三号楼二层",
             "description": "搭架时从二层踩空摔下，左腿骨折，送市第一医院", "documents": [png(), pdf()]},
        )  # fmt: skip
    claim = AccidentClaim.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "insurance:claim_detail", args=[claim.pk]
    )
    assert claim.documents.count() == 2 and claim.reported_by == worker
    page = html(client.get(response["Location"]))
    assert claim.number in page and "已报案" in page and "左腿骨折" in page
    doc = claim.documents.first()
    download = client.get(reverse("insurance:claim_document", args=[claim.pk, doc.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert claim.number in html(client.get(reverse("insurance:my_claims")))


def test_bad_documents_are_shown_on_the_form_and_nothing_saved(client, working, worker):
    client.force_login(worker)
    url = reverse("insurance:claim_create", args=[working.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("诊断.pdf", b"hello, not a pdf", content_type="application/pdf")
    with at(working.starts_at + dt.timedelta(hours=3)):
        response = client.post(
            url,
            {"accident_at": local_input(working.starts_at + dt.timedelta(hours=2)), "place": "工地",
             "description": "搭架时从二层踩空摔下，左腿骨折", "documents": [fake]},
        )  # fmt: skip
    assert response.status_code == 400 and "不是 JPG、PNG 图片或 PDF 文件" in html(response)
    assert not AccidentClaim.objects.exists() and not ClaimDocument.objects.exists()


def test_employer_and_strangers_cannot_report_or_open_claims(
    client, working, worker, boss, charlie, reviewer
):
    claim = report(working, worker)
    doc = claim.documents.first()
    client.force_login(boss)
    assert client.get(reverse("insurance:claim_create", args=[working.pk])).status_code == 403
    assert claim.number in html(client.get(reverse("insurance:policy", args=[working.pk])))  # status only
    for who in (boss, charlie):
        client.force_login(who)
        assert client.get(reverse("insurance:claim_detail", args=[claim.pk])).status_code == 404
        assert client.get(reverse("insurance:claim_document", args=[claim.pk, doc.pk])).status_code == 404
    client.force_login(charlie)
    assert client.get(reverse("insurance:claim_create", args=[working.pk])).status_code == 404
    client.force_login(reviewer)
    assert client.get(reverse("insurance:claim_detail", args=[claim.pk])).status_code == 200
    assert client.get(reverse("insurance:claim_document", args=[claim.pk, doc.pk])).status_code == 200
    # The file is not reachable as media, even for its owner.
    client.force_login(worker)
    assert client.get(f"/media/{doc.file.name}").status_code == 404
    # A document id under another claim is not found.
    other = report(working, worker)
    assert client.get(reverse("insurance:claim_document", args=[other.pk, doc.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("insurance:claim_document", args=[claim.pk, doc.pk])).status_code == 302


def test_failed_policy_page_explains_and_offers_no_claim(client, issued, worker):
    from insurance import services

    issued.policy.status = "pending"
    issued.policy.save(update_fields=["status"])
    services.policy_fail(policy=issued.policy, reason="保险公司拒保该风险（2001）")
    client.force_login(worker)
    page = html(client.get(reverse("insurance:policy", args=[issued.pk])))
    assert "出单失败" in page and "2001" in page and "已退回用工方" in page
    assert reverse("insurance:claim_create", args=[issued.pk]) not in page
