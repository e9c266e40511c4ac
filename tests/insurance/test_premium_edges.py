"""The premium table at its edges: the class where cover becomes required and the last insurable class (at,
one below, one above), a class missing from the table, the terms a post keeps, and each way a premium is 0."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from insurance.models import DEFAULT_COVER_FEN, DEFAULT_PREMIUMS_FEN, PostQuote, PremiumRate
from insurance.premiums import cover_required, post_quote, premium_for_post, quote

pytestmark = pytest.mark.django_db


def draft(*, risk_class: int, insured: bool = False):
    return SimpleNamespace(
        pk=None, status="draft", insurance_required=insured, trade=SimpleNamespace(risk_class=risk_class)
    )


@pytest.mark.parametrize(("risk_class", "required"), [(3, False), (4, True), (5, True)])
def test_cover_is_required_from_the_configured_class(settings, risk_class, required):
    settings.INSURANCE_REQUIRED_FROM_CLASS = 4
    assert cover_required(post=draft(risk_class=risk_class)) is required


def test_a_post_that_asks_for_cover_needs_it_in_any_class(settings):
    settings.INSURANCE_REQUIRED_FROM_CLASS = 4
    assert cover_required(post=draft(risk_class=1, insured=True)) is True
    assert cover_required(post=draft(risk_class=1, insured=False)) is False


@pytest.mark.parametrize(("risk_class", "insurable"), [(4, True), (5, True), (6, False)])
def test_the_last_insurable_class_is_insured_and_the_next_is_refused(settings, risk_class, insurable):
    settings.INSURANCE_MAX_CLASS = 5
    q = quote(risk_class=risk_class)
    assert q.insurable is insurable
    if insurable:
        assert (q.premium_fen, q.cover_fen, q.reason) == (
            PremiumRate.objects.get(risk_class=risk_class).premium_fen,
            DEFAULT_COVER_FEN,
            "",
        )
    else:
        assert (q.premium_fen, q.cover_fen) == (0, 0)
        assert q.reason == "6级风险工种超出承保范围，保险公司不予承保"


def test_a_row_of_the_table_gives_its_own_premium_and_cover():
    PremiumRate.objects.filter(risk_class=2).update(premium_fen=450, cover_fen=50_000_000)
    q = quote(risk_class=2)
    assert (q.insurable, q.premium_fen, q.cover_fen) == (True, 450, 50_000_000)


def test_a_class_missing_from_the_table_falls_back_to_the_default_premiums():
    PremiumRate.objects.filter(risk_class=3).delete()
    q = quote(risk_class=3)
    assert (q.insurable, q.premium_fen, q.cover_fen) == (True, DEFAULT_PREMIUMS_FEN[3], DEFAULT_COVER_FEN)


def test_a_class_unknown_to_the_defaults_pays_the_top_rate(settings):
    settings.INSURANCE_MAX_CLASS = 7
    PremiumRate.objects.all().delete()
    assert quote(risk_class=7).premium_fen == DEFAULT_PREMIUMS_FEN[6]


def test_a_draft_has_no_fixed_terms_and_pays_the_current_rate(settings):
    settings.INSURANCE_REQUIRED_FROM_CLASS = 4
    assert post_quote(post=draft(risk_class=4)) is None
    assert premium_for_post(post=draft(risk_class=4)) == DEFAULT_PREMIUMS_FEN[4]
    assert premium_for_post(post=draft(risk_class=3)) == 0  # no cover needed
    PremiumRate.objects.filter(risk_class=4).update(insurable=False)
    assert premium_for_post(post=draft(risk_class=4)) == 0  # needed but cannot be had


def test_a_published_post_keeps_the_terms_fixed_on_first_use(publish):
    post = publish()
    fixed = post_quote(post=post)
    assert (fixed.required, fixed.insurable, fixed.risk_class, fixed.premium_fen, fixed.cover_fen) == (
        True,
        True,
        4,
        PremiumRate.objects.get(risk_class=4).premium_fen,
        DEFAULT_COVER_FEN,
    )
    PremiumRate.objects.filter(risk_class=4).update(premium_fen=999, cover_fen=1)
    assert post_quote(post=post).pk == fixed.pk
    assert premium_for_post(post=post) == fixed.premium_fen


@pytest.mark.parametrize(
    ("required", "insurable", "premium"), [(True, True, 600), (True, False, 0), (False, True, 0)]
)
def test_a_fixed_quote_charges_only_when_required_and_insurable(publish, required, insurable, premium):
    post = publish()
    PostQuote.objects.filter(post=post).update(required=required, insurable=insurable, premium_fen=600)
    assert premium_for_post(post=post) == premium
