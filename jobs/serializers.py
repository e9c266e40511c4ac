"""Serializers for the jobs API. Input serializers only type-check and shape the request (every business
rule lives in :mod:`jobs.services`); output serializers decide what personal data leaves the server.

Personal data: workers appear to employers with a masked name and ID number while they are applicants,
and with their real name (as printed in the contract) once an order exists; ID numbers are always masked;
workers' phones are always masked; a post's contact phone is whatever :func:`jobs.selectors.contact_phone_for`
allows. The public board is serialized by :func:`board_item` (plain dicts, because it is the hottest
endpoint), documented by :class:`BoardPostSerializer`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from accounts.models import Area, Employer, PayUnit, User
from core.masking import mask_name

from .models import Block, Claim, Contract, Order, OrderEvent, Post, Rating, Trade
from .selectors import KM_PER_DEGREE, PAGE_SIZE, SORTS

# ------------------------------------------------------------------------------------------- fields


MAX_ID = 2**63 - 1  # a larger id would fail PostgreSQL's bigint cast (a 500), not find nothing


class FiniteFloatField(serializers.FloatField):
    """A float that refuses NaN and infinities (``float("nan")`` would slip past any range check)."""

    default_error_messages = {"invalid": "请填写有效的数字"}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class IdListField(serializers.ListField):
    """Ids from a repeated query parameter (``?trade=1&trade=2``) or a comma list (``?trade=1,2``)."""

    child = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return [
                part for value in dictionary.getlist(self.field_name) for part in value.split(",") if part
            ]
        return super().get_value(dictionary)


# ------------------------------------------------------------------------------------------ briefs


class TradeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Trade
        fields = ["id", "name"]
        read_only_fields = fields


class AreaBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "name"]
        read_only_fields = fields


class EmployerBriefSerializer(serializers.ModelSerializer):
    verified = serializers.SerializerMethodField(help_text="用工主体已通过审核")

    class Meta:
        model = Employer
        fields = ["id", "name", "kind", "verified"]
        read_only_fields = fields

    def get_verified(self, employer: Employer) -> bool:
        return employer.status == Employer.Status.APPROVED


class PostBriefSerializer(serializers.ModelSerializer):
    """The post an order or claim belongs to."""

    trade = TradeBriefSerializer(read_only=True)
    area = AreaBriefSerializer(read_only=True)
    employer = EmployerBriefSerializer(read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "trade",
            "employer",
            "pay_fen",
            "pay_unit",
            "quantity",
            "area",
            "address",
            "lat",
            "lng",
            "starts_at",
            "ends_at",
            "mode",
            "status",
        ]
        read_only_fields = fields


# ------------------------------------------------------------------------------------------ board


class BoardParamsSerializer(serializers.Serializer):
    """Query parameters of the public board. ``trade`` may repeat (``?trade=1&trade=2``)."""

    q = serializers.CharField(max_length=50, required=False, allow_blank=True, default="", help_text="关键词")
    trade = IdListField(max_length=20, required=False, default=list, help_text="工种ID，可多个")
    area = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="区县或街道/乡镇"
    )
    pay_unit = serializers.ChoiceField(choices=PayUnit.choices, required=False)
    pay_min = serializers.IntegerField(
        min_value=0, max_value=100_000_000, required=False, help_text="最低报酬（分）"
    )
    date = serializers.DateField(required=False, help_text="开工日期")
    lat = FiniteFloatField(min_value=-90, max_value=90, required=False)
    lng = FiniteFloatField(min_value=-180, max_value=180, required=False)
    radius_km = FiniteFloatField(min_value=0.1, max_value=200, required=False, help_text="距离上限（公里）")
    sort = serializers.ChoiceField(choices=[(s, s) for s in SORTS], default="newest")
    cursor = serializers.CharField(max_length=400, required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=PAGE_SIZE)

    def validate_date(self, value):
        # The board only holds posts of the coming weeks; the bound also keeps "+1 day" from overflowing.
        if not 2000 <= value.year <= 2100:
            raise serializers.ValidationError("日期超出范围")
        return value

    def validate(self, attrs):
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError({"lng" if "lat" in attrs else "lat": "经纬度需同时填写"})
        if "radius_km" in attrs and "lat" not in attrs:
            raise serializers.ValidationError({"radius_km": "按距离筛选需要您的位置（lat、lng）"})
        return attrs


_ID = re.compile(r"[1-9][0-9]{0,17}")
_SMALL_INT = re.compile(r"0|[1-9][0-9]{0,8}")
_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,15})?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AWKWARD = re.compile(r"[\x00\ud800-\udfff]")
_PAY_UNITS = frozenset(PayUnit.values)
_FLOATS = (("lat", -90.0, 90.0), ("lng", -180.0, 180.0), ("radius_km", 0.1, 200.0))


def board_params_fast(query) -> dict | None:
    """The board's query parameters as ``BoardParamsSerializer`` validates them, for the plain spellings
    phones send (digits, ISO dates, decimals, a sort name), without the serializer's per-field machinery;
    None for anything else — a refused value, a blank one, a spelling the serializer would still accept
    (``1.0``, ``07``) — which then goes through the serializer itself, so errors stay exactly its errors. A
    test compares the two over many queries."""
    get = query.get
    params: dict = {}
    q = get("q")
    if q is None:
        params["q"] = ""
    else:
        if _AWKWARD.search(q):
            return None
        q = q.strip()
        if len(q) > 50:
            return None
        params["q"] = q
    if "trade" in query:
        parts = [part for value in query.getlist("trade") for part in value.split(",") if part]
        if not parts or len(parts) > 20 or not all(_ID.fullmatch(part) for part in parts):
            return None
        params["trade"] = [int(part) for part in parts]
    else:
        params["trade"] = []
    area = get("area")
    if area is not None:
        if not _ID.fullmatch(area):
            return None
        params["area"] = int(area)
    pay_unit = get("pay_unit")
    if pay_unit is not None:
        if pay_unit not in _PAY_UNITS:
            return None
        params["pay_unit"] = pay_unit
    pay_min = get("pay_min")
    if pay_min is not None:
        if not _SMALL_INT.fullmatch(pay_min) or int(pay_min) > 100_000_000:
            return None
        params["pay_min"] = int(pay_min)
    day = get("date")
    if day is not None:
        if not _DAY.fullmatch(day):
            return None
        try:
            value = dt.date.fromisoformat(day)
        except ValueError:
            return None
        if not 2000 <= value.year <= 2100:
            return None
        params["date"] = value
    for name, low, high in _FLOATS:
        value = get(name)
        if value is not None:
            if not _DECIMAL.fullmatch(value):
                return None
            number = float(value)
            if not low <= number <= high:
                return None
            params[name] = number
    if ("lat" in params) != ("lng" in params) or ("radius_km" in params and "lat" not in params):
        return None
    sort = get("sort")
    if sort is None:
        params["sort"] = "newest"
    elif sort in SORTS:
        params["sort"] = sort
    else:
        return None
    cursor = get("cursor")
    if cursor is None:
        params["cursor"] = ""
    else:
        if len(cursor) > 400 or cursor != cursor.strip() or _AWKWARD.search(cursor):
            return None
        params["cursor"] = cursor
    limit = get("limit")
    if limit is None:
        params["limit"] = PAGE_SIZE
    else:
        if not _SMALL_INT.fullmatch(limit) or not 1 <= int(limit) <= 50:
            return None
        params["limit"] = int(limit)
    return params


class BoardPostSerializer(serializers.Serializer):
    """One post on the public board."""

    # Documents board_item(), which builds the rows; a test keeps the two in step.

    id = serializers.IntegerField()
    title = serializers.CharField()
    trade = TradeBriefSerializer()
    employer = EmployerBriefSerializer()
    pay_fen = serializers.IntegerField(help_text="报酬（分）")
    pay_unit = serializers.ChoiceField(choices=PayUnit.choices)
    slots = serializers.IntegerField()
    slots_left = serializers.IntegerField()
    area = AreaBriefSerializer()
    district = AreaBriefSerializer()
    address = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=Post.Mode.choices)
    insurance_required = serializers.BooleanField()
    published_at = serializers.DateTimeField()
    distance_km = serializers.FloatField(allow_null=True, help_text="给出位置时：离您的距离（公里）")


class BoardPageSerializer(serializers.Serializer):
    results = BoardPostSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="下一页的 cursor；没有更多时为 null")


_datetime = serializers.DateTimeField().to_representation


def board_item(post: Post) -> dict:
    """The board's row as a plain dict: a DRF serializer per row costs more than the query itself."""
    employer, trade, area, district = post.employer, post.trade, post.area, post.district
    return {
        "id": post.pk,
        "title": post.title,
        "trade": {"id": trade.pk, "name": trade.name},
        "employer": {
            "id": employer.pk,
            "name": employer.name,
            "kind": employer.kind,
            "verified": employer.status == Employer.Status.APPROVED,
        },
        "pay_fen": post.pay_fen,
        "pay_unit": post.pay_unit,
        "slots": post.slots,
        "slots_left": post.slots_left,
        "area": {"id": area.pk, "name": area.name},
        "district": {"id": district.pk, "name": district.name},
        "address": post.address,
        "lat": post.lat,
        "lng": post.lng,
        "starts_at": _datetime(post.starts_at),
        "ends_at": _datetime(post.ends_at),
        "mode": post.mode,
        "insurance_required": post.insurance_required,
        "published_at": _datetime(post.published_at),
        "distance_km": getattr(post, "distance_km", None),
    }


