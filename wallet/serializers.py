"""Serializers for the wallet API. Input serializers type-check amounts (integer fen: ``100.5`` or ``"1e3"``
is refused, never rounded); the rules live in :mod:`wallet.services`. Output serializers never carry a
card number (only its masked form) nor a worker's full name or phone to anyone but the worker."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import mask_name, mask_phone

from .models import Account, Posting, TopUp, Withdrawal
from .selectors import account_owner


class FenField(serializers.IntegerField):
    """Money in integer fen. Refuses fractions (``12.5``, ``"12.50"``), booleans and exponent forms rather
    than rounding them."""

    default_error_messages = {
        "invalid": "金额以分为单位，必须是整数",
        "min_value": "金额必须大于0",
        "max_integer": "金额过大",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 10**12)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip().lstrip("-").isdigit():
            self.fail("invalid")
        return super().to_internal_value(data)


# ---------------------------------------------------------------------------------------------- input


class TopUpCreateSerializer(serializers.Serializer):
    amount_fen = FenField(help_text="充值金额（分），如 50000 表示 500 元")


class WithdrawalCreateSerializer(serializers.Serializer):
    amount_fen = FenField(help_text="提现金额（分）")
    card_number = serializers.CharField(max_length=30, help_text="本人银行卡号（12–19位数字）")
    holder_name = serializers.CharField(max_length=40, help_text="持卡人姓名，须与实名认证姓名一致")


class MonthParamsSerializer(serializers.Serializer):
    month = serializers.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$", required=False, help_text="YYYY-MM，默认本月", error_messages={
            "invalid": "月份格式应为 YYYY-MM"
        }
    )  # fmt: skip


class ArrearsParamsSerializer(serializers.Serializer):
    hours = serializers.IntegerField(
        required=False, min_value=1, max_value=24 * 90, help_text="完工超过多少小时仍未付清（默认配置值）"
    )


# --------------------------------------------------------------------------------------------- output


class TopUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = TopUp
        fields = [
            "id",
            "employer",
            "amount_fen",
            "status",
            "out_trade_no",
            "pay_url",
            "created_at",
            "expires_at",
            "paid_at",
        ]
        read_only_fields = fields


class WithdrawalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "amount_fen",
            "status",
            "card_masked",
            "holder_name",
            "failure_reason",
            "out_trade_no",
            "created_at",
            "processed_at",
        ]
        read_only_fields = fields


class WalletSerializer(serializers.Serializer):
    balance_fen = serializers.IntegerField(help_text="可提现余额（分）")


class LedgerLineSerializer(serializers.ModelSerializer):
    """One line of an account's history: the transaction's kind and memo, the order and post it belongs
    to, and the signed amount on this account."""

    at = serializers.DateTimeField(source="transaction.created_at")
    kind = serializers.CharField(source="transaction.kind", help_text="top_up / release / withdrawal / …")
    kind_display = serializers.CharField(source="transaction.get_kind_display")
    memo = serializers.CharField(source="transaction.memo")
    order = serializers.IntegerField(source="transaction.order_id", allow_null=True)
    post_title = serializers.SerializerMethodField()

    class Meta:
        model = Posting
        fields = ["id", "at", "kind", "kind_display", "memo", "amount_fen", "order", "post_title"]
        read_only_fields = fields

    def get_post_title(self, posting: Posting) -> str:
        order = posting.transaction.order
        return order.post.title if order else ""


class EscrowSummarySerializer(serializers.Serializer):
    employer = serializers.IntegerField()
    employer_name = serializers.CharField()
    available_fen = serializers.IntegerField(help_text="可用余额（分）")
    in_posts_fen = serializers.IntegerField(help_text="招工中岗位预留（分）")
    in_orders_fen = serializers.IntegerField(help_text="已确认订单托管（分）")


class StatementSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    opening_fen = serializers.IntegerField()
    in_fen = serializers.IntegerField()
    out_fen = serializers.IntegerField()
    closing_fen = serializers.IntegerField()
    lines = LedgerLineSerializer(many=True)


class OrderPaymentSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="pk")
    post_title = serializers.CharField(source="post.title")
    status = serializers.CharField()
    worker_name = serializers.SerializerMethodField()
    amount_fen = serializers.IntegerField(allow_null=True, help_text="应付报酬（完工确认后才有）")
    paid_fen = serializers.IntegerField()
    escrow_fen = serializers.IntegerField(help_text="仍在订单托管中的金额")
    owed_fen = serializers.SerializerMethodField(help_text="应付未付")

    def get_worker_name(self, order) -> str:
        realname = getattr(order.worker, "realname", None)
        return realname.name if realname else order.worker.name

    def get_owed_fen(self, order) -> int:
        return max((order.amount_fen or 0) - order.paid_fen, 0)


class ArrearsSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="pk")
    post_title = serializers.CharField(source="post.title")
    employer = serializers.IntegerField(source="employer_id")
    employer_name = serializers.CharField(source="employer.name")
    contact_name = serializers.CharField(source="post.contact_name")
    contact_phone = serializers.CharField(source="post.contact_phone")
    worker_name = serializers.SerializerMethodField(help_text="打码")
    worker_phone = serializers.SerializerMethodField(help_text="打码")
    amount_fen = serializers.IntegerField()
    paid_fen = serializers.IntegerField()
    owed_fen = serializers.IntegerField()
    completed_at = serializers.DateTimeField()

    def get_worker_name(self, order) -> str:
        realname = getattr(order.worker, "realname", None)
        return mask_name(realname.name if realname else order.worker.name)

    def get_worker_phone(self, order) -> str:
        return mask_phone(order.worker.phone)


class AccountSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "kind", "owner", "employer", "order", "post", "balance_fen", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_owner(self, account: Account) -> str:
        return account_owner(account)
