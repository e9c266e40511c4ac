"""The wallet JSON API (/api/v1/wallet/…): a worker's wallet, history and withdrawals; an employer's escrow
account, top-ups, per-order payments and monthly statements; the staff's 欠薪预警 and any account's ledger.

The endpoints that move money (creating a top-up or a withdrawal) accept an ``Idempotency-Key`` header
(:mod:`wallet.idempotency`). Someone else's top-up, withdrawal or employer is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts.api import IsStaffWithPerms
from accounts.serializers import ErrorSerializer
from core.api import ViewOrderedCursorPagination
from core.scoping import get_visible_or_404, objects_visible_to

from . import selectors, services
from .forms import parse_month
from .idempotency import HEADER, idempotent
from .models import Account, Posting, TopUp, Withdrawal
from .serializers import (
    AccountSerializer,
    ArrearsParamsSerializer,
    ArrearsSerializer,
    EscrowSummarySerializer,
    LedgerLineSerializer,
    MonthParamsSerializer,
    OrderPaymentSerializer,
    StatementSerializer,
    TopUpCreateSerializer,
    TopUpSerializer,
    WalletSerializer,
    WithdrawalCreateSerializer,
    WithdrawalSerializer,
)

STAFF_PERMS = ("wallet.view_account",)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "输入有误（fields 指出哪一项）",
        401: "未登录",
        403: "没有权限（如未实名、用工主体未审核、不是工作人员）",
        404: "不存在，或不属于你",
        409: "余额不足，或 Idempotency-Key 已用于不同的请求，或同一请求正在处理",
        503: "支付通道暂时不可用（没有扣款）",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in statuses}


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _member_employer(request, pk: int):
    try:
        return account_selectors.employer_for_member(user=request.user, pk=pk)
    except ObjectDoesNotExist as exc:
        raise NotFound("未找到") from exc


class _LinesView(generics.ListAPIView):
    serializer_class = LedgerLineSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-id"
    filter_backends = ()


# ---------------------------------------------------------------------------------------- worker


class MyWalletView(APIView):
    @extend_schema(
        operation_id="wallet_me_retrieve",
        summary="我的钱包余额",
        responses={200: WalletSerializer, **_errors(401)},
        tags=["wallet"],
    )
    def get(self, request):
        return Response(WalletSerializer({"balance_fen": selectors.worker_balance(user=request.user)}).data)


class MyWalletLinesView(_LinesView):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        return selectors.worker_lines(user=self.request.user)

    @extend_schema(
        operation_id="wallet_me_lines_list",
        summary="我的钱包收支明细（每条带所属订单和岗位）",
        responses={200: LedgerLineSerializer(many=True), **_errors(401)},
        tags=["wallet"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MyWithdrawalListView(generics.ListAPIView):
    serializer_class = WithdrawalSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-id"
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Withdrawal.objects.none()
        return selectors.withdrawals_for_worker(user=self.request.user)

    @extend_schema(
        operation_id="wallet_withdrawals_list",
        summary="我的提现记录",
        responses={200: WithdrawalSerializer(many=True), **_errors(401)},
        tags=["wallet"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="wallet_withdrawals_create",
        summary="提现到本人银行卡",
        description=(
            "需实名，持卡人姓名须与实名一致；超过余额返回 409 insufficient_funds，什么也不扣。"
            "申请后钱先转入平台清算账户，由支付通道付到银行卡：成功为 processed，失败则退回钱包（failed）。"
        ),
        parameters=[HEADER],
        request=WithdrawalCreateSerializer,
        responses={201: WithdrawalSerializer, **_errors(400, 401, 403, 409)},
        tags=["wallet"],
    )
    @idempotent
    def post(self, request):
        data = _valid(WithdrawalCreateSerializer, request.data)
        withdrawal = services.withdrawal_request(
            worker=request.user,
            amount_fen=data["amount_fen"],
            card_number=data["card_number"],
            holder_name=data["holder_name"],
            key=request.idempotency_key,
        )
        withdrawal.refresh_from_db()
        return Response(WithdrawalSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


class MyWithdrawalDetailView(APIView):
    @extend_schema(
        operation_id="wallet_withdrawals_retrieve",
        responses={200: WithdrawalSerializer, **_errors(401, 404)},
        tags=["wallet"],
    )
    def get(self, request, pk: int):
        try:
            withdrawal = selectors.withdrawals_for_worker(user=request.user).get(pk=pk)
        except Withdrawal.DoesNotExist as exc:
            raise NotFound("未找到") from exc
        return Response(WithdrawalSerializer(withdrawal).data)


# -------------------------------------------------------------------------------------- employer


class EscrowView(APIView):
    @extend_schema(
        operation_id="wallet_employers_retrieve",
        summary="托管账户：可用余额、岗位托管、订单托管",
        responses={200: EscrowSummarySerializer, **_errors(401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, pk: int):
        employer = _member_employer(request, pk)
        summary = selectors.escrow_summary(employer=employer)
        data = {
            "employer": employer.pk,
            "employer_name": employer.name,
            "available_fen": summary.available_fen,
            "in_posts_fen": summary.in_posts_fen,
            "in_orders_fen": summary.in_orders_fen,
        }
        return Response(EscrowSummarySerializer(data).data)


class EscrowLinesView(_LinesView):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        return selectors.employer_lines(employer=_member_employer(self.request, self.kwargs["pk"]))

    @extend_schema(
        operation_id="wallet_employers_lines_list",
        summary="托管账户收支明细",
        responses={200: LedgerLineSerializer(many=True), **_errors(401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EscrowStatementView(APIView):
    @extend_schema(
        operation_id="wallet_employers_statement",
        summary="月度对账单（期初、收入、支出、期末和每一笔）",
        parameters=[MonthParamsSerializer],
        responses={200: StatementSerializer, **_errors(400, 401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, pk: int):
        employer = _member_employer(request, pk)
        params = _valid(MonthParamsSerializer, request.query_params)
        month = parse_month(params.get("month")) or timezone.localdate().replace(day=1)
        result = selectors.employer_statement(employer=employer, month=month)
        data = {
            "month": f"{result.month:%Y-%m}",
            "opening_fen": result.opening_fen,
            "in_fen": result.in_fen,
            "out_fen": result.out_fen,
            "closing_fen": result.closing_fen,
            "lines": result.lines,
        }
        return Response(StatementSerializer(data).data)


class EscrowOrdersView(generics.ListAPIView):
    serializer_class = OrderPaymentSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-id"
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.order_model().objects.none()
        employer = _member_employer(self.request, self.kwargs["pk"])
        return selectors.order_payments(employer=employer).order_by()

    @extend_schema(
        operation_id="wallet_employers_orders_list",
        summary="每个订单的付款：应付、已付、托管中、欠付",
        responses={200: OrderPaymentSerializer(many=True), **_errors(401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TopUpListView(generics.ListAPIView):
    serializer_class = TopUpSerializer
    pagination_class = ViewOrderedCursorPagination
    ordering = "-id"
    filter_backends = ()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TopUp.objects.none()
        return TopUp.objects.filter(employer=_member_employer(self.request, self.kwargs["pk"]))

    @extend_schema(
        operation_id="wallet_employers_top_ups_list",
        summary="充值记录",
        responses={200: TopUpSerializer(many=True), **_errors(401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="wallet_employers_top_ups_create",
        summary="充值（托管工钱）",
        description=(
            "返回 status=paid 表示已到账；status=pending 时打开 pay_url 支付，到账由支付通道通知，"
            "可再次查询该充值。用工主体须已审核通过。"
        ),
        parameters=[HEADER],
        request=TopUpCreateSerializer,
        responses={201: TopUpSerializer, **_errors(400, 401, 403, 404, 409, 503)},
        tags=["wallet-employer"],
    )
    @idempotent
    def post(self, request, pk: int):
        employer = _member_employer(request, pk)
        data = _valid(TopUpCreateSerializer, request.data)
        top_up = services.top_up_create(
            employer=employer,
            actor=request.user,
            amount_fen=data["amount_fen"],
            key=request.idempotency_key,
            notify_url=settings.PAYMENT_NOTIFY_URL or request.build_absolute_uri(reverse("wallet:notify")),
        )
        return Response(TopUpSerializer(top_up).data, status=status.HTTP_201_CREATED)


class TopUpDetailView(APIView):
    @extend_schema(
        operation_id="wallet_top_ups_retrieve",
        responses={200: TopUpSerializer, **_errors(401, 404)},
        tags=["wallet-employer"],
    )
    def get(self, request, pk: int):
        try:
            top_up = selectors.top_ups_for_member(user=request.user).get(pk=pk)
        except TopUp.DoesNotExist as exc:
            raise NotFound("未找到") from exc
        return Response(TopUpSerializer(top_up).data)


# ----------------------------------------------------------------------------------------- staff


class ArrearsView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = STAFF_PERMS

    @extend_schema(
        operation_id="wallet_staff_arrears_list",
        summary="欠薪预警：完工超过规定时间仍未付清的订单（最早的在前，最多500条）",
        parameters=[ArrearsParamsSerializer],
        responses={200: ArrearsSerializer(many=True), **_errors(400, 401, 403)},
        tags=["wallet-staff"],
    )
    def get(self, request):
        params = _valid(ArrearsParamsSerializer, request.query_params)
        orders = objects_visible_to(request.user, selectors.wage_arrears(hours=params.get("hours")))[:500]
        return Response(ArrearsSerializer(orders, many=True).data)


class StaffAccountView(APIView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = STAFF_PERMS

    @extend_schema(
        operation_id="wallet_staff_accounts_retrieve",
        summary="任一账户的余额",
        responses={200: AccountSerializer, **_errors(401, 403, 404)},
        tags=["wallet-staff"],
    )
    def get(self, request, pk: int):
        account = get_visible_or_404(
            request.user, Account.objects.select_related("employer", "user", "order__post", "post"), pk=pk
        )
        return Response(AccountSerializer(account).data)


class StaffAccountLinesView(_LinesView):
    permission_classes = (IsStaffWithPerms,)
    staff_perms = STAFF_PERMS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Posting.objects.none()
        account = get_visible_or_404(self.request.user, Account.objects.all(), pk=self.kwargs["pk"])
        return Posting.objects.filter(account=account).select_related("transaction__order__post")

    @extend_schema(
        operation_id="wallet_staff_accounts_lines_list",
        summary="任一账户的分录",
        responses={200: LedgerLineSerializer(many=True), **_errors(401, 403)},
        tags=["wallet-staff"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
