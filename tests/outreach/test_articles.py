"""Policy and rights articles: published ones are public (pages and API), drafts are invisible to everyone
outside the admin, and staff edit them in the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from outreach.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(db):
    return Article.objects.create(
        title="灵活就业人员社保补贴申领指南",
        category=Article.Category.SUBSIDY,
        summary="符合条件的可以申领",
        body="第一段：谁可以申请。\n\n第二段：到哪里办。",
        is_published=True,
    )


@pytest.fixture
def draft(db):
    return Article.objects.create(
        title="草稿：欠薪投诉流程", category=Article.Category.RIGHTS, body="还没写完", is_published=False
    )


def test_public_pages_show_published_articles_only(client, published, draft):
    page = client.get(reverse("outreach:article_list")).content.decode()
    assert published.title in page and draft.title not in page
    detail = client.get(reverse("outreach:article_detail", args=[published.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200 and "第一段：谁可以申请。" in body and "第二段：到哪里办。" in body
    assert client.get(reverse("outreach:article_detail", args=[draft.pk])).status_code == 404


def test_category_filter(client, published):
    rights = Article.objects.create(title="工伤了怎么办", category="rights", body="先就医", is_published=True)
    page = client.get(reverse("outreach:article_list"), {"category": "rights"}).content.decode()
    assert rights.title in page and published.title not in page
    page = client.get(reverse("outreach:article_list"), {"category": "nonsense"}).content.decode()
    assert rights.title in page and published.title in page


def test_drafts_are_invisible_in_the_api_even_to_logged_in_users(published, draft, alice):
    api = APIClient()
    listed = api.get("/api/v1/articles/").json()["results"]
    assert [a["id"] for a in listed] == [published.pk]
    assert api.get(f"/api/v1/articles/{published.pk}/").json()["body"].startswith("第一段")
    api.force_authenticate(alice)
    assert api.get(f"/api/v1/articles/{draft.pk}/").status_code == 404
    assert api.get("/api/v1/articles/?category=rights").json()["results"] == []


def test_staff_publish_in_the_admin_and_the_date_is_set(client, staff, draft):
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_article", "view_article"]))
    client.force_login(staff)
    url = reverse("admin:outreach_article_change", args=[draft.pk])
    response = client.post(
        url,
        {"title": "欠薪投诉流程", "category": "rights", "summary": "", "body": "拨打12333", "source": "",
         "is_published": "on", "sort_order": "100"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.is_published and draft.published_at is not None
    assert client.get(reverse("outreach:article_detail", args=[draft.pk])).status_code == 200
