"""Wallet test fixtures: employers and workers with money, a staff member who may see the books, a
Luhn-valid card number maker, and a fake payment gateway (a real HTTP server on loopback) speaking the
``http`` backend's protocol (see wallet/gateways.py)."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Permission
from stdnum import luhn

from tests.factories import EmployerFactory, UserFactory, verified_seeker
from wallet import ledger
from wallet.gateways import sign_message, sign_request

MERCHANT_ID = "1900000109"
KEY = "merchant-test-key-0123456789abcdef"


def card(seq: int = 1) -> str:
    """A 19-digit UnionPay-style number with a correct check digit."""
    body = f"621700{seq:012d}"
    return body + luhn.calc_check_digit(body)


def credit_worker(user, fen: int, key: str | None = None) -> None:
    """Money in a worker's wallet, as if earned (the release flow is tested in the jobs and ledger tests)."""
    ledger.transfer(
        key=key or f"test-earn:{user.pk}:{secrets.token_hex(4)}",
        kind="release",
        legs=[(ledger.bank(), -fen), (ledger.worker_account(user), fen)],
        memo="测试收入",
    )


def balance(account) -> int:
    account.refresh_from_db()
    return account.balance_fen


@pytest.fixture
def boss(db):
    return UserFactory(phone="13700000101", name="陈老板", role="employer")


@pytest.fixture
def employer(boss):
    return EmployerFactory(created_by=boss, name="青溪物业服务有限公司", funds=0)


@pytest.fixture
def other_boss(db):
    return UserFactory(phone="13700000102", name="林老板", role="employer")


@pytest.fixture
def other_employer(other_boss):
    return EmployerFactory(created_by=other_boss, name="西城装修队", funds=0)


@pytest.fixture
def worker(db):
    return verified_seeker(phone="13600000101", name="赵洪亮")


@pytest.fixture
def other_worker(db):
    return verified_seeker(phone="13600000102", name="钱师傅")


@pytest.fixture
def books_staff(staff):
    """Hall staff who may see the books (wallet.view_account)."""
    staff.user_permissions.add(
        Permission.objects.get(codename="view_account", content_type__app_label="wallet")
    )
    return type(staff).objects.get(pk=staff.pk)


# ------------------------------------------------------------------------------ fake payment gateway


