"""批量导入: hall and station staff upload a spreadsheet (xlsx or CSV) of villagers registered offline, or of
a walk-in employer's posts. Every row is checked and run for real inside a transaction; the preview always
rolls back, the confirmation keeps everything only if every row passed — all rows or none.

Villagers cannot read back an SMS code in bulk, so an imported villager gets the same account as the
existing 代注册 flow before confirmation: inactive, ``registered_by`` the staff member, at the staff's
point, with the ID number (if given) submitted as a real-name record pending the configured check, and an
SMS inviting them to the station. There the staff member opens 代注册 with the same phone number — the
existing flow takes the unconfirmed account over, sends the code, and the villager's read-back activates it.

Posts are created with :func:`jobs.services.post_create` (``publish=True``) for the chosen approved
employer, exactly like 代发岗位: the staff member is recorded as ``on_behalf_by``.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Area, Employer, RealName, User
from accounts.validators import normalize_id_number, normalize_phone, validate_name
from core.crypto import blind_index
from core.errors import DomainError, InvalidTransition, NotAllowed
from core.masking import mask_id_number, mask_name, mask_phone
from core.scoping import object_visible_to
from core.services import audit_record
from core.spreadsheets import Sheet, csv_bytes, xlsx_bytes
from jobs import services as job_services
from jobs.models import Post, Trade
from notifications.services import message_queue

from .models import ImportBatch

# (key, header, required, note)
VILLAGER_COLUMNS = [
    ("name", "姓名", True, "身份证上的姓名"),
    ("phone", "手机号", True, "11位手机号，短信邀请发到这个号码"),
    ("id_number", "身份证号", False, "18位，可不填；填了就提交实名，待工作人员核验"),
    ("trades", "想干的工种", False, "工种名称，多个用顿号或逗号隔开，如：保洁、搬运"),
    ("skills", "会干什么", False, "自由填写，多个用顿号或逗号隔开，如：砌墙、开叉车"),
]
POST_COLUMNS = [
    ("trade", "工种", True, "平台工种名称，如：小工"),
    ("title", "标题", True, "2–60个字"),
    ("description", "工作内容", False, "干什么活、有什么要求"),
    ("pay", "报酬（元）", True, "每个计价单位的报酬，如：250"),
    ("pay_unit", "计价单位", True, "小时 / 天 / 件 / 课时 / 整单"),
    ("quantity", "每人数量", False, "每人约干几小时/天/件，整单填1，不填为1"),
    ("slots", "招工人数", True, "1–500"),
    ("area", "工作地区", True, "街道/乡镇名称或区划代码"),
    ("address", "详细地址", True, "如：工业区8号"),
    ("starts_at", "开工时间", True, "如：2026-12-01 08:00"),
    ("ends_at", "收工时间", True, "如：2026-12-01 17:00"),
    ("mode", "接单方式", False, "抢单 / 报名，不填为抢单"),
    ("insurance_required", "要求意外险", False, "是 / 否，不填为否"),
    ("contact_name", "联系人", True, ""),
    ("contact_phone", "联系电话", True, "11位手机号"),
]
COLUMNS = {ImportBatch.Kind.VILLAGERS: VILLAGER_COLUMNS, ImportBatch.Kind.POSTS: POST_COLUMNS}
PAY_UNITS = {
    "小时": "hour", "时": "hour", "天": "day", "日": "day", "件": "piece", "单": "piece", "单/件": "piece",
    "课时": "class_hour", "整单": "job", "hour": "hour", "day": "day", "piece": "piece",
    "class_hour": "class_hour", "job": "job",
}  # fmt: skip
MODES = {"抢单": Post.Mode.GRAB, "报名": Post.Mode.APPLY, "grab": Post.Mode.GRAB, "apply": Post.Mode.APPLY}
YES = {"是", "要", "需要", "y", "yes", "1", "true"}
NO = {"否", "不", "不要", "不需要", "n", "no", "0", "false", ""}
SPLIT = re.compile(r"[、,，;；/\s]+")
MAX_SCANNED_ROWS = 20_000
TEXT_KEYS = ("phone", "id_number", "contact_phone")
# An xlsx holds a dozen parts; a sheet of 500 rows unpacks to well under a megabyte and compresses about
# 10:1. A member that unpacks past 1 MB at more than 100:1 is a bomb, not a spreadsheet.
XLSX_MAX_MEMBERS = 200
XLSX_MAX_RATIO = 100
XLSX_MAX_RATIO_FROM = 1024 * 1024
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
)


@dataclass
class RowResult:
    row: int  # the spreadsheet row number (the header is row 1)
    summary: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "summary": self.summary, "errors": self.errors, "ok": self.ok}


# ------------------------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number comes back as 13800000001.0
    return str(value).strip()


def read_rows(*, kind: str, data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of an xlsx or CSV file as ``(row number, {column key: value})``; a file-level problem raises
    :class:`DomainError` on ``file``. Blank rows are skipped.

    Bounded by content, not only by file size: a small file can declare a huge sheet (a cell in column XFD
    on each of 20,000 rows) or hold one enormous string that compresses to almost nothing. Columns, cell
    length and rows are capped while reading, and an xlsx's unpacked size is checked before it is opened."""
    columns = COLUMNS[kind]
    if len(data) > settings.OUTREACH_IMPORT_MAX_BYTES:
        raise DomainError(
            f"文件不能超过{settings.OUTREACH_IMPORT_MAX_BYTES // (1024 * 1024)}MB", field="file"
        )
    if data[:2] == b"PK":
        table = _read_xlsx(data)
    elif filename.lower().endswith((".csv", ".txt")):
        table = _read_csv(data)
    else:
        raise DomainError("只接受 Excel（.xlsx）或 CSV 文件，请用下载的模板填写", field="file")
    if not table:
        raise DomainError("文件是空的", field="file")
    _header_number, header_values = table[0]
    header = [re.sub(r"[\s*＊]", "", _cell_text(h)) for h in header_values]
    positions: dict[str, int] = {}
    for key, label, _required, _note in columns:
        if label in header:
            positions[key] = header.index(label)
    missing = [label for key, label, required, _ in columns if required and key not in positions]
    if missing:
        raise DomainError(f"缺少列：{'、'.join(missing)}。请用下载的模板填写", field="file")
    rows = [
        (number, {key: values[pos] if pos < len(values) else None for key, pos in positions.items()})
        for number, values in table[1:]
    ]
    if not rows:
        raise DomainError("文件里没有数据行", field="file")
    limit = settings.OUTREACH_IMPORT_MAX_ROWS
    if len(rows) > limit:
        raise DomainError(f"一次最多导入{limit}行，这个文件超过了，请分开导入", field="file")
    return rows


