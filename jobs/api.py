"""The jobs JSON API (/api/v1/): the public board, employers' posts and applicants, workers' claims, orders
from confirmation to completion, e-contracts, ratings, blocks, and staff posting for walk-in employers.

Views are thin: validate with a serializer, look the object up through a selector (someone else's post,
claim, order or contract is a 404), call one service, serialize the result. Services raise
:class:`~core.errors.DomainError` or Django ``ValidationError``; :func:`core.api.exception_handler` turns
both into the one error shape ``{"code", "detail", "fields"}``.
"""

from __future__ import annotations

import functools
import json
import re
import threading

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.api import IsStaffWithPerms, PublicAPIView, PublicCatalogueViewSet
from accounts.serializers import CodeSentSerializer, ErrorSerializer
from core.api import ViewOrderedCursorPagination
from core.api import found as _found
from core.api import validated as _valid
from core.errors import DomainError
from wallet.idempotency import HEADER as IDEMPOTENCY_HEADER
from wallet.idempotency import idempotent

from . import board_cache, grab_front, grabbing, selectors, services
from .models import Block, Claim, Order, Post, Trade
from .rules import rules
from .serializers import (
    ApplicantSerializer,
    BlockCreateSerializer,
    BlockSerializer,
    BoardPageSerializer,
    BoardParamsSerializer,
    CancelReasonSerializer,
    CheckInSerializer,
    ClaimCreateSerializer,
    ClaimSerializer,
    ContractSerializer,
    ContractSignSerializer,
    MyPostSerializer,
    OptionalReasonSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    PostCreateSerializer,
    PostDetailSerializer,
    PostWriteSerializer,
    QuantitySerializer,
    RatingCreateSerializer,
    RatingSerializer,
    StaffPostCreateSerializer,
    TradeSerializer,
    board_item,
    board_params_fast,
    board_rows,
    represent,
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "输入有误（fields 指出哪一项）",
        401: "未登录",
        403: "没有权限（如未实名、缺少证书、被拉黑、不是成员）",
        404: "不存在，或不属于你",
        409: "与现有数据冲突，或当前状态不允许（如名额已满、重复报名、时间冲突）",
        429: "太频繁，请稍后再试",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in statuses}


def _user_or_none(request):
    return request.user if request.user.is_authenticated else None


# ------------------------------------------------------------------------------------------- board


class BoardView(PublicAPIView):
    """The public board. No throttle: a hall's kiosks and big screens share one address, and the page is
    one indexed query; JSON only, serialized without DRF serializers (the hottest endpoint)."""

    throttle_classes = ()
    renderer_classes = (JSONRenderer,)

    @extend_schema(
        operation_id="posts_list",
        summary="招工信息（公开，关键词/工种/地区/报酬/日期/距离筛选）",
        description=(
            "按 sort 排序：newest 最新发布，nearest 离我最近（需要 lat、lng），pay 报酬最高。"
            "翻页用上一页返回的 next_cursor；每页 limit 条（1–50）。每页只查一次数据库。"
        ),
        parameters=[BoardParamsSerializer],
        responses={200: BoardPageSerializer, **_errors(400)},
        tags=["posts"],
    )
    def get(self, request):
        # Hot pages never get here: board_endpoint answers them from the page cache (jobs/board_cache.py),
        # and plain queries from board_page; this is the path of everything else (and of refused queries).
        return HttpResponse(board_page(_board_params(request.query_params)), content_type="application/json")


def board_page(params: dict) -> bytes:
    """The board's page for validated parameters, as JSON bytes."""
    page = selectors.board(
        selectors.BoardQuery(
            q=params["q"],
            trade_ids=params["trade"],
            area_id=params.get("area"),
            pay_unit=params.get("pay_unit", ""),
            pay_min_fen=params.get("pay_min"),
            date=params.get("date"),
            lat=params.get("lat"),
            lng=params.get("lng"),
            radius_km=params.get("radius_km"),
            sort=params["sort"],
            cursor=params["cursor"],
            limit=params["limit"],
        ),
        rows=True,
    )
    results = board_rows(page.rows) if page.rows is not None else [board_item(p) for p in page.posts]
    return render_json({"results": results, "next_cursor": page.next_cursor})