class FakePayHandler(BaseHTTPRequestHandler):
    """Orders and transfers kept in class attributes; ``mode`` and ``payout_mode`` steer the answers."""

    mode = "normal"  # normal | down | bad_answer_signature | garbage
    payout_mode = "SUCCESS"  # SUCCESS | PROCESSING | FAIL:<reason> | ERROR:<status>:<code>
    orders: dict = {}
    transfers: dict = {}
    calls: list = []

    def log_message(self, *args):
        pass

    def _authorized(self, body: str) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("GM-HMAC-SHA256 "):
            return False
        parts = dict(p.split("=", 1) for p in header[len("GM-HMAC-SHA256 ") :].split(","))
        parts = {k: v.strip('"') for k, v in parts.items()}
        if parts.get("mchid") != MERCHANT_ID or abs(time.time() - int(parts.get("timestamp", "0"))) > 300:
            return False
        expected = sign_request(
            KEY,
            method=self.command,
            path=self.path,
            timestamp=parts["timestamp"],
            nonce=parts["nonce_str"],
            body=body,
        )
        return hmac.compare_digest(parts.get("signature", ""), expected)

    def _send(self, status: int, payload=None):
        text = "" if payload is None else json.dumps(payload, ensure_ascii=False)
        if FakePayHandler.mode == "garbage":
            text = "<html>oops</html>"
        data = text.encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = sign_message(KEY, timestamp=timestamp, nonce=nonce, body=text)
        if FakePayHandler.mode == "bad_answer_signature":
            signature = "0" * 64
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Gm-Timestamp", timestamp)
        self.send_header("Gm-Nonce", nonce)
        self.send_header("Gm-Signature", signature)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        FakePayHandler.calls.append((self.command, self.path, body))
        if FakePayHandler.mode == "down":
            return self._send(503, {"code": "SYSTEM_ERROR", "message": "维护中"})
        if not self._authorized(body):
            return self._send(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        path = urlparse(self.path).path
        data = json.loads(body) if body else {}
        if self.command == "POST" and path == "/v3/pay/transactions/native":
            no = data["out_trade_no"]
            order = FakePayHandler.orders.setdefault(
                no, {"state": "NOTPAY", "amount": data["amount"]["total"], "notify_url": data["notify_url"]}
            )
            if order["state"] == "SUCCESS":
                return self._send(400, {"code": "ORDER_PAID", "message": "已支付"})
            return self._send(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={no}"})
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            no = path.split("/")[5]
            order = FakePayHandler.orders.get(no)
            if order is None:
                return self._send(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            if path.endswith("/close"):
                order["state"] = "CLOSED"
                return self._send(204)
            return self._send(
                200,
                {"out_trade_no": no, "trade_state": order["state"], "transaction_id": f"42000{no}",
                 "amount": {"total": order["amount"]}},
            )  # fmt: skip
        if self.command == "POST" and path == "/v3/transfer/bank-card":
            mode = FakePayHandler.payout_mode
            FakePayHandler.transfers[data["out_trade_no"]] = data
            if mode.startswith("ERROR:"):
                _, status, code = mode.split(":")
                return self._send(int(status), {"code": code, "message": code})
            if mode.startswith("FAIL:"):
                return self._send(200, {"status": "FAIL", "fail_reason": mode[5:], "transfer_id": "T1"})
            return self._send(200, {"status": mode, "transfer_id": f"T{data['out_trade_no']}"})
        return self._send(404, {"code": "NOT_FOUND", "message": "no such path"})

    do_GET = _handle
    do_POST = _handle


def notification(out_trade_no: str, *, amount: int, state: str = "SUCCESS", key: str = KEY,
                 timestamp: int | None = None, nonce: str | None = None) -> tuple[bytes, dict]:  # fmt: skip
    """A gateway notification: raw body and the signed headers (for the Django test client)."""
    body = json.dumps(
        {
            "id": f"EV-{secrets.token_hex(6)}",
            "event_type": "TRANSACTION.SUCCESS" if state == "SUCCESS" else "TRANSACTION.CLOSED",
            "resource": {"mchid": MERCHANT_ID, "out_trade_no": out_trade_no, "transaction_id": f"42000{out_trade_no}",
                         "trade_state": state, "amount": {"total": amount, "currency": "CNY"}},
        },
        ensure_ascii=False,
    )  # fmt: skip
    ts, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(16)
    headers = {
        "HTTP_GM_TIMESTAMP": ts,
        "HTTP_GM_NONCE": nonce,
        "HTTP_GM_SIGNATURE": sign_message(key, timestamp=ts, nonce=nonce, body=body),
    }
    return body.encode(), headers


@pytest.fixture
def paygate(settings):
    """The fake gateway on a free loopback port, with the settings pointing the http backend at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePayHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakePayHandler.mode, FakePayHandler.payout_mode = "normal", "SUCCESS"
    FakePayHandler.orders, FakePayHandler.transfers, FakePayHandler.calls = {}, {}, []
    settings.PAYMENT_GATEWAY = "http"
    settings.PAYMENT_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PAYMENT_GATEWAY_MERCHANT_ID = MERCHANT_ID
    settings.PAYMENT_GATEWAY_KEY = KEY
    settings.PAYMENT_GATEWAY_TIMEOUT = 2
    yield FakePayHandler
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_order(db):
    """A grab order on a fresh post of ``employer``, taken to completion: ``make_order(employer, boss,
    worker, quantity="1")``. The employer needs the hold's money (pay 200 yuan/day × slots)."""
    import datetime as dt
    from decimal import Decimal

    import time_machine
    from django.utils import timezone

    from jobs import services as jobs
    from tests.factories import AreaFactory, TradeFactory

    def make(employer, boss, worker, *, quantity="1", complete=True, title="工地招小工", slots=1):
        street = AreaFactory(name="西城街道", code="350186001000", level="street")
        trade = TradeFactory(name="小工", category="construction", risk_class=2)
        start = timezone.now() + dt.timedelta(days=2)
        post = jobs.post_create(
            employer=employer, actor=boss, publish=True, trade=trade, title=title, description="搬砖",
            pay_fen=20_000, pay_unit="day", quantity=1, slots=slots, area=street, address="工业区8号",
            lat=28.9, lng=120.03, starts_at=start, ends_at=start + dt.timedelta(hours=9), mode="grab",
            insurance_required=False, contact_name="陈老板", contact_phone="13700001111",
        )  # fmt: skip
        order = jobs.claim_create(post=post, worker=worker).order
        if not complete:
            return order
        with time_machine.travel(order.starts_at, tick=False):
            jobs.order_check_in(order=order, worker=worker)
        with time_machine.travel(order.ends_at, tick=False):
            # The worker reports at most the post's one day; more is the employer's to confirm.
            jobs.order_check_out(order=order, worker=worker, quantity=min(Decimal(quantity), Decimal(1)))
            order = jobs.order_confirm_completion(order=order, actor=boss, quantity=quantity)
        return order

    return make