def _too_big(what: str) -> DomainError:
    return DomainError(f"{what}，不像是导入模板。请用下载的模板填写后重新上传", field="file", code="too_big")


class _Table:
    """The non-blank rows read so far, as ``(row number, values)``, refusing what is over a cap: a cell
    in a column past ``OUTREACH_IMPORT_MAX_COLUMNS``, a cell longer than ``OUTREACH_IMPORT_MAX_CELL_CHARS``,
    more filled rows than can be imported. Only ``MAX_SCANNED_ROWS`` rows are looked at (a template styled
    down to row 1,000,000 is mostly empty rows)."""

    def __init__(self):
        self.rows: list[tuple[int, tuple]] = []
        self.columns = settings.OUTREACH_IMPORT_MAX_COLUMNS
        self.cell_chars = settings.OUTREACH_IMPORT_MAX_CELL_CHARS

    def add(self, number: int, values) -> bool:
        """Keep one row; False once enough rows were seen to stop reading."""
        values = tuple(values)
        if len(values) > self.columns and any(_cell_text(v) for v in values[self.columns :]):
            raise _too_big(f"第{number}行超过了{self.columns}列")
        values = values[: self.columns]
        for value in values:
            if isinstance(value, str) and len(value) > self.cell_chars:
                raise _too_big(f"第{number}行有一格超过{self.cell_chars}个字")
        if any(_cell_text(v) for v in values):
            self.rows.append((number, values))
        # The header plus one row past the limit is enough to refuse the file.
        return number < MAX_SCANNED_ROWS and len(self.rows) <= settings.OUTREACH_IMPORT_MAX_ROWS + 1