def _datetime_renderer():
    """DRF's DateTimeField rendering with the current time zone looked up once for a page, not per value
    (ISO 8601 in the current zone, "Z" for UTC): the same text for a third of the cost."""
    if api_settings.DATETIME_FORMAT not in (None, ISO_8601):
        return _datetime
    zone = timezone.get_current_timezone()

    def render(value):
        if value is None or not timezone.is_aware(value):
            return _datetime(value) if value is not None else None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def board_rows(rows: list[tuple]) -> list[dict]:
    """The board's rows from ``selectors.board(..., rows=True)`` (tuples in ``ROW_FIELDS`` order, a
    nearest-first row ending with its distance), as board_item() builds them from posts: the same JSON."""
    approved = Employer.Status.APPROVED
    when = _datetime_renderer()
    out = []
    for r in rows:
        (pk, title, pay_fen, pay_unit, slots, slots_left, address, lat, lng, starts_at, ends_at, mode,
         insured, published_at, trade_id, trade_name, employer_id, employer_name, employer_kind,
         employer_status, area_id, area_name, district_id, district_name, *dist) = r  # fmt: skip
        out.append(
            {
                "id": pk,
                "title": title,
                "trade": {"id": trade_id, "name": trade_name},
                "employer": {
                    "id": employer_id,
                    "name": employer_name,
                    "kind": employer_kind,
                    "verified": employer_status == approved,
                },
                "pay_fen": pay_fen,
                "pay_unit": pay_unit,
                "slots": slots,
                "slots_left": slots_left,
                "area": {"id": area_id, "name": area_name},
                "district": {"id": district_id, "name": district_name},
                "address": address,
                "lat": lat,
                "lng": lng,
                "starts_at": when(starts_at),
                "ends_at": when(ends_at),
                "mode": mode,
                "insurance_required": insured,
                "published_at": when(published_at),
                "distance_km": round(dist[0] * KM_PER_DEGREE, 1) if dist else None,
            }
        )
    return out


