"""Bulk import (批量导入): villagers and a walk-in employer's posts from xlsx or CSV. Preview writes nothing;
confirm writes all rows or none; every bad row is reported in Chinese; only the uploader sees the batch."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts import services as account_services
from accounts.models import RealName, User
from core.errors import DomainError, NotAllowed
from jobs.models import Post
from notifications.models import Message
from outreach import imports
from outreach.models import ImportBatch
from tests.factories import AreaFactory, EmployerFactory, TradeFactory, UserFactory, id_number

from .conftest import make_staff

pytestmark = pytest.mark.django_db

VILLAGER_HEADER = ["姓名*", "手机号*", "身份证号", "想干的工种", "会干什么"]


@pytest.fixture
def importer(points):
    return make_staff("13900000201", "陈站长", points["a"], extra=("register_on_behalf", "post_on_behalf"))


@pytest.fixture
def other_importer(points):
    return make_staff("13900000202", "林站长", points["b"], extra=("register_on_behalf", "post_on_behalf"))


@pytest.fixture
def trades(db):
    return [TradeFactory(name="保洁"), TradeFactory(name="搬运")]


def xlsx(header: list[str], rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_villagers() -> list[list]:
    return [
        ["张大山", "13812340001", id_number(1, birth=dt.date(1968, 3, 2)), "保洁、搬运", "砌墙，开叉车"],
        ["李秀英", "+86 138-1234-0002", "", "保洁", ""],
        ["王小二", 13812340003, id_number(3, birth=dt.date(1972, 5, 9)), "", ""],  # a phone typed as a number
    ]


def preview(
    importer, rows, *, header=VILLAGER_HEADER, kind="villagers", employer=None, filename="登记表.xlsx"
):
    return imports.import_preview(
        kind=kind, actor=importer, data=xlsx(header, rows), filename=filename, employer=employer
    )


# ----------------------------------------------------------------------------------------- villagers


def test_preview_writes_nothing_and_confirm_imports_every_row(importer, trades, points):
    users_before = User.objects.count()
    batch = preview(importer, good_villagers())
    assert batch.row_count == 3 and batch.error_count == 0
    assert [r["ok"] for r in batch.result["rows"]] == [True, True, True]
    assert batch.result["rows"][0]["summary"].startswith("张** 138****0001 1" + "*" * 16)
    assert "张大山" not in str(batch.result)  # the stored report is masked
    assert User.objects.count() == users_before
    assert not Message.objects.filter(template="outreach_import_invite").exists()

    batch = imports.import_confirm(batch=batch, actor=importer)
    assert batch.status == ImportBatch.Status.IMPORTED and batch.content == ""
    dashan = User.objects.get(phone="13812340001")
    assert not dashan.is_active and dashan.registered_by == importer and dashan.service_point == points["a"]
    assert dashan.role == User.Role.SEEKER and not dashan.has_usable_password()
    assert set(dashan.worker_profile.wanted_trades.values_list("name", flat=True)) == {"保洁", "搬运"}
    assert dashan.worker_profile.skills == ["砌墙", "开叉车"]
    assert dashan.realname.status == RealName.Status.PENDING
    assert not hasattr(User.objects.get(phone="13812340002"), "realname")
    assert User.objects.filter(phone="13812340003").exists()
    invite = Message.objects.get(phone="13812340001", template="outreach_import_invite")
    assert "东岭村零工驿站" in invite.body
    with pytest.raises(DomainError):  # a second confirmation imports nothing twice
        imports.import_confirm(batch=batch, actor=importer)


def test_every_bad_row_is_reported_and_nothing_is_imported(importer, trades):
    UserFactory(phone="13812349999", name="老用户")
    rows = [
        ["张大山", "13812340001", id_number(1), "保洁", ""],  # fine
        ["李秀英", "12345", "", "", ""],  # bad phone
        ["王小二", "13812340003", "110105197506150010", "", ""],  # bad check digit
        ["赵四", "13812340001", "", "", ""],  # phone repeated from row 2
        ["钱五", "13812349999", "", "", ""],  # already registered
        ["孙六", "13812340006", id_number(1), "", ""],  # ID repeated from row 2
        ["周七", "13812340007", "", "挖掘机", ""],  # unknown trade
        ["X", "13812340008", "", "", ""],  # bad name
    ]
    batch = preview(importer, rows)
    report = {r["row"]: r["errors"] for r in batch.result["rows"]}
    assert report[2] == []
    assert report[3] == ["手机号：请输入11位中国大陆手机号"]
    assert report[4] == ["身份证号：身份证号最后一位校验码不对，请逐位核对"]
    assert report[5] == ["手机号：与第2行重复"]
    assert report[6] == ["手机号：该手机号已有账户，不能重复登记"]
    assert report[7] == ["身份证号：与第2行重复"]
    assert report[8] == ["想干的工种：没有“挖掘机”这个工种"]
    assert report[9] == ["姓名：请填写身份证上的姓名（2–30个字）"]
    assert batch.error_count == 7
    batch = imports.import_confirm(batch=batch, actor=importer)
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert not User.objects.filter(phone="13812340001").exists()  # the good row was not imported either


def test_a_conflict_arising_after_the_preview_stops_the_whole_import(importer, trades):
    batch = preview(importer, good_villagers())
    assert batch.error_count == 0
    UserFactory(phone="13812340003", name="抢先注册")  # registers themselves in the meantime
    batch = imports.import_confirm(batch=batch, actor=importer)
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.error_count == 1
    assert not User.objects.filter(phone__in=["13812340001", "13812340002"]).exists()
    assert not RealName.objects.exists()
    assert not Message.objects.filter(template="outreach_import_invite").exists()


def test_an_imported_villager_activates_through_the_existing_assisted_flow(importer, trades, outbox):
    imports.import_confirm(batch=preview(importer, good_villagers()[:1]), actor=importer)
    importer.user_permissions.add(Permission.objects.get(codename="register_on_behalf"))
    account_services.user_register_assisted(staff=importer, phone="13812340001", name="张大山")
    user = account_services.user_confirm_assisted(
        staff=importer, phone="13812340001", code=outbox.code("13812340001")
    )
    assert user.is_active and user.realname.status == RealName.Status.PENDING


def test_csv_in_gbk_as_excel_saves_it(importer, trades):
    text = "姓名,手机号,身份证号,想干的工种\n张大山,13812340001,,保洁\n"
    batch = imports.import_preview(
        kind="villagers", actor=importer, data=text.encode("gb18030"), filename="登记.csv"
    )
    assert batch.error_count == 0 and batch.row_count == 1
    imports.import_confirm(batch=batch, actor=importer)
    assert User.objects.get(phone="13812340001").name == "张大山"


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (xlsx(["姓名", "身份证号"], [["张大山", ""]]), "a.xlsx", "缺少列：手机号"),
        (xlsx(VILLAGER_HEADER, []), "a.xlsx", "没有数据行"),
        (b"\x00\x01binary", "a.doc", "只接受"),
        (b"PK\x03\x04broken", "a.xlsx", "打不开"),
    ],
)
def test_file_level_problems(importer, data, filename, message):
    with pytest.raises(DomainError) as exc:
        imports.import_preview(kind="villagers", actor=importer, data=data, filename=filename)
    assert exc.value.field == "file" and message in exc.value.message
    assert not ImportBatch.objects.exists()


def test_too_many_rows(importer, settings):
    settings.OUTREACH_IMPORT_MAX_ROWS = 2
    with pytest.raises(DomainError, match="一次最多导入2行"):
        preview(importer, good_villagers())


def test_permissions(importer, staff_a, trades):
    with pytest.raises(NotAllowed):
        preview(staff_a, good_villagers())  # outreach staff without 代注册
    batch = preview(importer, good_villagers())
    someone = make_staff("13900000299", "别人", importer.service_point, extra=("register_on_behalf",))
    with pytest.raises(NotAllowed):
        imports.import_confirm(batch=batch, actor=someone)


# -------------------------------------------------------------------------------------------- pages


def test_pages_preview_then_confirm(client, importer, trades):
    client.force_login(importer)
    upload = SimpleUploadedFile("登记表.xlsx", xlsx(VILLAGER_HEADER, good_villagers()))
    response = client.post(reverse("outreach:import_upload"), {"kind": "villagers", "file": upload})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    page = client.get(response.url).content.decode()
    assert "全部检查通过" in page and "确认导入这 3 行" in page
    response = client.post(reverse("outreach:import_confirm", args=[batch.pk]), follow=True)
    assert "已导入 3 行" in response.content.decode()
    assert User.objects.filter(registered_by=importer).count() == 3


def test_pages_show_row_errors_and_file_errors(client, importer, trades):
    client.force_login(importer)
    rows = [["张大山", "12345", "", "", ""]]
    upload = SimpleUploadedFile("登记表.xlsx", xlsx(VILLAGER_HEADER, rows))
    response = client.post(
        reverse("outreach:import_upload"), {"kind": "villagers", "file": upload}, follow=True
    )
    page = response.content.decode()
    assert "1 行有误" in page and "手机号：请输入11位中国大陆手机号" in page and "确认导入" not in page
    upload = SimpleUploadedFile("登记表.xlsx", xlsx(["姓名"], [["张大山"]]))
    response = client.post(reverse("outreach:import_upload"), {"kind": "villagers", "file": upload})
    assert response.status_code == 200 and "缺少列：手机号" in response.content.decode()


def test_another_staff_member_cannot_see_or_confirm_my_batch(client, importer, other_importer, trades):
    batch = preview(importer, good_villagers())
    client.force_login(other_importer)
    assert client.get(reverse("outreach:import_preview", args=[batch.pk])).status_code == 404
    assert client.post(reverse("outreach:import_confirm", args=[batch.pk])).status_code == 404
    assert not User.objects.filter(phone="13812340001").exists()


def test_workers_cannot_import(client, alice):
    client.force_login(alice)
    assert client.get(reverse("outreach:import_upload")).status_code == 403
    assert client.get(reverse("outreach:import_template", args=["villagers", "xlsx"])).status_code == 403


def test_templates_download_and_a_blank_template_has_no_rows(client, importer):
    client.force_login(importer)
    response = client.get(reverse("outreach:import_template", args=["posts", "xlsx"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in book.worksheets[0][1]]
    assert header[:3] == ["工种*", "标题*", "工作内容"]
    assert book.sheetnames == ["导入数据", "填写说明"]
    csv_body = client.get(reverse("outreach:import_template", args=["villagers", "csv"])).content
    assert csv_body.decode("utf-8-sig").startswith("姓名,手机号,身份证号")
    with pytest.raises(DomainError, match="没有数据行"):
        imports.import_preview(kind="posts", actor=importer, data=response.content, filename="t.xlsx",
                               employer=EmployerFactory(service_point=importer.service_point))  # fmt: skip
    assert client.get(reverse("outreach:import_template", args=["nope", "xlsx"])).status_code == 404


# -------------------------------------------------------------------------------------------- posts

POST_HEADER = [label for _k, label, _r, _n in imports.POST_COLUMNS]


def post_row(title: str, start: dt.datetime, **overrides) -> list:
    values = {
        "工种": "保洁", "标题": title, "工作内容": "打扫厂房", "报酬（元）": 180, "计价单位": "天", "每人数量": 1,
        "招工人数": 3, "工作地区": "350186001000", "详细地址": "工业区8号", "开工时间": start.replace(tzinfo=None),
        "收工时间": (start + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"), "接单方式": "抢单",
        "要求意外险": "否", "联系人": "陈老板", "联系电话": "13700001111",
    }  # fmt: skip
    values.update(overrides)
    return [values[h] for h in POST_HEADER]


@pytest.fixture
def walk_in(points):
    return EmployerFactory(name="东岭家政服务部", service_point=points["a"])  # the importer's station


@pytest.fixture
def street_area(db):
    district = AreaFactory(name="青溪区", code="350186000000", level="district")
    return AreaFactory(name="西城街道", code="350186001000", level="street", parent=district)


def test_posts_import_publishes_on_behalf(importer, walk_in, trades, street_area):
    start = timezone.localtime() + dt.timedelta(days=3)
    rows = [
        post_row("厂房保洁3名", start),
        post_row("仓库搬运2名", start, **{"工种": "搬运", "招工人数": 2, "工作地区": "西城街道"}),
    ]
    batch = preview(importer, rows, header=POST_HEADER, kind="posts", employer=walk_in)
    assert batch.error_count == 0, batch.result
    assert not Post.objects.exists()
    imports.import_confirm(batch=batch, actor=importer)
    posts = Post.objects.order_by("pk")
    assert [p.title for p in posts] == ["厂房保洁3名", "仓库搬运2名"]
    for post in posts:
        assert post.status == Post.Status.OPEN and post.on_behalf_by == importer and post.employer == walk_in
        assert post.service_point == importer.service_point and post.area == street_area
    assert posts[0].pay_fen == 18000 and posts[0].slots == 3


def test_a_bad_post_row_stops_every_post(importer, walk_in, trades, street_area):
    start = timezone.localtime() + dt.timedelta(days=3)
    rows = [
        post_row("厂房保洁3名", start),
        post_row("过去的活", timezone.localtime() - dt.timedelta(days=1)),
        post_row("厂房保洁3名", start),  # same as row 2
        post_row(
            "乱填", start, **{"计价单位": "斤", "报酬（元）": "abc", "要求意外险": "可能", "联系电话": "123"}
        ),
    ]
    batch = preview(importer, rows, header=POST_HEADER, kind="posts", employer=walk_in)
    report = {r["row"]: r["errors"] for r in batch.result["rows"]}
    assert report[2] == []
    assert report[3] == ["开工时间：开工时间已过，请重新选择"]
    assert report[4] == ["标题：与第2行完全相同"]
    assert "报酬（元）：请填写金额（元），最多两位小数" in report[5]
    assert "计价单位：请填写 小时、天、件、课时 或 整单" in report[5]
    assert "要求意外险：请填写 是 或 否" in report[5]
    imports.import_confirm(batch=batch, actor=importer)
    assert not Post.objects.exists()


def test_posts_import_needs_an_approved_employer_and_the_permission(importer, staff_a, trades, street_area):
    pending = EmployerFactory(status="pending")
    start = timezone.localtime() + dt.timedelta(days=3)
    with pytest.raises(DomainError) as exc:
        preview(
            importer, [post_row("厂房保洁3名", start)], header=POST_HEADER, kind="posts", employer=pending
        )
    assert exc.value.field == "employer"
    with pytest.raises(NotAllowed):
        preview(
            staff_a,
            [post_row("厂房保洁3名", start)],
            header=POST_HEADER,
            kind="posts",
            employer=EmployerFactory(),
        )


def test_an_oversized_upload_is_refused_on_the_page(client, importer, settings):
    settings.OUTREACH_IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(importer)
    upload = SimpleUploadedFile("big.csv", b"a" * (1024 * 1024 + 1))
    response = client.post(reverse("outreach:import_upload"), {"kind": "villagers", "file": upload})
    assert response.status_code == 200 and "文件不能超过1MB" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_full_batch_of_500_villagers(importer, trades):
    """A whole file's worth goes through preview and confirm. How long it takes is not asserted: speed
    figures stay out of the suite (on a loaded box such an assertion fails for the box, not the code)."""
    rows = [
        [f"村民{chr(0x4E00 + i)}", f"1381235{i:04d}", id_number(i, birth=dt.date(1960, 1, 1) + dt.timedelta(days=i)),
         "保洁", ""]
        for i in range(500)
    ]  # fmt: skip
    batch = preview(importer, rows)
    assert batch.error_count == 0 and len(batch.result["rows"]) == 500
    imports.import_confirm(batch=batch, actor=importer)
    assert User.objects.filter(registered_by=importer, is_active=False).count() == 500


def test_unconfirmed_files_are_emptied_after_the_keep_time(importer, trades, settings):
    from outreach.tasks import purge_import_files

    batch = preview(importer, good_villagers())
    assert purge_import_files.delay().get() == 0
    later = timezone.now() + dt.timedelta(hours=settings.OUTREACH_IMPORT_KEEP_HOURS + 1)
    assert imports.import_files_purge(now=later) == 1
    batch.refresh_from_db()
    assert batch.content == "" and batch.result["rows"]  # the masked report stays
    with pytest.raises(DomainError, match="已过期"):
        imports.import_confirm(batch=batch, actor=importer)