def _check_xlsx_archive(data: bytes) -> None:
    """An xlsx is a zip: check what it would unpack to before openpyxl reads it (it loads the shared
    strings whole, even in read-only mode). zipfile never returns more than a member's declared size, so
    the declared sizes bound what is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DomainError("Excel 文件打不开，请另存为 .xlsx 后重试", field="file") from exc
    if len(members) > XLSX_MAX_MEMBERS:
        raise _too_big("Excel 文件内部文件过多")
    total = sum(m.file_size for m in members)
    if total > settings.OUTREACH_IMPORT_MAX_UNPACKED_BYTES:
        raise _too_big(f"Excel 文件解压后有{total // (1024 * 1024)}MB")
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml") and (
            member.file_size > settings.OUTREACH_IMPORT_MAX_SHARED_STRINGS_BYTES
        ):
            raise _too_big(f"Excel 文件里的文字有{member.file_size // (1024 * 1024)}MB")
        if member.file_size > XLSX_MAX_RATIO_FROM and member.file_size > XLSX_MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise _too_big("Excel 文件压缩比异常")


def _read_xlsx(data: bytes) -> list[tuple[int, tuple]]:
    from openpyxl import load_workbook

    _check_xlsx_archive(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DomainError("Excel 文件打不开，请另存为 .xlsx 后重试", field="file") from exc
    table = _Table()
    try:
        sheet = book.worksheets[0]
        # The sheet's own claim first (openpyxl writes it; Excel does too) ...
        if (sheet.max_column or 0) > table.columns:
            raise _too_big(f"表格有{sheet.max_column}列，超过了{table.columns}列")
        # ... but a hand-made file may declare nothing or lie, so the reading is bounded on its own: each
        # row is cut at one column past the cap (read-only mode pads rows out to max_col), and reading
        # stops after MAX_SCANNED_ROWS rows.
        rows = sheet.iter_rows(max_col=table.columns + 1, max_row=MAX_SCANNED_ROWS, values_only=True)
        for number, row in enumerate(rows, start=1):
            if not table.add(number, row):
                break
        return table.rows
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise DomainError("Excel 文件内容损坏，请另存为 .xlsx 后重试", field="file") from exc
    finally:
        book.close()


def _read_csv(data: bytes) -> list[tuple[int, tuple]]:
    # Excel on a Chinese Windows saves CSV as GBK; elsewhere UTF-8 (with or without the BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError("CSV 文件编码无法识别，请另存为 UTF-8", field="file")
    table = _Table()
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not table.add(number, row):
                break
    except csv.Error as exc:
        raise DomainError("CSV 文件格式不正确", field="file") from exc
    return table.rows


# ----------------------------------------------------------------------------------------- villagers


def _split(value: Any) -> list[str]:
    return [part for part in SPLIT.split(_cell_text(value)) if part]


def _villager_rows(rows, *, staff: User) -> list[RowResult]:
    results: list[RowResult] = []
    seen_phones: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    trades = {t.name: t for t in Trade.objects.filter(is_active=True)}
    point = staff.service_point
    for number, raw in rows:
        result = RowResult(row=number)
        clean: dict[str, Any] = {}
        try:
            clean["name"] = validate_name(_cell_text(raw.get("name")))
        except ValidationError as exc:
            result.errors.append(f"姓名：{exc.messages[0]}")
        try:
            clean["phone"] = normalize_phone(_cell_text(raw.get("phone")))
        except ValidationError as exc:
            result.errors.append(f"手机号：{exc.messages[0]}")
        else:
            phone = clean["phone"]
            if phone in seen_phones:
                result.errors.append(f"手机号：与第{seen_phones[phone]}行重复")
            else:
                seen_phones[phone] = number
                if User.objects.filter(phone=phone).exists():
                    result.errors.append("手机号：该手机号已有账户，不能重复登记")
        id_text = _cell_text(raw.get("id_number"))
        if id_text:
            try:
                id_number, _birth = normalize_id_number(id_text)
            except ValidationError as exc:
                result.errors.append(f"身份证号：{exc.messages[0]}")
            else:
                clean["id_number"] = id_number
                if id_number in seen_ids:
                    result.errors.append(f"身份证号：与第{seen_ids[id_number]}行重复")
                else:
                    seen_ids[id_number] = number
                    index = blind_index(id_number, purpose="id_number")
                    taken = RealName.objects.filter(id_index=index).exclude(status=RealName.Status.REJECTED)
                    if taken.exists():
                        result.errors.append("身份证号：该身份证号已绑定其他账户")
        wanted = []
        for name in _split(raw.get("trades")):
            if name not in trades:
                result.errors.append(f"想干的工种：没有“{name}”这个工种")
            else:
                wanted.append(trades[name])
        clean["trades"] = wanted
        clean["skills"] = _split(raw.get("skills"))
        result.summary = " ".join(
            filter(
                None,
                [
                    mask_name(clean.get("name", "")),
                    mask_phone(clean.get("phone", "")),
                    mask_id_number(clean.get("id_number", "")),
                    "、".join(t.name for t in wanted),
                ],
            )
        )
        if result.ok:
            _savepoint(result, lambda c=clean: _villager_create(c, staff=staff, point=point))
        results.append(result)
    return results


def _villager_create(clean: dict[str, Any], *, staff: User, point) -> None:
    user = User.objects.create_user(
        clean["phone"],
        None,
        name=clean["name"],
        role=User.Role.SEEKER,
        is_active=False,
        service_point=point,
        registered_by=staff,
    )
    account_services.worker_profile_update(user=user, wanted_trades=clean["trades"], skills=clean["skills"])
    if clean.get("id_number"):
        account_services.realname_submit(user=user, name=clean["name"], id_number=clean["id_number"])
    message_queue(
        event_key=f"outreach_import_invite:{user.pk}",
        template="outreach_import_invite",
        params={"point": point.name},
        recipient=user,
    )
    audit_record(actor=staff, action="bulk_import_registration", target=user, data={"point": point.pk})


# --------------------------------------------------------------------------------------------- posts


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _cell_text(value)
        for fmt in DATETIME_FORMATS:
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _post_rows(rows, *, staff: User, employer: Employer) -> list[RowResult]:
    results: list[RowResult] = []
    labels = {key: label for key, label, _r, _n in POST_COLUMNS}
    labels.update(pay_fen=labels["pay"])
    trades = {t.name: t for t in Trade.objects.filter(is_active=True)}
    seen: dict[tuple, int] = {}
    for number, raw in rows:
        result = RowResult(row=number)
        data: dict[str, Any] = {}

        def bad(key: str, message: str, result: RowResult = result) -> None:
            result.errors.append(f"{labels[key]}：{message}")

        trade_name = _cell_text(raw.get("trade"))
        if trade_name not in trades:
            bad("trade", f"没有“{trade_name}”这个工种" if trade_name else "请填写工种")
        else:
            data["trade"] = trades[trade_name]
        data["title"] = _cell_text(raw.get("title"))
        data["description"] = _cell_text(raw.get("description"))
        try:
            pay = Decimal(_cell_text(raw.get("pay")))
            if pay != pay.quantize(Decimal("0.01")):
                raise InvalidOperation
            data["pay_fen"] = int(pay * 100)
        except InvalidOperation:
            bad("pay", "请填写金额（元），最多两位小数")
        unit = PAY_UNITS.get(_cell_text(raw.get("pay_unit")))
        if unit is None:
            bad("pay_unit", "请填写 小时、天、件、课时 或 整单")
        else:
            data["pay_unit"] = unit
        data["quantity"] = _cell_text(raw.get("quantity")) or "1"
        try:
            data["slots"] = int(Decimal(_cell_text(raw.get("slots"))))
        except InvalidOperation:
            bad("slots", "请填写整数")
        area_text = _cell_text(raw.get("area"))
        areas = list(Area.objects.filter(code=area_text)[:1]) or list(Area.objects.filter(name=area_text)[:2])
        if len(areas) != 1:
            bad("area", f"找不到“{area_text}”" if not areas else f"“{area_text}”有重名，请填区划代码")
        else:
            data["area"] = areas[0]
        data["address"] = _cell_text(raw.get("address"))
        for key in ("starts_at", "ends_at"):
            try:
                data[key] = _parse_datetime(raw.get(key))
            except ValueError:
                bad(key, "请按 2026-12-01 08:00 的格式填写")
        mode = MODES.get(_cell_text(raw.get("mode")) or "抢单")
        if mode is None:
            bad("mode", "请填写 抢单 或 报名")
        data["mode"] = mode or Post.Mode.GRAB
        insurance = _cell_text(raw.get("insurance_required")).lower()
        if insurance not in YES | NO:
            bad("insurance_required", "请填写 是 或 否")
        data["insurance_required"] = insurance in YES
        data["contact_name"] = _cell_text(raw.get("contact_name"))
        data["contact_phone"] = _cell_text(raw.get("contact_phone"))
        data["lat"] = data["lng"] = None
        key = (data["title"], trade_name, str(data.get("starts_at")), data["address"])
        if key in seen:
            bad("title", f"与第{seen[key]}行完全相同")
        else:
            seen[key] = number
            if (
                data.get("starts_at")
                and Post.objects.filter(
                    employer=employer,
                    title=data["title"],
                    starts_at=data["starts_at"],
                    status__in=(Post.Status.OPEN, Post.Status.FILLED),
                ).exists()
            ):
                bad("title", "该用工主体已发布过同名同时间的岗位")
        start = data.get("starts_at")
        result.summary = f"{data['title']} · {trade_name}" + (
            f" · {timezone.localtime(start):%m-%d %H:%M}开工" if start else ""
        )
        if result.ok:
            _savepoint(
                result,
                lambda d=data: job_services.post_create(employer=employer, actor=staff, publish=True, **d),
                labels=labels,
            )
        results.append(result)
    return results


# ------------------------------------------------------------------------------------------ running


def _savepoint(result: RowResult, create, *, labels: dict[str, str] | None = None) -> None:
    """Run one row's writes in a savepoint; a refusal becomes the row's errors (the savepoint is undone)."""
    labels = labels or {"name": "姓名", "id_number": "身份证号", "phone": "手机号"}
    try:
        with transaction.atomic():
            create()
    except DomainError as exc:
        result.errors.append(
            f"{labels.get(exc.field, '')}：{exc.message}" if exc.field in labels else exc.message
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                for error in errors:
                    prefix = f"{labels[name]}：" if name in labels else ""
                    result.errors.extend(prefix + m for m in error.messages)
        else:
            result.errors.extend(exc.messages)
    except IntegrityError:
        result.errors.append("与已有数据冲突（可能刚被别人登记），请核对")


class _RollBack(Exception):
    pass


def _run(batch: ImportBatch, *, staff: User, keep: bool) -> list[RowResult]:
    """Check and write every row inside one savepoint; keep the writes only when ``keep`` and all rows
    passed."""
    raw = base64.b64decode(batch.content)
    rows = read_rows(kind=batch.kind, data=raw, filename=batch.filename)
    results: list[RowResult] = []
    try:
        with transaction.atomic():
            if batch.kind == ImportBatch.Kind.VILLAGERS:
                results = _villager_rows(rows, staff=staff)
            else:
                results = _post_rows(rows, staff=staff, employer=batch.employer)
            if not keep or not all(r.ok for r in results):
                raise _RollBack
    except _RollBack:
        pass
    return results


def _require_importer(actor: User, kind: str) -> None:
    perm = "accounts.register_on_behalf" if kind == ImportBatch.Kind.VILLAGERS else "jobs.post_on_behalf"
    if not (actor.is_active and actor.is_staff and actor.has_perm(perm)):
        raise NotAllowed("没有批量导入的权限")
    if kind == ImportBatch.Kind.VILLAGERS and actor.service_point_id is None:
        raise NotAllowed("只有网点工作人员可以导入村民登记")


def _store(batch: ImportBatch, results: list[RowResult]) -> None:
    batch.row_count = len(results)
    batch.error_count = sum(1 for r in results if not r.ok)
    batch.result = {"rows": [r.as_dict() for r in results]}


@transaction.atomic
def import_preview(
    *, kind: str, actor: User, data: bytes, filename: str, employer: Employer | None = None
) -> ImportBatch:
    """Check a file row by row (each row is really written, then everything is rolled back) and keep it,
    encrypted, for :func:`import_confirm`. A file-level problem raises DomainError on ``file``."""
    if kind not in ImportBatch.Kind.values:
        raise DomainError("请选择导入类型", field="kind")
    _require_importer(actor, kind)
    if kind == ImportBatch.Kind.POSTS and (employer is None or employer.status != Employer.Status.APPROVED):
        raise DomainError("请选择审核通过的用工主体", field="employer")
    if kind == ImportBatch.Kind.POSTS and not object_visible_to(actor, employer):
        raise DomainError("该用工主体不属于您的网点", field="employer")
    read_rows(kind=kind, data=data, filename=filename)  # file-level errors before anything is stored
    batch = ImportBatch.objects.create(
        kind=kind,
        staff=actor,
        service_point=actor.service_point,
        employer=employer if kind == ImportBatch.Kind.POSTS else None,
        filename=filename[:200],
        content=base64.b64encode(data).decode(),
    )
    _store(batch, _run(batch, staff=actor, keep=False))
    batch.save(update_fields=["row_count", "error_count", "result"])
    return batch


@transaction.atomic
def import_confirm(*, batch: ImportBatch, actor: User) -> ImportBatch:
    """Import a previewed file: every row checked again against today's data; all rows or none."""
    batch = ImportBatch.objects.select_for_update(of=("self",)).select_related("employer").get(pk=batch.pk)
    if batch.staff_id != actor.pk:
        raise NotAllowed("只能确认自己上传的文件")
    _require_importer(actor, batch.kind)
    if batch.status != ImportBatch.Status.PREVIEWED:
        raise InvalidTransition("这个文件已经导入过了")
    if not batch.content:
        raise DomainError("检查结果已过期，请重新上传文件", field="file", code="expired")
    results = _run(batch, staff=actor, keep=True)
    _store(batch, results)
    if batch.error_count:
        batch.save(update_fields=["row_count", "error_count", "result"])
        return batch
    batch.status, batch.imported_at, batch.content = ImportBatch.Status.IMPORTED, timezone.now(), ""
    batch.save(update_fields=["row_count", "error_count", "result", "status", "imported_at", "content"])
    audit_record(
        actor=actor, action=f"bulk_import_{batch.kind}", target=batch, data={"rows": batch.row_count}
    )
    return batch


