"""Payment gateway backends: employers' top-ups (充值) and workers' payouts to a bank card (提现).

- ``fake`` (default): a top-up is paid the moment it is created and a payout is made at once. For local
  use, demos and tests; no money exists outside the ledger.
- ``http``: a WeChat-Pay-v3-like merchant API, signed both ways with the merchant key.

The ``http`` protocol
---------------------
Requests from us carry ``Authorization: GM-HMAC-SHA256 mchid="…",nonce_str="…",timestamp="…",
signature="…"``, the signature being hex HMAC-SHA256 under the merchant key over
``"{METHOD}\\n{path?query}\\n{timestamp}\\n{nonce}\\n{body}\\n"``. The gateway's answers and its
notifications carry ``Gm-Timestamp``, ``Gm-Nonce`` and ``Gm-Signature`` = HMAC over
``"{timestamp}\\n{nonce}\\n{body}\\n"``; an answer whose signature is wrong is not believed.

- ``POST /v3/pay/transactions/native`` ``{"mchid", "out_trade_no", "description", "notify_url",
  "time_expire", "amount": {"total": fen, "currency": "CNY"}}`` → ``{"code_url"}``: the page shows it as
  the link / QR code the payer scans. The gateway treats the same ``out_trade_no`` again as the same order.
- ``GET /v3/pay/transactions/out-trade-no/{no}?mchid=…`` → ``{"trade_state": "SUCCESS" | "NOTPAY" |
  "USERPAYING" | "CLOSED" | "PAYERROR", "transaction_id", "amount": {"total"}}``;
  ``POST …/{no}/close`` closes an unpaid order.
- Notification (``POST`` to our notify URL): ``{"id", "event_type": "TRANSACTION.SUCCESS" | …,
  "resource": {"out_trade_no", "transaction_id", "trade_state", "amount": {"total"}}}``. We check the
  signature over the raw body, refuse a timestamp more than ``NOTIFY_MAX_AGE_SECONDS`` away and a nonce
  already seen (a replay), and answer ``{"code": "SUCCESS"}``; anything else makes the gateway retry.
- ``POST /v3/transfer/bank-card`` ``{"mchid", "out_trade_no", "amount", "card_number", "holder_name",
  "remark"}`` → ``{"status": "SUCCESS" | "PROCESSING" | "FAIL", "transfer_id", "fail_reason"}``,
  idempotent on ``out_trade_no``. ``SUCCESS`` → processed; ``FAIL`` (or a request the gateway calls
  invalid) → failed, the money goes back to the wallet; ``PROCESSING``, rate limits, the merchant's own
  balance being short, 5xx, transport errors and unbelievable answers → retry later (the outcome is not
  known, so nothing is reversed).

Card numbers travel only in the payout request body; they are never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import GatewayNonce

logger = logging.getLogger("gigmarket.payments")

PaymentState = Literal["paid", "pending", "failed", "closed"]
PayoutStatus = Literal["processed", "failed", "retry"]


class GatewayError(Exception):
    """The gateway could not be used or its message cannot be trusted."""


class GatewayUnavailable(GatewayError):
    """Transport error, timeout, 5xx, or an answer we cannot believe: try again later."""


class BadSignature(GatewayError):
    pass


class StaleNotification(GatewayError):
    pass


class ReplayedNotification(GatewayError):
    pass


class NotSupported(GatewayError):
    pass


@dataclass(frozen=True)
class Payment:
    """A created or queried payment order."""

    state: PaymentState
    gateway_ref: str = ""  # the gateway's transaction id, once paid
    pay_url: str = ""  # what the payer scans or opens
    amount_fen: int | None = None


@dataclass(frozen=True)
class Payout:
    status: PayoutStatus
    gateway_ref: str = ""
    reason: str = ""  # plain Chinese, shown to the worker when failed


@dataclass(frozen=True)
class Notification:
    event_id: str
    out_trade_no: str
    state: PaymentState
    gateway_ref: str
    amount_fen: int


# --------------------------------------------------------------------------------------------- fake


class FakeGateway:
    name = "fake"

    def create_payment(
        self,
        *,
        out_trade_no: str,
        amount_fen: int,
        description: str,
        notify_url: str,
        expires_at: dt.datetime,
    ) -> Payment:
        return Payment("paid", gateway_ref=f"FAKE{out_trade_no}", amount_fen=amount_fen)

    def query_payment(self, *, out_trade_no: str) -> Payment:
        return Payment("closed")  # a fake top-up is paid at creation; one still pending was never made

    def close_payment(self, *, out_trade_no: str) -> None:
        return None

    def payout(self, *, out_trade_no: str, amount_fen: int, card_number: str, holder_name: str) -> Payout:
        return Payout("processed", gateway_ref=f"FAKE{out_trade_no}")

    def parse_notification(self, *, body: bytes, headers) -> Notification:
        raise NotSupported("the fake gateway sends no notifications")


# --------------------------------------------------------------------------------------------- http

TRADE_STATES: dict[str, PaymentState] = {
    "SUCCESS": "paid",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}

#: definitive refusals of a payout, in words a worker understands
PAYOUT_FAIL_REASONS = {
    "ACCOUNT_NAME_MISMATCH": "持卡人姓名与银行卡不符",
    "CARD_INVALID": "银行卡号无效",
    "ACCOUNT_FROZEN": "银行卡已冻结",
    "ACCOUNT_CLOSED": "银行卡已销户",
    "BANK_REJECTED": "银行拒绝入账",
    "AMOUNT_LIMIT": "超过银行单笔入账限额",
}
#: refusals that say nothing about the card: the same request may succeed later
PAYOUT_RETRY_CODES = {"NOT_ENOUGH", "FREQUENCY_LIMITED", "SYSTEM_ERROR", "SIGN_ERROR"}


def _sign(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_message(key: str, *, timestamp: str, nonce: str, body: str) -> str:
    """The signature the gateway puts on its answers and notifications (and a test server uses)."""
    return _sign(key, f"{timestamp}\n{nonce}\n{body}\n")


def sign_request(key: str, *, method: str, path: str, timestamp: str, nonce: str, body: str) -> str:
    return _sign(key, f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")


def remember_nonce(nonce: str) -> bool:
    """Record a notification nonce; False when it was seen before (a replay). Stored in the database so
    every web process agrees."""
    try:
        with transaction.atomic():
            GatewayNonce.objects.create(nonce=nonce)
    except IntegrityError:
        return False
    return True


class HttpGateway:
    name = "http"

    def __init__(
        self,
        *,
        url: str | None = None,
        merchant_id: str | None = None,
        key: str | None = None,
        timeout: float | None = None,
    ):
        self.url = (url or settings.PAYMENT_GATEWAY_URL or "").rstrip("/")
        self.merchant_id = merchant_id or settings.PAYMENT_GATEWAY_MERCHANT_ID
        self.key = key if key is not None else settings.PAYMENT_GATEWAY_KEY
        self.timeout = timeout or settings.PAYMENT_GATEWAY_TIMEOUT
        if not (self.url and self.merchant_id and self.key):
            raise ValueError(
                "the http payment gateway needs GIGMARKET_PAYMENT_GATEWAY_URL, _MERCHANT_ID and _KEY"
            )

    # ----- transport

    def _call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        """One signed call. Returns (status, json body) of a believable answer; raises GatewayUnavailable
        for transport errors, 5xx and answers whose signature or body is wrong."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload is not None else ""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign_request(
            self.key, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
        )
        headers = {
            "Accept": "application/json",
            "Authorization": (
                f'GM-HMAC-SHA256 mchid="{self.merchant_id}",nonce_str="{nonce}",'
                f'timestamp="{timestamp}",signature="{signature}"'
            ),
        }
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = requests.request(
                method,
                self.url + path,
                data=body.encode() if body else None,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            logger.warning(
                "payment gateway unreachable (%s %s): %s", method, path.split("?")[0], type(exc).__name__
            )
            raise GatewayUnavailable("支付通道暂时不可用") from exc
        if response.status_code >= 500:
            logger.warning("payment gateway error %s on %s", response.status_code, path.split("?")[0])
            raise GatewayUnavailable("支付通道暂时不可用")
        text = response.content.decode("utf-8", "replace")
        if response.status_code != 204 or text:
            self._verify_answer(response.headers, text)
        if not text:
            return response.status_code, {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise GatewayUnavailable("支付通道返回异常") from exc
        if not isinstance(data, dict):
            raise GatewayUnavailable("支付通道返回异常")
        return response.status_code, data

    def _verify_answer(self, headers, text: str) -> None:
        expected = sign_message(
            self.key, timestamp=headers.get("Gm-Timestamp", ""), nonce=headers.get("Gm-Nonce", ""), body=text
        )
        if not hmac.compare_digest(headers.get("Gm-Signature", ""), expected):
            logger.error("payment gateway answer with a bad signature: not believed")
            raise GatewayUnavailable("支付通道应答签名不正确")

    # ----- top-ups

    def create_payment(
        self,
        *,
        out_trade_no: str,
        amount_fen: int,
        description: str,
        notify_url: str,
        expires_at: dt.datetime,
    ) -> Payment:
        status, data = self._call(
            "POST",
            "/v3/pay/transactions/native",
            {
                "mchid": self.merchant_id,
                "out_trade_no": out_trade_no,
                "description": description[:127],
                "notify_url": notify_url,
                "time_expire": timezone.localtime(expires_at).isoformat(timespec="seconds"),
                "amount": {"total": amount_fen, "currency": "CNY"},
            },
        )
        if status == 200 and data.get("code_url"):
            return Payment("pending", pay_url=str(data["code_url"]), amount_fen=amount_fen)
        if data.get("code") == "ORDER_PAID":
            return self.query_payment(out_trade_no=out_trade_no)
        logger.warning("payment gateway refused an order: %s", data.get("code", status))
        if data.get("code") in ("FREQUENCY_LIMITED", "SYSTEM_ERROR"):
            raise GatewayUnavailable("支付通道繁忙，请稍后再试")
        raise GatewayError(str(data.get("message") or "支付通道拒绝了这笔充值"))

    def query_payment(self, *, out_trade_no: str) -> Payment:
        status, data = self._call(
            "GET", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}?mchid={quote(self.merchant_id)}"
        )
        if status == 404:
            return Payment("closed")
        if status != 200 or data.get("trade_state") not in TRADE_STATES:
            raise GatewayUnavailable("支付通道返回异常")
        return Payment(
            TRADE_STATES[data["trade_state"]],
            gateway_ref=str(data.get("transaction_id") or ""),
            amount_fen=_amount(data),
        )

    def close_payment(self, *, out_trade_no: str) -> None:
        status, data = self._call(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close",
            {"mchid": self.merchant_id},
        )
        if status not in (200, 204) and data.get("code") != "ORDER_CLOSED":
            raise GatewayUnavailable("支付通道未能关闭订单")

    def parse_notification(self, *, body: bytes, headers) -> Notification:
        """Verify a notification (signature over the raw body, age, nonce) and read it."""
        text = body.decode("utf-8", "replace")
        timestamp, nonce = headers.get("Gm-Timestamp", ""), headers.get("Gm-Nonce", "")
        expected = sign_message(self.key, timestamp=timestamp, nonce=nonce, body=text)
        if not (timestamp and nonce and hmac.compare_digest(headers.get("Gm-Signature", ""), expected)):
            raise BadSignature("签名不正确")
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError as exc:
            raise BadSignature("时间戳不正确") from exc
        if age > settings.WALLET_RULES["NOTIFY_MAX_AGE_SECONDS"]:
            raise StaleNotification("通知已过期")
        if not remember_nonce(nonce[:64]):
            raise ReplayedNotification("重复的通知")
        try:
            data = json.loads(text)
            resource = data["resource"]
            state = TRADE_STATES[resource["trade_state"]]
            return Notification(
                event_id=str(data.get("id", "")),
                out_trade_no=str(resource["out_trade_no"]),
                state=state,
                gateway_ref=str(resource.get("transaction_id") or ""),
                amount_fen=int(resource["amount"]["total"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError("通知内容无法解析") from exc

    # ----- payouts

    def payout(self, *, out_trade_no: str, amount_fen: int, card_number: str, holder_name: str) -> Payout:
        try:
            status, data = self._call(
                "POST",
                "/v3/transfer/bank-card",
                {
                    "mchid": self.merchant_id,
                    "out_trade_no": out_trade_no,
                    "amount": amount_fen,
                    "card_number": card_number,
                    "holder_name": holder_name,
                    "remark": "零工市场提现",
                },
            )
        except GatewayUnavailable as exc:
            return Payout("retry", reason=str(exc))
        if status == 200:
            result = data.get("status")
            ref = str(data.get("transfer_id") or "")
            if result == "SUCCESS":
                return Payout("processed", gateway_ref=ref)
            if result == "FAIL":
                code = str(data.get("fail_reason") or "")
                return Payout("failed", gateway_ref=ref, reason=PAYOUT_FAIL_REASONS.get(code, "银行退回"))
            return Payout("retry", gateway_ref=ref, reason="银行处理中")
        code = str(data.get("code") or "")
        if code in PAYOUT_RETRY_CODES or status == 429:
            if code == "SIGN_ERROR":
                logger.error("payment gateway refused our signature: check the merchant key")
            return Payout("retry", reason="支付通道繁忙")
        if 400 <= status < 500:
            logger.warning("payment gateway refused a payout: %s", code or status)
            return Payout("failed", reason=PAYOUT_FAIL_REASONS.get(code, "提现信息有误，银行未受理"))
        return Payout("retry", reason="支付通道返回异常")


def _amount(data: dict) -> int | None:
    try:
        return int(data["amount"]["total"])
    except (KeyError, TypeError, ValueError):
        return None


GATEWAYS = {"fake": FakeGateway, "http": HttpGateway}


def get_gateway(name: str | None = None):
    return GATEWAYS[name or settings.PAYMENT_GATEWAY]()