# ------------------------------------------------------------------------------------------- posts


class MyClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Claim.Status.choices)
    order_id = serializers.IntegerField(allow_null=True)


class PostDetailSerializer(serializers.ModelSerializer):
    """A post as a worker sees it. ``contact_phone`` comes from the view (masked unless allowed)."""

    trade = TradeBriefSerializer(read_only=True)
    employer = EmployerBriefSerializer(read_only=True)
    area = AreaBriefSerializer(read_only=True)
    district = AreaBriefSerializer(read_only=True)
    requires_certificate = serializers.BooleanField(source="trade.requires_certificate", read_only=True)
    contact_phone = serializers.SerializerMethodField(
        help_text="雇主成员或已确认的工人看到完整号码，其他人打码"
    )
    my_claim = serializers.SerializerMethodField(help_text="调用者自己在该岗位上的接单/报名")
    rules = serializers.SerializerMethodField(help_text="取消、未到岗、自动确认等规则")

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "description",
            "trade",
            "requires_certificate",
            "employer",
            "pay_fen",
            "pay_unit",
            "quantity",
            "slots",
            "slots_left",
            "area",
            "district",
            "address",
            "lat",
            "lng",
            "starts_at",
            "ends_at",
            "mode",
            "insurance_required",
            "contact_name",
            "contact_phone",
            "status",
            "published_at",
            "my_claim",
            "rules",
        ]
        read_only_fields = fields

    def get_contact_phone(self, post: Post) -> str:
        return self.context["contact_phone"]

    @extend_schema_field(MyClaimSerializer(allow_null=True))
    def get_my_claim(self, post: Post) -> dict | None:
        claim = self.context.get("my_claim")
        if claim is None:
            return None
        return MyClaimSerializer({"id": claim.pk, "status": claim.status, "order_id": _order_id(claim)}).data

    def get_rules(self, post: Post) -> list[str]:
        return self.context["rules"]