# ---------------------------------------------------------------------------------------- templates


def template_xlsx(kind: str) -> bytes:
    """The blank template: the header on the first sheet, what each column means on the second."""
    columns = COLUMNS[kind]
    header = [label + ("*" if required else "") for _k, label, required, _n in columns]
    notes = [
        ["列名", "必填", "说明"],
        *([label, "是" if required else "否", note] for _key, label, required, note in columns),
        [],
        ["", "", f"从第2行开始填写，一次最多{settings.OUTREACH_IMPORT_MAX_ROWS}行；有一行出错则整批不导入。"],
    ]
    return xlsx_bytes(
        [
            Sheet(
                title="导入数据",
                rows=[header],
                header=True,
                widths=dict.fromkeys(range(1, len(columns) + 1), 22),
                # Text cells, so Excel keeps 18-digit ID numbers and leading digits intact.
                text_columns=[i for i, (key, *_rest) in enumerate(columns, start=1) if key in TEXT_KEYS],
                text_rows=500,
            ),
            Sheet(title="填写说明", rows=notes, widths={1: 16, 3: 60}),
        ]
    )


def template_csv(kind: str) -> bytes:
    return csv_bytes([[label for _k, label, _r, _n in COLUMNS[kind]]])


def import_files_purge(*, now: dt.datetime | None = None) -> int:
    """Previewed files never confirmed are emptied after ``OUTREACH_IMPORT_KEEP_HOURS``: they hold ID
    numbers, kept only as long as a confirmation can be expected (the row report stays, masked)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.OUTREACH_IMPORT_KEEP_HOURS)
    return (
        ImportBatch.objects.filter(status=ImportBatch.Status.PREVIEWED, created_at__lt=cutoff)
        .exclude(content="")
        .update(content="")
    )
