"""Helpers for the insurance tests: money and time helpers, order walks, sample documents, and a local
fake insurer (a real HTTP server on loopback speaking the protocol of insurance/backends.py)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from PIL import Image

from insurance import services as insurance_services
from jobs import services as jobs_services
from wallet.models import Account
from wallet.selectors import reconcile

FUNDS = 1_000_000  # 10,000 yuan on the employer's account
PAY = 25_000  # 250 yuan a day
PREMIUM = 600  # risk class 4 in the default premium table
COVER = 1_000_000_00  # 1,000,000 yuan
INSURER_KEY = "insurer-test-key"


def at(moment):
    return time_machine.travel(moment, tick=False)


def bal(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance_fen


def books_clean() -> bool:
    """Every invariant of the ledger holds, and all balances sum to zero."""
    return reconcile() == [] and (Account.objects.aggregate(t=Sum("balance_fen"))["t"] or 0) == 0


def grab(post, worker):
    return jobs_services.claim_create(post=post, worker=worker).order


def issue(order):
    """What the after-commit task does once the order's confirmation committed."""
    return insurance_services.policy_issue(policy_id=order.policy.pk)


def check_in(order, worker):
    with at(order.starts_at):
        return jobs_services.order_check_in(order=order, worker=worker)


def check_out(order, worker):
    with at(order.ends_at):
        return jobs_services.order_check_out(order=order, worker=worker, quantity="1")


def png(name="现场照片.png", size=(60, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name="诊断证明.pdf") -> SimpleUploadedFile:
    """A one-page PDF (a claim document must parse as a PDF with a page, core.uploads)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def report(order, actor, *, when=None, now=None, documents=None, **extra):
    """报案 an hour into the cover (the clock set to half an hour after the accident unless ``now``)."""
    order.policy.refresh_from_db()
    when = when or order.policy.cover_from + dt.timedelta(hours=1)
    with at(now or when + dt.timedelta(minutes=30)):
        return insurance_services.claim_report(
            order=order, actor=actor, accident_at=when, place=extra.get("place", "工地三号楼二层"),
            description=extra.get("description", "搭架时从二层踩空摔下，左腿骨折，送市第一医院"),
            documents=documents if documents is not None else [png(), pdf()],
        )  # fmt: skip


# ------------------------------------------------------------------------------------- fake insurer


def _sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(key.encode(), f"{timestamp}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()


class FakeInsurer(BaseHTTPRequestHandler):
    """An insurer's per-order accident policy API: checks our signature and timestamp, issues one policy per
    request number (a retry gets the same one back), declines what ``mode`` says, and signs its answers."""

    mode = "normal"  # normal | decline | down | unsigned | wrong_key | garbage | busy | slow
    policies: dict = {}
    cancelled: list = []
    calls: list = []
    claims: dict = {}  # our request_no → its claim number (one claim per request number)
    documents: dict = {}  # document request_no → (claim number, sha256 of the bytes received)
    statements: dict = {}  # statement_no → the statement as received

    @staticmethod
    def callback(payload: dict, *, key: str = INSURER_KEY, age: int = 0) -> tuple[bytes, dict]:
        """A status callback as this insurer signs it (posted to our endpoint by the tests)."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts, nonce = str(int(time.time()) - age), uuid.uuid4().hex
        return body, {
            "HTTP_X_GM_TIMESTAMP": ts,
            "HTTP_X_GM_NONCE": nonce,
            "HTTP_X_GM_SIGNATURE": _sign(key, ts, nonce, body),
        }

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeInsurer.calls.append((self.path, body))
        ts, nonce = self.headers.get("X-GM-Timestamp", ""), self.headers.get("X-GM-Nonce", "")
        if FakeInsurer.mode == "down":
            return self._send(503, {"code": "5000", "message": "维护中"})
        if FakeInsurer.mode == "garbage":
            return self._send(200, None, raw=b"<html>gateway</html>")
        if not hmac.compare_digest(
            self.headers.get("X-GM-Signature", ""), _sign(INSURER_KEY, ts, nonce, body)
        ):
            return self._send(401, {"code": "4001", "message": "签名错误"}, sign=False)
        if abs(time.time() - int(ts or 0)) > 300:
            return self._send(200, {"code": "4002", "message": "时间戳过期"})
        data = json.loads(body)
        if FakeInsurer.mode == "busy":
            return self._send(200, {"code": "5000", "message": "系统繁忙"})
        if FakeInsurer.mode == "slow":
            time.sleep(3)  # beyond the client's 2-second timeout
            return self._send(200, {"code": "5000", "message": "超时"})
        if self.path.endswith("/claims"):
            if FakeInsurer.mode == "decline":
                return self._send(200, {"code": "1001", "message": "保单号与被保险人不符"})
            number = FakeInsurer.claims.setdefault(
                data["request_no"], f"PICCLP{len(FakeInsurer.claims) + 1:06d}"
            )
            return self._send(200, {"code": "0000", "message": "ok", "data": {"claim_no": number}})
        if self.path.endswith("/documents"):
            content = base64.b64decode(data["content_base64"])
            if hashlib.sha256(content).hexdigest() != data["sha256"]:
                return self._send(200, {"code": "1001", "message": "文件摘要不符"})
            FakeInsurer.documents.setdefault(data["request_no"], (self.path.split("/")[-2], data["sha256"]))
            return self._send(200, {"code": "0000", "message": "ok"})
        if self.path.endswith("/statements"):
            FakeInsurer.statements.setdefault(data["statement_no"], data)
            receipt = f"RCPT{data['statement_no']}"
            return self._send(200, {"code": "0000", "message": "ok", "data": {"receipt_no": receipt}})
        if self.path.endswith("/cancel"):
            number = self.path.split("/")[-2]
            FakeInsurer.cancelled.append((number, data["request_no"]))
            return self._send(200, {"code": "0000", "message": "ok"})
        if FakeInsurer.mode == "decline":
            return self._send(200, {"code": "2001", "message": "高处作业超出本产品承保范围"})
        number = FakeInsurer.policies.setdefault(data["request_no"], f"PICC{uuid.uuid4().hex[:12].upper()}")
        answer = {
            "code": "0000",
            "message": "ok",
            "data": {"policy_no": number, "insurer_name": "测试财产保险公司"},
        }
        self._send(200, answer, sign=FakeInsurer.mode != "unsigned")

    def _send(self, status, payload, raw=None, sign=True):
        data = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        ts, nonce = str(int(time.time())), uuid.uuid4().hex
        key = "someone-else" if FakeInsurer.mode == "wrong_key" else INSURER_KEY
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if sign:
            self.send_header("X-GM-Timestamp", ts)
            self.send_header("X-GM-Nonce", nonce)
            self.send_header("X-GM-Signature", _sign(key, ts, nonce, data))
        self.end_headers()
        self.wfile.write(data)