class MyPostSerializer(serializers.ModelSerializer):
    """A post as its employer's members (or the staff who posted it) see it: everything, in full."""

    trade = TradeBriefSerializer(read_only=True)
    employer = EmployerBriefSerializer(read_only=True)
    area = AreaBriefSerializer(read_only=True)
    on_behalf = serializers.SerializerMethodField(help_text="工作人员代发")

    class Meta:
        model = Post
        fields = [
            "id",
            "title",
            "description",
            "trade",
            "employer",
            "pay_fen",
            "pay_unit",
            "quantity",
            "slots",
            "slots_left",
            "area",
            "address",
            "lat",
            "lng",
            "starts_at",
            "ends_at",
            "mode",
            "insurance_required",
            "contact_name",
            "contact_phone",
            "status",
            "created_at",
            "published_at",
            "on_behalf",
        ]
        read_only_fields = fields

    def get_on_behalf(self, post: Post) -> bool:
        return post.on_behalf_by_id is not None


class PostWriteSerializer(serializers.Serializer):
    """A post's fields. Only types are checked here; ranges, times and the rest are the service's."""

    trade = serializers.PrimaryKeyRelatedField(queryset=Trade.objects.filter(is_active=True))
    title = serializers.CharField(max_length=60)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    pay_fen = serializers.IntegerField(help_text="报酬（分），每单位")
    pay_unit = serializers.ChoiceField(choices=PayUnit.choices)
    quantity = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, help_text="每人预计的小时/天/件数，默认1"
    )
    slots = serializers.IntegerField(help_text="招工人数，1–500")
    area = serializers.PrimaryKeyRelatedField(queryset=Area.objects.all())
    address = serializers.CharField(max_length=200)
    lat = FiniteFloatField(required=False, allow_null=True)
    lng = FiniteFloatField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=Post.Mode.choices, required=False)
    insurance_required = serializers.BooleanField(required=False)
    contact_name = serializers.CharField(max_length=40, required=False, help_text="默认：发布人称呼")
    contact_phone = serializers.CharField(max_length=20, required=False, help_text="默认：发布人手机号")


class PostCreateSerializer(PostWriteSerializer):
    employer = serializers.PrimaryKeyRelatedField(
        queryset=Employer.objects.all(), required=False, help_text="只属于一个用工主体时可省略"
    )
    publish = serializers.BooleanField(default=False, help_text="创建后立即发布")


class StaffPostCreateSerializer(PostWriteSerializer):
    employer = serializers.PrimaryKeyRelatedField(queryset=Employer.objects.all(), help_text="代发的用工主体")
    contact_name = serializers.CharField(max_length=40)
    contact_phone = serializers.CharField(max_length=20)
    publish = serializers.BooleanField(default=False, help_text="创建后立即发布")


class CancelReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="原因（对方会看到）")


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# ------------------------------------------------------------------------------------------ claims


class WorkerCardSerializer(serializers.ModelSerializer):
    """An applicant as the employer sees them before hiring: masked name, ID and phone, plus the track
    record (靠谱分, stars, completed orders) and valid certificates."""

    name = serializers.SerializerMethodField()
    id_masked = serializers.SerializerMethodField()
    phone = serializers.CharField(source="masked_phone", read_only=True)
    verified = serializers.BooleanField(source="is_verified", read_only=True)
    reliability = serializers.SerializerMethodField(help_text="靠谱分 0–100")
    stars = serializers.SerializerMethodField(help_text="雇主评分均值")
    completed = serializers.SerializerMethodField()
    skills = serializers.SerializerMethodField()
    certificates = serializers.SerializerMethodField(help_text="有效证书名称")

    class Meta:
        model = User
        fields = [
            "id",
            "name",
            "id_masked",
            "phone",
            "verified",
            "reliability",
            "stars",
            "completed",
            "skills",
            "certificates",
        ]
        read_only_fields = fields

    def _realname(self, user: User):
        return getattr(user, "realname", None)

    def get_name(self, user: User) -> str:
        realname = self._realname(user)
        return mask_name(realname.name if realname else user.name)

    def get_id_masked(self, user: User) -> str:
        realname = self._realname(user)
        return realname.id_masked if realname else ""

    def _stats(self, user: User):
        return getattr(user, "worker_stats", None)

    def get_reliability(self, user: User) -> int:
        stats = self._stats(user)
        return stats.reliability if stats else 100

    def get_stars(self, user: User) -> float | None:
        stats = self._stats(user)
        return stats.stars if stats else None

    def get_completed(self, user: User) -> int:
        stats = self._stats(user)
        return stats.completed if stats else 0

    def get_skills(self, user: User) -> list[str]:
        profile = getattr(user, "worker_profile", None)
        return list(profile.skills) if profile and profile.skills else []

    def get_certificates(self, user: User) -> list[str]:
        # Filtered in Python: the selector prefetched every certificate with its type.
        return [c.cert_type.name for c in user.certificates.all() if c.is_valid]


