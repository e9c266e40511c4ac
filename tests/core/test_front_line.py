"""The front line's small pieces, without a browser: Chinese dates, field-specific required messages, the
inbox's links as buttons on the request's host, 长辈模式's switch, the favicon, and the home page of an
approved company owner who never did a personal real-name."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from accounts.elder import COOKIE
from accounts.forms import CertificateForm, RealNameForm
from accounts.models import Employer, User
from core.forms import PageForm
from core.templatetags.cn_dates import cn_date, when_text
from jobs.forms import PostForm
from notifications.models import Message
from notifications.selectors import inbox_entry
from notifications.services import message_queue
from tests.factories import EmployerFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2026, 12, 7, 8, 45, tzinfo=SHANGHAI), "今天 08:45"),
        (dt.datetime(2026, 12, 8, 0, 5, tzinfo=SHANGHAI), "明天 00:05"),
        (dt.datetime(2026, 12, 6, 23, 59, tzinfo=SHANGHAI), "昨天 23:59"),
        (dt.datetime(2026, 12, 9, 7, 0, tzinfo=SHANGHAI), "后天 07:00"),
        (dt.datetime(2026, 12, 17, 7, 0, tzinfo=SHANGHAI), "12月17日 07:00"),
        (dt.datetime(2025, 3, 1, 7, 0, tzinfo=SHANGHAI), "2025年3月1日 07:00"),
        # UTC 00:30 on the 8th is 08:30 on the 8th in the market's own time zone
        (dt.datetime(2026, 12, 8, 0, 30, tzinfo=dt.UTC), "明天 08:30"),
        (dt.date(2026, 12, 7), "今天"),
        (dt.date(2027, 1, 2), "2027年1月2日"),
        (None, ""),
    ],
)
def test_when_says_dates_the_chinese_way(value, text, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert when_text(value, now=NOW) == text


def test_cn_date_is_the_full_calendar_date():
    assert cn_date(dt.date(2026, 12, 7)) == "2026年12月7日"
    assert cn_date(None) == ""


class _Sample(PageForm):
    contact = forms.CharField(label="联系人")
    trade = forms.ChoiceField(label="工种", choices=[("a", "瓦工")])
    photo = forms.FileField(label="证件照片")
    agree = forms.BooleanField(label="我已阅读并同意")
    phone = forms.CharField(label="手机号", error_messages={"required": "请输入手机号"})


def test_required_fields_say_which_field_and_what_to_do():
    form = _Sample(data={})
    assert not form.is_valid()
    assert form.errors == {
        "contact": ["请填写联系人"],
        "trade": ["请选择工种"],
        "photo": ["请上传证件照片"],
        "agree": ["请勾选“我已阅读并同意”"],
        "phone": ["请输入手机号"],  # the form's own message is kept
    }


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", [RealNameForm, CertificateForm, PostForm])
def test_no_page_form_says_the_generic_required_message(form_class, rf):
    try:
        form = form_class(data={})
    except TypeError:
        form = form_class(data={}, user=UserFactory())
    form.is_valid()
    messages = [m for errors in form.errors.values() for m in errors]
    assert messages, "an empty form has required fields"
    assert not [m for m in messages if "必填" in m or "required" in m], messages


@pytest.mark.django_db
def test_inbox_shows_a_recommendation_link_as_a_button_on_this_host(client, settings):
    settings.MATCHING_SITE_URL = "http://127.0.0.1:8000"  # the default: the wrong port for this site
    seeker = UserFactory(phone="13600000071")
    link = "http://127.0.0.1:8000/matching/r/" + "x" * 60 + "/"
    message_queue(
        event_key="t:1",
        template="post_recommended_inapp",
        params={"post": "楼道保洁", "pay": "200元/天", "place": "东城", "start": "12月09日 08:00",
                "reason": "您想干的工种", "link": link},
        recipient=seeker,
        channel=Message.Channel.INAPP,
    )  # fmt: skip
    entry = inbox_entry(Message.objects.get(recipient=seeker))
    assert entry.href == "/matching/r/" + "x" * 60 + "/" and entry.label == "查看详情"
    assert "http" not in entry.text and entry.text.endswith("。") and "楼道保洁" in entry.text

    client.force_login(seeker)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert 'href="/matching/r/' in html and "127.0.0.1:8000" not in html
    assert 'aria-label="未读"' not in html  # axe: aria-label is not allowed on a plain span


@pytest.mark.django_db
def test_a_message_without_a_link_is_shown_as_is():
    seeker = UserFactory(phone="13600000072")
    message = message_queue(
        event_key="t:2",
        template="order_settled",
        params={"post": "楼道保洁", "amount": "200"},
        recipient=seeker,
        channel=Message.Channel.INAPP,
    )
    entry = inbox_entry(message)
    assert entry.href == "" and entry.text == message.body


@pytest.mark.django_db
def test_elder_mode_is_kept_on_the_account_and_the_device(client):
    seeker = UserFactory(phone="13600000073")
    client.force_login(seeker)
    response = client.post(reverse("accounts:elder_mode"), {"on": "1", "next": "/jobs/"})
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert response.cookies[COOKIE].value == "1" and response.cookies[COOKIE]["httponly"]
    assert User.objects.get(pk=seeker.pk).elder_mode is True
    assert 'class="elder"' in client.get(reverse("home")).content.decode()
    # Off again; a foreign "next" is never followed.
    response = client.post(reverse("accounts:elder_mode"), {"on": "0", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
    assert User.objects.get(pk=seeker.pk).elder_mode is False


@pytest.mark.django_db
def test_elder_mode_without_an_account_lives_in_the_cookie(client):
    response = client.post(reverse("accounts:elder_mode"), {"on": "1", "next": "/"})
    assert response.cookies[COOKIE].value == "1"
    assert 'class="elder"' in client.get("/").content.decode()
    assert client.get(reverse("accounts:elder_mode")).status_code == 405


@pytest.mark.django_db
def test_every_page_names_the_favicon(client):
    html = client.get("/").content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
    assert 'rel="icon"' in client.get("/no-such-page/").content.decode()


@pytest.mark.django_db
def test_an_approved_company_owner_is_not_told_to_real_name_before_posting(client):
    boss = UserFactory(phone="13700000071", role="employer")
    EmployerFactory(created_by=boss, name="青溪物业", status=Employer.Status.APPROVED)
    client.force_login(boss)
    html = client.get(reverse("home")).content.decode()
    assert "未实名" not in html and "实名后才能" not in html and "可以发活" in html


@pytest.mark.django_db
def test_a_seeker_without_real_name_is_told_it_is_needed_to_take_work(client):
    client.force_login(UserFactory(phone="13600000074"))
    html = client.get(reverse("home")).content.decode()
    assert "未实名" in html and "实名后才能接单" in html


def test_when_uses_local_time_for_aware_values(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert when_text(timezone.now()).startswith("今天")


@pytest.mark.django_db
def test_favicon_ico_is_never_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")


def test_an_agreement_says_who_has_confirmed():
    from disputes.models import Agreement

    at = timezone.now()
    assert Agreement(status="proposed").status_text == "待双方确认"
    assert Agreement(status="proposed", worker_signed_at=at).status_text == "劳动者已确认，待用工方确认"
    assert Agreement(status="proposed", employer_signed_at=at).status_text == "用工方已确认，待劳动者确认"
    both = Agreement(status="proposed", worker_signed_at=at, employer_signed_at=at)
    assert both.status_text == "双方已确认，待调解员签名"
    assert Agreement(status="signed", worker_signed_at=at, employer_signed_at=at).status_text == "已生效"


def test_the_staff_console_greets_by_name_never_by_the_full_number():
    assert User(phone="13500000001", name="陈晓燕").get_short_name() == "陈晓燕"
    assert User(phone="13500000001", name="").get_short_name() == "135****0001"
