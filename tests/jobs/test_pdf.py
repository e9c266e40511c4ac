"""The e-contract PDF: Chinese text that extracts back, the stored hash, the signature block, and an
embedded font (so any viewer shows it without a Chinese font of its own)."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from jobs import services
from jobs.contract import content_hash
from jobs.models import Contract
from jobs.pdf import NOT_CONFIRMED, render_contract_pdf

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    """All pages' text with whitespace removed: extractors space out CJK glyphs and wrap lines anywhere."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def contract(post, worker):
    claim = services.claim_create(post=post, worker=worker)
    return Contract.objects.select_related("order__post__trade", "order__employer", "order__worker").get(
        order=claim.order
    )


def test_pdf_has_header_clauses_hash_and_unconfirmed_signatures(contract):
    data = render_contract_pdf(contract)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    text = _text(data)
    order_no = f"GM-{contract.order.pk:08d}"
    assert "零工服务协议" in text and order_no in text
    for clause in ("第一条协议双方", "第四条报酬及支付", "第七条争议解决", "第八条其他"):
        assert clause in text
    # clause text as stored in the body, party names and the post's details
    assert _squash("可依法申请劳动人事争议仲裁或向人民法院起诉") in text
    assert contract.order.employer.name in text and "赵洪亮" in text
    assert "200.00元/天" in text  # the fixture post pays 200 yuan a day
    assert contract.content_hash in text
    assert "待双方确认" in text
    assert text.count(NOT_CONFIRMED) >= 2  # both signature boxes


def test_every_line_of_the_body_is_in_the_pdf(contract):
    text = _text(render_contract_pdf(contract))
    for line in contract.body.splitlines():
        if line.strip():
            assert _squash(line) in text, line


def test_signed_contract_shows_who_confirmed_when(contract, boss, worker, outbox):
    order = contract.order
    services.contract_code_send(order=order, user=worker)
    services.contract_sign(order=order, user=worker, code=outbox.code(worker.phone))
    services.contract_code_send(order=order, user=boss)
    signed = services.contract_sign(order=order, user=boss, code=outbox.code(boss.phone))
    assert signed.is_signed

    text = _text(render_contract_pdf(signed))
    assert NOT_CONFIRMED not in text
    assert "双方已确认" in text
    assert f"由{boss.name}确认" in text and "本人确认" in text
    for moment in (signed.worker_signed_at, signed.employer_signed_at):
        assert f"{timezone.localtime(moment):%Y年%m月%d日%H:%M:%S}" in text


def test_font_is_embedded_and_subset(contract):
    reader = PdfReader(io.BytesIO(render_contract_pdf(contract)))
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts, "no fonts in the PDF"
    for name, font in fonts.items():
        assert re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei", name), name  # a subset of the shipped font
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        embedded = [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
        assert embedded, f"{name} is not embedded"
        assert len(descriptor[embedded[0]].get_object().get_data()) > 1000
        assert "/ToUnicode" in font  # text can be copied and searched


def test_tampered_body_is_flagged(contract):
    Contract.objects.filter(pk=contract.pk).update(body=contract.body.replace("甲方不得拖欠", "甲方可以拖欠"))
    contract.refresh_from_db()
    assert content_hash(contract.body) != contract.content_hash
    assert "正文与保存的摘要不一致" in _text(render_contract_pdf(contract))


def test_long_contract_flows_onto_more_pages(post, worker):
    post.description = "清理现场、搬运建材、协助瓦工拌砂浆。" * 120
    post.save(update_fields=["description"])
    claim = services.claim_create(post=post, worker=worker)
    data = render_contract_pdf(claim.order.contract)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    text = _text(data)
    assert f"第1/{len(reader.pages)}页" in text and f"第{len(reader.pages)}/{len(reader.pages)}页" in text
    assert claim.order.contract.content_hash in text
    # nothing lost at the page breaks (once the running footers are taken out of the flow)
    flow = re.sub(r"零工市场·电子协议GM-\d{8}·SHA-256[0-9a-f]{16}…第\d+/\d+页", "", text)
    assert flow.count("清理现场、搬运建材、协助瓦工拌砂浆。") == 120
