"""Every outreach page renders for the people it is for, and refuses the others."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import make_course

pytestmark = pytest.mark.django_db


def test_public_pages_render_for_anonymous_visitors(client, points, trade):
    course = make_course(points["a"], trade=trade)
    for url in (
        reverse("outreach:course_list"),
        reverse("outreach:course_detail", args=[course.pk]),
        reverse("outreach:article_list"),
        reverse("outreach:certificate_verify"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'href="/static/css/outreach.css"' in response.content.decode()
    assert "登录后报名" in client.get(reverse("outreach:course_detail", args=[course.pk])).content.decode()
    login = reverse("accounts:login")
    for url in (reverse("outreach:my_trainings"), reverse("outreach:training_needs")):
        assert client.get(url).url.startswith(login)


def test_an_unpublished_course_is_not_public(client, points, trade):
    hidden = make_course(points["a"], trade=trade, is_published=False)
    assert client.get(reverse("outreach:course_detail", args=[hidden.pk])).status_code == 404
    assert hidden.title not in client.get(reverse("outreach:course_list")).content.decode()


def test_worker_pages_render(client, alice, trade):
    client.force_login(alice)
    assert client.get(reverse("outreach:my_trainings")).status_code == 200
    page = client.get(reverse("outreach:training_needs")).content.decode()
    assert trade.name in page


def test_staff_pages_render_and_refuse_workers(client, staff_a, alice):
    urls = [
        reverse("outreach:staff_followups"),
        reverse("outreach:staff_followups") + "?tab=done",
        reverse("outreach:staff_courses"),
    ]
    client.force_login(staff_a)
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.force_login(alice)
    for url in urls:
        assert client.get(url).status_code == 403, url