# DRF's JSONRenderer as configured (compact, UTF-8, no NaN, U+2028/2029 escaped): the board's values are
# plain str/int/float/bool/None, so the C encoder alone writes the same bytes without a renderer per page.
_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def render_json(data) -> bytes:
    return _json(data).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


BOARD_PARAMS = tuple(BoardParamsSerializer().fields)
_board_serializer = threading.local()


def _board_params(query_params) -> dict:
    """The board's query validated by one BoardParamsSerializer per thread, reused: building a serializer
    deep-copies its twelve fields, which cost a page nobody had cached more than its SQL. Validation keeps
    no state on the serializer (``run_validation``); a bad query is the same structured 400."""
    serializer = getattr(_board_serializer, "instance", None)
    if serializer is None:
        serializer = _board_serializer.instance = BoardParamsSerializer()
    return dict(serializer.run_validation(query_params))


def board_endpoint(view, *, cached: bool = True):
    """The board's URL: a cached page is answered before DRF is involved at all (no request wrapping,
    negotiation or validation: only validated queries are ever stored), and a page nobody had cached is
    built by :func:`board_lean` when its query is plain (nearly always); anything else — a refused or
    unusual query, another method — goes to the DRF view, so every error is the view's structured one.
    ``cached=False``: the same without the page cache (the bench's uncached route)."""

    @functools.wraps(view)
    def endpoint(request, *args, **kwargs):
        if request.method != "GET":
            return view(request, *args, **kwargs)
        answered = None

        def build() -> bytes | None:
            nonlocal answered
            answered = board_lean(request) or view(request, *args, **kwargs)
            return answered.content if answered.status_code == 200 else None  # refused queries are not kept

        if not cached:
            build()
            return answered
        body, hit = board_cache.page(board_cache.key_for(request.GET, BOARD_PARAMS), build)
        response = HttpResponse(body, content_type="application/json") if answered is None else answered
        # Whether the page came from the cache (the bench counts hit rates with it; no personal data).
        response[BOARD_CACHE_HEADER] = "hit" if hit else "miss"
        return response

    return endpoint


def board_lean(request) -> HttpResponse | None:
    """A board page without DRF's request, negotiation and serializer (what the view does, for a plain
    query: :func:`jobs.serializers.board_params_fast`), or None to leave the request to the DRF view: a
    query it does not take, a ``format`` override, an Accept header JSON does not satisfy, a query the
    selector refuses (the view then answers the same refusal as a structured 400)."""
    query = request.GET
    accept = request.META.get("HTTP_ACCEPT")
    if "format" in query or (accept and not _JSON_ACCEPTED.search(accept)):
        return None
    params = board_params_fast(query)
    if params is None:
        return None
    try:
        body = board_page(params)
    except DomainError:
        return None
    response = HttpResponse(body, content_type="application/json")
    response["Allow"] = _BOARD_ALLOW  # as DRF's view answers
    return response


_JSON_ACCEPTED = re.compile(r"\*/\*|application/\*|application/json")
_BOARD_ALLOW = "GET, HEAD, OPTIONS"


BOARD_CACHE_HEADER = "X-Board-Cache"


class PostDetailView(APIView):
    """A published post for anyone; a draft only for its employer's members."""

    permission_classes = (permissions.AllowAny,)

    @extend_schema(
        operation_id="posts_retrieve",
        summary="招工详情（联系电话：雇主成员和已确认的工人看到完整号码）",
        responses={200: PostDetailSerializer, **_errors(404)},
        tags=["posts"],
    )
    def get(self, request, pk: int):
        user = _user_or_none(request)
        post = _found(selectors.post_visible, pk=pk, user=user)
        my_claim = None
        if user is not None:
            my_claim = (
                selectors.claims_for_worker(user=user).filter(post=post).select_related("order").first()
            )
        context = {
            "contact_phone": selectors.contact_phone_for(post=post, user=user),
            "my_claim": my_claim,
            "rules": rules().as_text(),
        }
        return Response(PostDetailSerializer(post, context=context).data)