class ApplicantSerializer(serializers.ModelSerializer):
    worker = WorkerCardSerializer(read_only=True)
    order_id = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = ["id", "status", "note", "created_at", "decided_at", "reject_reason", "worker", "order_id"]
        read_only_fields = fields

    def get_order_id(self, claim: Claim) -> int | None:
        return _order_id(claim)


class ClaimSerializer(serializers.ModelSerializer):
    """A claim as its worker sees it."""

    post = PostBriefSerializer(read_only=True)
    order_id = serializers.SerializerMethodField(help_text="已确认时：对应的订单（生成中时为空）")
    order_pending = serializers.BooleanField(
        read_only=True, help_text="抢到了，订单（托管、保险、协议）正在生成，几秒内完成；完成后 order_id 有值"
    )

    class Meta:
        model = Claim
        fields = [
            "id", "status", "note", "created_at", "decided_at", "reject_reason", "post", "order_id",
            "order_pending",
        ]  # fmt: skip
        read_only_fields = fields

    def get_order_id(self, claim: Claim) -> int | None:
        return _order_id(claim)


def _order_id(claim: Claim) -> int | None:
    if claim.order_pending:  # a grab's order is being made: none yet (its flag clears with the order)
        return None
    try:
        return claim.order.pk
    except Order.DoesNotExist:
        return None


_reused = threading.local()


def represent(serializer_class: type[serializers.Serializer], instance) -> dict:
    """``serializer_class(instance).data`` (no context) without building the serializer's fields again: DRF
    deep-copies and binds every declared and nested field each time a serializer is made — for a claim
    with its post, trade, area and employer, about a third of a winning 抢单's Python time. One instance
    per class and thread is kept and its ``to_representation`` called; that keeps no state between calls
    (tests/jobs/test_represent.py holds the two to the same output)."""
    cache = getattr(_reused, "serializers", None)
    if cache is None:
        cache = _reused.serializers = {}
    serializer = cache.get(serializer_class)
    if serializer is None:
        serializer = cache[serializer_class] = serializer_class()
    return serializer.to_representation(instance)


class ClaimCreateSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# ------------------------------------------------------------------------------------------ orders


class OrderWorkerSerializer(serializers.ModelSerializer):
    """The worker on an order: the real name as in the contract, the ID number masked, the phone masked."""

    name = serializers.SerializerMethodField()
    id_masked = serializers.SerializerMethodField()
    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "id_masked", "phone"]
        read_only_fields = fields

    def get_name(self, user: User) -> str:
        realname = getattr(user, "realname", None)
        return realname.name if realname else user.name

    def get_id_masked(self, user: User) -> str:
        realname = getattr(user, "realname", None)
        return realname.id_masked if realname else ""


class ContractFlagsSerializer(serializers.ModelSerializer):
    worker_signed = serializers.SerializerMethodField()
    employer_signed = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = ["content_hash", "worker_signed", "employer_signed", "is_signed"]
        read_only_fields = fields

    def get_worker_signed(self, contract: Contract) -> bool:
        return contract.worker_signed_at is not None

    def get_employer_signed(self, contract: Contract) -> bool:
        return contract.employer_signed_at is not None