class PostClaimView(APIView):
    @extend_schema(
        operation_id="posts_claims_create",
        summary="抢单（抢单岗位立即确认）或报名（报名岗位等雇主挑选）",
        description=(
            "需实名；限制性工种需有效证书；被该雇主拉黑、与已接订单时间冲突、重复报名、名额已满都会被拒绝。"
        ),
        request=ClaimCreateSerializer,
        responses={201: ClaimSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["claims"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        # The post's generation, read before the post is (grabbing.grab: the post is read once); the front
        # read it already when it let this grab through.
        seen = getattr(request._request, "grab_generation", None)
        if seen is None:
            seen = grab_front.generation(pk)
        post = _found(selectors.post_visible, pk=pk, user=request.user)
        data = _valid(ClaimCreateSerializer, request)
        claim = grabbing.claim(post=post, worker=request.user, note=data["note"], seen=seen)
        return Response(represent(ClaimSerializer, claim), status=status.HTTP_201_CREATED)


# ----------------------------------------------------------------------------------- employer posts


def _only_employer(user):
    """The caller's employer when they belong to exactly one; otherwise they must say which."""
    employers = list(account_selectors.employers_for_user(user=user)[:2])
    if len(employers) == 1:
        return employers[0]
    message = "请先登记用工主体" if not employers else "请选择用哪个用工主体发布"
    raise serializers.ValidationError({"employer": [message]})


class MyPostListView(generics.ListAPIView):
    """Posts of every employer the caller belongs to, newest first."""

    serializer_class = MyPostSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-created_at"
    filterset_fields = ["status", "employer"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        return selectors.posts_for_employer_member(user=self.request.user)

    @extend_schema(
        operation_id="my_posts_list",
        summary="我单位发布的岗位",
        responses={200: MyPostSerializer(many=True), **_errors(400, 401)},
        tags=["my-posts"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="my_posts_create",
        summary="发布岗位（草稿，或 publish=true 立即发布）",
        description=(
            "报酬 pay_fen 以分为单位。联系人、联系电话不填则用发布人的。"
            "用工主体未通过审核、已暂停或执照过期时不能发布（403）。"
        ),
        request=PostCreateSerializer,
        responses={201: MyPostSerializer, **_errors(400, 401, 403)},
        tags=["my-posts"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request):
        data = _valid(PostCreateSerializer, request)
        employer = data.pop("employer", None) or _only_employer(request.user)
        publish = data.pop("publish")
        data.setdefault("contact_name", request.user.name)
        data.setdefault("contact_phone", request.user.phone)
        post = services.post_create(employer=employer, actor=request.user, publish=publish, **data)
        return Response(MyPostSerializer(post).data, status=status.HTTP_201_CREATED)


def _my_post(request, pk: int) -> Post:
    return _found(selectors.post_for_member, pk=pk, user=request.user)


class MyPostDetailView(APIView):
    @extend_schema(
        operation_id="my_posts_retrieve",
        responses={200: MyPostSerializer, **_errors(401, 404)},
        tags=["my-posts"],
    )
    def get(self, request, pk: int):
        return Response(MyPostSerializer(_my_post(request, pk)).data)

    @extend_schema(
        operation_id="my_posts_partial_update",
        summary="修改草稿（已发布的岗位不能修改）",
        request=PostWriteSerializer(partial=True),
        responses={200: MyPostSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["my-posts"],
    )
    def patch(self, request, pk: int):
        post = _my_post(request, pk)
        data = _valid(PostWriteSerializer, request, partial=True)
        post = services.post_update(post=post, actor=request.user, **data)
        return Response(MyPostSerializer(post).data)


_POST_ACTION = {200: MyPostSerializer, **_errors(400, 401, 403, 404, 409)}


class MyPostPublishView(APIView):
    @extend_schema(
        operation_id="my_posts_publish",
        summary="发布草稿",
        request=None,
        responses=_POST_ACTION,
        tags=["my-posts"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        post = services.post_publish(post=_my_post(request, pk), actor=request.user)
        return Response(MyPostSerializer(post).data)


class MyPostCloseView(APIView):
    @extend_schema(
        operation_id="my_posts_close",
        summary="停止招工（已确认的订单照常，待确认的报名关闭）",
        request=None,
        responses=_POST_ACTION,
        tags=["my-posts"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        post = services.post_close(post=_my_post(request, pk), actor=request.user)
        return Response(MyPostSerializer(post).data)


class MyPostCancelView(APIView):
    @extend_schema(
        operation_id="my_posts_cancel",
        summary="取消岗位（所有未开工订单按雇主取消规则处理）",
        request=CancelReasonSerializer,
        responses=_POST_ACTION,
        tags=["my-posts"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        post = _my_post(request, pk)
        data = _valid(CancelReasonSerializer, request)
        post = services.post_cancel(post=post, actor=request.user, reason=data["reason"])
        return Response(MyPostSerializer(post).data)


class ApplicantListView(APIView):
    @extend_schema(
        operation_id="my_posts_claims_list",
        summary="报名/接单的工人（姓名、证件号、手机号打码；靠谱分、评分、有效证书）",
        responses={200: ApplicantSerializer(many=True), **_errors(401, 404)},
        tags=["my-posts"],
    )
    def get(self, request, pk: int):
        post = _my_post(request, pk)
        claims = selectors.applicants(post=post).select_related("order")
        return Response(ApplicantSerializer(claims, many=True).data)


# ------------------------------------------------------------------------------------------ claims


def _claim_for_employer(request, pk: int) -> Claim:
    claim = _found(Claim.objects.select_related("post").get, pk=pk)
    if not selectors.is_member(employer_id=claim.post.employer_id, user=request.user):
        raise NotFound("未找到")
    return claim


class ClaimAcceptView(APIView):
    @extend_schema(
        operation_id="claims_accept",
        summary="录用报名者（名额已满时拒绝，409）",
        request=None,
        responses={200: OrderSerializer, **_errors(401, 403, 404, 409)},
        tags=["claims"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        order = services.claim_accept(claim=_claim_for_employer(request, pk), actor=request.user)
        return Response(OrderSerializer(order).data)


class ClaimRejectView(APIView):
    @extend_schema(
        operation_id="claims_reject",
        summary="不录用",
        request=OptionalReasonSerializer,
        responses={200: ApplicantSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["claims"],
    )
    def post(self, request, pk: int):
        claim = _claim_for_employer(request, pk)
        data = _valid(OptionalReasonSerializer, request)
        claim = services.claim_reject(claim=claim, actor=request.user, reason=data["reason"])
        return Response(ApplicantSerializer(claim).data)


class ClaimWithdrawView(APIView):
    @extend_schema(
        operation_id="claims_withdraw",
        summary="撤回报名（已确认的则取消订单，按取消规则处理）",
        request=OptionalReasonSerializer,
        responses={200: ClaimSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["claims"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        claim = _found(selectors.claims_for_worker(user=request.user).get, pk=pk)
        data = _valid(OptionalReasonSerializer, request)
        claim = services.claim_withdraw(claim=claim, worker=request.user, reason=data["reason"])
        return Response(ClaimSerializer(claim).data)


class MyClaimListView(generics.ListAPIView):
    serializer_class = ClaimSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-created_at"
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Claim.objects.none()
        return selectors.claims_for_worker(user=self.request.user).select_related("order")

    @extend_schema(
        operation_id="me_claims_list",
        summary="我的接单/报名",
        responses={200: ClaimSerializer(many=True), **_errors(400, 401)},
        tags=["claims"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# ------------------------------------------------------------------------------------------ orders


class _OrderListView(generics.ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-starts_at"
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return self.orders(self.request.user).select_related("post__employer", "worker__realname")


class MyWorkerOrderListView(_OrderListView):
    @staticmethod
    def orders(user):
        return selectors.orders_for_worker(user=user)

    @extend_schema(
        operation_id="me_orders_list",
        summary="我（工人）的订单",
        responses={200: OrderSerializer(many=True), **_errors(400, 401)},
        tags=["orders"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyEmployerOrderListView(_OrderListView):
    @staticmethod
    def orders(user):
        return selectors.orders_for_employer_member(user=user)

    @extend_schema(
        operation_id="my_orders_list",
        summary="我单位的订单",
        responses={200: OrderSerializer(many=True), **_errors(400, 401)},
        tags=["orders"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _order(request, pk: int) -> Order:
    return _found(selectors.order_for_party, pk=pk, user=request.user)


def _side(order: Order, user) -> str:
    return "worker" if order.worker_id == user.pk else "employer"


def _order_out(request, order: Order) -> dict:
    order = _order(request, order.pk)
    context = {
        "my_side": _side(order, request.user),
        "contact_phone": selectors.contact_phone_for(post=order.post, user=request.user),
        "rules": rules().as_text(),
    }
    return OrderDetailSerializer(order, context=context).data


_ORDER_ACTION = {200: OrderDetailSerializer, **_errors(400, 401, 403, 404, 409)}


class OrderDetailView(APIView):
    @extend_schema(
        operation_id="orders_retrieve",
        summary="订单详情（双方可见）：进度记录、联系人、评价、规则",
        responses={200: OrderDetailSerializer, **_errors(401, 404)},
        tags=["orders"],
    )
    def get(self, request, pk: int):
        return Response(_order_out(request, _order(request, pk)))


class OrderCheckInView(APIView):
    @extend_schema(
        operation_id="orders_check_in",
        summary="工人签到（可带位置，须在工作地点附近）",
        request=CheckInSerializer,
        responses=_ORDER_ACTION,
        tags=["orders"],
    )
    def post(self, request, pk: int):
        order = _order(request, pk)
        data = _valid(CheckInSerializer, request)
        order = services.order_check_in(order=order, worker=request.user, lat=data["lat"], lng=data["lng"])
        return Response(_order_out(request, order))


class OrderCheckOutView(APIView):
    @extend_schema(
        operation_id="orders_check_out",
        summary="工人签退（填报小时/天/件数）",
        request=QuantitySerializer,
        responses=_ORDER_ACTION,
        tags=["orders"],
    )
    def post(self, request, pk: int):
        order = _order(request, pk)
        data = _valid(QuantitySerializer, request)
        order = services.order_check_out(order=order, worker=request.user, quantity=data["quantity"])
        return Response(_order_out(request, order))


class OrderConfirmView(APIView):
    @extend_schema(
        operation_id="orders_confirm_completion",
        summary="雇主确认完工（不填数量则按工人填报）",
        request=QuantitySerializer,
        responses=_ORDER_ACTION,
        tags=["orders"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        order = _order(request, pk)
        data = _valid(QuantitySerializer, request)
        order = services.order_confirm_completion(order=order, actor=request.user, quantity=data["quantity"])
        return Response(_order_out(request, order))


class OrderCancelView(APIView):
    @extend_schema(
        operation_id="orders_cancel",
        summary="取消订单（工人或雇主；雇主须填原因，临近开工取消需补偿工人）",
        request=OptionalReasonSerializer,
        responses=_ORDER_ACTION,
        tags=["orders"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request, pk: int):
        order = _order(request, pk)
        reason = _valid(OptionalReasonSerializer, request)["reason"]
        if _side(order, request.user) == "worker":
            order = services.order_cancel_by_worker(order=order, worker=request.user, reason=reason)
        else:
            order = services.order_cancel_by_employer(order=order, actor=request.user, reason=reason)
        return Response(_order_out(request, order))


class OrderRatingView(APIView):
    @extend_schema(
        operation_id="orders_ratings_create",
        summary="完工后评价对方（1–5星，每方一次）",
        request=RatingCreateSerializer,
        responses={201: RatingSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["orders"],
    )
    def post(self, request, pk: int):
        order = _order(request, pk)
        data = _valid(RatingCreateSerializer, request)
        rating = services.rating_create(
            order=order, rater=request.user, stars=data["stars"], comment=data["comment"]
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------- contract


def _contract_out(request, pk: int) -> dict:
    order = _order(request, pk)
    contract = _found(selectors.contract_for_party, order_pk=order.pk, user=request.user)
    return ContractSerializer(contract, context={"my_side": _side(order, request.user)}).data


class ContractView(APIView):
    @extend_schema(
        operation_id="orders_contract_retrieve",
        summary="电子协议全文、内容摘要（SHA-256）和双方确认情况",
        responses={200: ContractSerializer, **_errors(401, 404)},
        tags=["contracts"],
    )
    def get(self, request, pk: int):
        return Response(_contract_out(request, pk))


class ContractCodeView(APIView):
    @extend_schema(
        operation_id="orders_contract_code",
        summary="发送确认协议的短信验证码（发到本人手机）",
        request=None,
        responses={201: CodeSentSerializer, **_errors(401, 403, 404, 429)},
        tags=["contracts"],
    )
    def post(self, request, pk: int):
        order = _order(request, pk)
        services.contract_code_send(order=order, user=request.user)
        expires_in = int(settings.PHONE_CODE_TTL.total_seconds())
        return Response(CodeSentSerializer({"expires_in": expires_in}).data, status=status.HTTP_201_CREATED)


class ContractSignView(APIView):
    @extend_schema(
        operation_id="orders_contract_sign",
        summary="用短信验证码确认协议",
        request=ContractSignSerializer,
        responses={200: ContractSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["contracts"],
    )
    def post(self, request, pk: int):
        order = _order(request, pk)
        data = _valid(ContractSignSerializer, request)
        services.contract_sign(order=order, user=request.user, code=data["code"])
        return Response(_contract_out(request, pk))


class ContractPdfView(APIView):
    @extend_schema(
        operation_id="orders_contract_pdf",
        summary="下载电子协议 PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **_errors(401, 404)},
        tags=["contracts"],
    )
    def get(self, request, pk: int):
        from .pdf import render_contract_pdf  # fpdf2 and the font load only when someone downloads

        order = _order(request, pk)
        contract = _found(selectors.contract_for_party, order_pk=order.pk, user=request.user)
        response = HttpResponse(render_contract_pdf(contract), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="contract-{order.pk}.pdf"'
        return response

    def perform_content_negotiation(self, request, force=False):
        # Success is a PDF whatever the Accept header says; errors are always the JSON error shape.
        return JSONRenderer(), JSONRenderer.media_type


# ------------------------------------------------------------------------------------------ blocks


class EmployerBlockListView(APIView):
    def _employer(self, request, pk: int):
        return _found(account_selectors.employer_for_member, pk=pk, user=request.user)

    @extend_schema(
        operation_id="employers_blocks_list",
        summary="拉黑名单",
        responses={200: BlockSerializer(many=True), **_errors(401, 404)},
        tags=["blocks"],
    )
    def get(self, request, pk: int):
        blocks = selectors.blocks_for_employer(employer=self._employer(request, pk)).order_by("-created_at")
        return Response(BlockSerializer(blocks, many=True).data)

    @extend_schema(
        operation_id="employers_blocks_create",
        summary="拉黑工人（只能拉黑与本单位有过订单的工人）",
        request=BlockCreateSerializer,
        responses={201: BlockSerializer, **_errors(400, 401, 403, 404, 409)},
        tags=["blocks"],
    )
    def post(self, request, pk: int):
        employer = self._employer(request, pk)
        data = _valid(BlockCreateSerializer, request)
        block = services.block_create(
            employer=employer, actor=request.user, worker=data["worker"], reason=data["reason"]
        )
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDetailView(APIView):
    @extend_schema(
        operation_id="blocks_destroy",
        summary="移出拉黑名单",
        request=None,
        responses={204: None, **_errors(401, 403, 404)},
        tags=["blocks"],
    )
    def delete(self, request, pk: int):
        block = _found(Block.objects.get, pk=pk)
        if not selectors.is_member(employer_id=block.employer_id, user=request.user):
            raise NotFound("未找到")
        services.block_remove(block=block, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------------- staff


class StaffPostCreateView(APIView):
    """代发: hall staff post for a walk-in employer; the post records who did it."""

    permission_classes = (IsStaffWithPerms,)
    staff_perms = ("jobs.post_on_behalf",)

    @extend_schema(
        operation_id="staff_posts_create",
        summary="工作人员代用工主体发布岗位（记录代发人）",
        request=StaffPostCreateSerializer,
        responses={201: MyPostSerializer, **_errors(400, 401, 403)},
        tags=["staff"],
    )
    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request):
        data = _valid(StaffPostCreateSerializer, request)
        employer, publish = data.pop("employer"), data.pop("publish")
        post = services.post_create(employer=employer, actor=request.user, publish=publish, **data)
        return Response(MyPostSerializer(post).data, status=status.HTTP_201_CREATED)


class TradeViewSet(PublicCatalogueViewSet):
    """Active trades with their insurer risk class and whether a certificate is required (限制性工种)."""

    queryset = Trade.objects.filter(is_active=True)
    serializer_class = TradeSerializer
    filterset_fields = ["category", "risk_class"]