ORDER_FIELDS = [
    "id",
    "status",
    "post",
    "worker",
    "starts_at",
    "ends_at",
    "confirmed_at",
    "checked_in_at",
    "checked_out_at",
    "completed_at",
    "worker_quantity",
    "approved_quantity",
    "amount_fen",
    "auto_approved",
    "cancelled_by",
    "cancel_reason",
    "late_cancel",
    "compensation_fen",
    "contract",
]


class OrderSerializer(serializers.ModelSerializer):
    post = PostBriefSerializer(read_only=True)
    worker = OrderWorkerSerializer(read_only=True)
    contract = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ORDER_FIELDS
        read_only_fields = fields

    @extend_schema_field(ContractFlagsSerializer(allow_null=True))
    def get_contract(self, order: Order) -> dict | None:
        try:
            return ContractFlagsSerializer(order.contract).data
        except Contract.DoesNotExist:
            return None


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="worker / employer / system")

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "actor", "data", "created_at"]
        read_only_fields = fields

    def get_actor(self, event: OrderEvent) -> str:
        if event.actor_id is None:
            return "system"
        return "worker" if event.actor_id == event.order.worker_id else "employer"


class RatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rating
        fields = ["id", "direction", "stars", "comment", "created_at"]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    """One order for one of its parties: the timeline, the contact and the rules."""

    my_side = serializers.SerializerMethodField(help_text="worker 或 employer")
    contact_name = serializers.CharField(source="post.contact_name", read_only=True)
    contact_phone = serializers.SerializerMethodField(help_text="雇主联系电话（按可见规则打码或完整）")
    events = serializers.SerializerMethodField()
    ratings = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*ORDER_FIELDS, "my_side", "contact_name", "contact_phone", "events", "ratings", "rules"]
        read_only_fields = fields

    def get_my_side(self, order: Order) -> str:
        return self.context["my_side"]

    def get_contact_phone(self, order: Order) -> str:
        return self.context["contact_phone"]

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_events(self, order: Order) -> list:
        events = list(order.events.all())
        for event in events:
            event.order = order
        return OrderEventSerializer(events, many=True).data

    @extend_schema_field(RatingSerializer(many=True))
    def get_ratings(self, order: Order) -> list:
        return RatingSerializer(order.ratings.order_by("pk"), many=True).data

    def get_rules(self, order: Order) -> list[str]:
        return self.context["rules"]


class CheckInSerializer(serializers.Serializer):
    lat = FiniteFloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lng = FiniteFloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="小时/天/件数；不填则按岗位预计数量（签退）或工人填报数量（确认）",
    )


class RatingCreateSerializer(serializers.Serializer):
    stars = serializers.IntegerField(help_text="1–5星")
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# ---------------------------------------------------------------------------------------- contract


class ContractSerializer(serializers.ModelSerializer):
    worker_signed = serializers.SerializerMethodField()
    employer_signed = serializers.SerializerMethodField()
    my_side = serializers.SerializerMethodField(help_text="worker 或 employer")

    class Meta:
        model = Contract
        fields = [
            "order",
            "body",
            "content_hash",
            "template_version",
            "created_at",
            "worker_signed",
            "worker_signed_at",
            "employer_signed",
            "employer_signed_at",
            "is_signed",
            "my_side",
        ]
        read_only_fields = fields

    def get_worker_signed(self, contract: Contract) -> bool:
        return contract.worker_signed_at is not None

    def get_employer_signed(self, contract: Contract) -> bool:
        return contract.employer_signed_at is not None

    def get_my_side(self, contract: Contract) -> str:
        return self.context["my_side"]


class ContractSignSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=6, help_text="发到本人手机的短信验证码")


# ------------------------------------------------------------------------------------------ blocks


class BlockedWorkerSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    phone = serializers.CharField(source="masked_phone", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "phone"]
        read_only_fields = fields

    def get_name(self, user: User) -> str:
        return mask_name(user.name)


class BlockSerializer(serializers.ModelSerializer):
    worker = BlockedWorkerSerializer(read_only=True)

    class Meta:
        model = Block
        fields = ["id", "employer", "worker", "reason", "created_at"]
        read_only_fields = fields


class BlockCreateSerializer(serializers.Serializer):
    worker = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="工人的用户ID（见报名或订单）"
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TradeSerializer(serializers.ModelSerializer):
    requires_certificate = serializers.BooleanField(read_only=True)

    class Meta:
        model = Trade
        fields = ["id", "name", "category", "risk_class", "requires_certificate", "certificate_type"]
        read_only_fields = fields
