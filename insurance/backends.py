"""Insurer backends: who issues (and takes back) the policy number of an order's accident cover.

- ``fake`` (default): numbers policies locally; for development, demos and tests.
- ``http``: an insurer's policy API (团体意外险按单投保接口). Requests are JSON, signed both ways:

  ``POST {url}/policies`` with ``{"request_no", "product_code", "order_no", "policyholder", "insured",
  "occupation", "cover_start", "cover_end", "sum_insured_fen", "premium_fen"}``; headers
  ``X-GM-Timestamp`` (unix seconds), ``X-GM-Nonce`` and ``X-GM-Signature`` = hex HMAC-SHA256 under the key of
  ``"{timestamp}\\n{nonce}\\n{raw body}"``. The insurer answers ``{"code", "message", "data": {"policy_no",
  "insurer_name"}}`` signed the same way. ``request_no`` is ours and stable across retries, so a repeated
  request returns the policy already issued instead of a second one.

  ``POST {url}/policies/{policy_no}/cancel`` with ``{"request_no", "reason"}`` takes a policy back (the
  order never started).

  Codes: ``0000`` done; ``1001`` bad request, ``2001`` risk declined, ``2002`` insured not eligible,
  ``2003`` premium mismatch, ``3003`` cover already started → refused (a retry cannot help; the policy
  fails and the premium goes back); ``3001`` no such policy, ``3002`` already cancelled → a cancel is done;
  ``4001`` bad signature, ``4002`` stale timestamp, ``5000`` busy, ``5001`` rate limited, any 5xx/429, a
  transport error, an unreadable or unsigned answer, an unknown code → unavailable (retried with backoff).

Claims and premiums (same signing, same codes):

  ``POST {url}/claims`` with ``{"request_no", "policy_no", "order_no", "accident_at", "place", "description",
  "reported_at", "callback_url"}`` → ``data.claim_no``; ``request_no`` (``GMCLAIM…``, ours) makes a repeated
  submission return the same claim. ``POST {url}/claims/{claim_no}/documents`` with ``{"request_no",
  "file_name", "content_type", "sha256", "content_base64"}`` (one document; repeated → the same).
  ``POST {url}/statements`` with ``{"statement_no", "period", "total_premium_fen", "policy_count",
  "payment_ref", "policies": [{"policy_no", "order_no", "risk_class", "premium_fen", "cover_start",
  "cover_end"}]}`` → ``data.receipt_no``: the day's remittance and the policies it pays for (repeated → the
  same receipt).

  The insurer reports a claim's progress by ``POST /insurance/insurer/callbacks/`` to us, signed the same
  way: ``{"event_id", "claim_no", "request_no", "status": "accepted" (受理) | "need_documents" (补材料) |
  "paid" (赔付) | "rejected" (拒赔), "at", "amount_fen", "reason", "documents_needed"}``; see
  :mod:`insurance.claims`.

The insured's name and ID number go to the insurer, who must know whom it covers; they are never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger("gigmarket.insurance")

PRODUCT_CODE = "GIG_ACCIDENT_PER_ORDER"


class InsurerRefused(Exception):
    """The insurer said no for good (risk declined, bad data): retrying cannot help."""

    def __init__(self, reason: str, *, code: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class InsurerUnavailable(Exception):
    """No answer we can trust (network, outage, throttling, signature): try again later."""


@dataclass(frozen=True)
class IssueRequest:
    """What the insurer needs to write one order's policy."""

    policy_id: int
    request_no: str
    order_no: str
    policyholder_name: str
    insured_name: str
    insured_id_number: str
    trade: str
    risk_class: int
    cover_start: dt.datetime
    cover_end: dt.datetime
    cover_fen: int
    premium_fen: int


@dataclass(frozen=True)
class Issued:
    policy_number: str
    insurer: str


@dataclass(frozen=True)
class ClaimSubmission:
    request_no: str
    policy_number: str
    order_no: str
    accident_at: dt.datetime
    place: str
    description: str
    reported_at: dt.datetime


@dataclass(frozen=True)
class ClaimDocumentUpload:
    request_no: str
    file_name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StatementLine:
    policy_number: str
    order_no: str
    risk_class: int
    premium_fen: int
    cover_start: dt.datetime | None
    cover_end: dt.datetime | None


@dataclass(frozen=True)
class Statement:
    statement_no: str
    period: dt.date
    total_premium_fen: int
    payment_ref: str
    lines: list[StatementLine]


def callback_key() -> str:
    """The key signing the insurer's callbacks: the insurer key, or for the local backend one derived from
    the site's secret (so a local callback is checked exactly like a real one)."""
    if settings.INSURER_KEY:
        return settings.INSURER_KEY
    return hmac.new(settings.SECRET_KEY.encode(), b"local-insurer", hashlib.sha256).hexdigest()


class FakeInsurer:
    name = "fake"
    insurer_name = "零工市场测试保险"

    def issue(self, request: IssueRequest) -> Issued:
        return Issued(f"GMPA{timezone.localdate():%Y%m%d}{request.policy_id:08d}", self.insurer_name)

    def cancel(self, *, policy_number: str, request_no: str, reason: str) -> None:
        return None

    # The local insurer takes every claim, document and statement at once; its decisions on a claim are made
    # by staff from the console (insurance.claims.local_insurer_decide), as signed callbacks.
    def submit_claim(self, submission: ClaimSubmission) -> str:
        return "LC" + submission.request_no.removeprefix("GMCLAIM")

    def send_claim_document(self, *, claim_no: str, document: ClaimDocumentUpload) -> None:
        return None

    def send_statement(self, statement: Statement) -> str:
        return f"LR{statement.statement_no}"


REFUSED = {
    "1001": "保险公司认为投保信息有误",
    "2001": "保险公司拒保该风险",
    "2002": "被保险人不符合投保条件",
    "2003": "保费与保险公司费率不一致",
    "3003": "保障已开始，不能退保",
}
CANCEL_DONE = {"3001", "3002"}
OK = "0000"


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class HttpInsurer:
    name = "http"

    def __init__(self, *, url: str | None = None, key: str | None = None, timeout: float | None = None):
        self.url = (url or settings.INSURER_URL or "").rstrip("/")
        self.key = key if key is not None else settings.INSURER_KEY
        self.timeout = timeout or settings.INSURER_TIMEOUT
        if not self.url or not self.key:
            raise ValueError("the http insurer backend needs GIGMARKET_INSURER_URL and GIGMARKET_INSURER_KEY")

    def issue(self, request: IssueRequest) -> Issued:
        payload = {
            "request_no": request.request_no,
            "product_code": PRODUCT_CODE,
            "order_no": request.order_no,
            "policyholder": {"name": request.policyholder_name},
            "insured": {
                "name": request.insured_name,
                "id_type": "01",
                "id_number": request.insured_id_number,
            },
            "occupation": {"trade": request.trade, "risk_class": request.risk_class},
            "cover_start": timezone.localtime(request.cover_start).isoformat(),
            "cover_end": timezone.localtime(request.cover_end).isoformat(),
            "sum_insured_fen": request.cover_fen,
            "premium_fen": request.premium_fen,
        }
        answer = self._call("/policies", payload)
        if answer["code"] != OK:
            raise InsurerRefused(self._reason(answer), code=answer["code"])
        data = answer.get("data") or {}
        number = str(data.get("policy_no") or "").strip()
        if not number or len(number) > 64:
            logger.warning("insurer answered 0000 without a usable policy number")
            raise InsurerUnavailable("保险公司应答缺少保单号")
        return Issued(number, str(data.get("insurer_name") or "")[:40])

    def cancel(self, *, policy_number: str, request_no: str, reason: str) -> None:
        answer = self._call(f"/policies/{policy_number}/cancel", {"request_no": request_no, "reason": reason})
        if answer["code"] == OK or answer["code"] in CANCEL_DONE:
            return
        raise InsurerRefused(self._reason(answer), code=answer["code"])

    def submit_claim(self, submission: ClaimSubmission) -> str:
        payload = {
            "request_no": submission.request_no,
            "policy_no": submission.policy_number,
            "order_no": submission.order_no,
            "accident_at": timezone.localtime(submission.accident_at).isoformat(),
            "place": submission.place,
            "description": submission.description,
            "reported_at": timezone.localtime(submission.reported_at).isoformat(),
            "callback_url": settings.MATCHING_SITE_URL.rstrip("/") + "/insurance/insurer/callbacks/",
        }
        answer = self._call("/claims", payload)
        if answer["code"] != OK:
            raise InsurerRefused(self._reason(answer), code=answer["code"])
        number = str((answer.get("data") or {}).get("claim_no") or "").strip()
        if not number or len(number) > 64:
            raise InsurerUnavailable("保险公司应答缺少案件号")
        return number

    def send_claim_document(self, *, claim_no: str, document: ClaimDocumentUpload) -> None:
        payload = {
            "request_no": document.request_no,
            "file_name": document.file_name,
            "content_type": document.content_type,
            "sha256": hashlib.sha256(document.content).hexdigest(),
            "content_base64": base64.b64encode(document.content).decode(),
        }
        answer = self._call(f"/claims/{claim_no}/documents", payload)
        if answer["code"] != OK:
            raise InsurerRefused(self._reason(answer), code=answer["code"])

    def send_statement(self, statement: Statement) -> str:
        def moment(value):
            return timezone.localtime(value).isoformat() if value else None

        payload = {
            "statement_no": statement.statement_no,
            "period": statement.period.isoformat(),
            "total_premium_fen": statement.total_premium_fen,
            "policy_count": len(statement.lines),
            "payment_ref": statement.payment_ref,
            "policies": [
                {
                    "policy_no": line.policy_number,
                    "order_no": line.order_no,
                    "risk_class": line.risk_class,
                    "premium_fen": line.premium_fen,
                    "cover_start": moment(line.cover_start),
                    "cover_end": moment(line.cover_end),
                }
                for line in statement.lines
            ],
        }
        answer = self._call("/statements", payload)
        if answer["code"] != OK:
            raise InsurerRefused(self._reason(answer), code=answer["code"])
        receipt = str((answer.get("data") or {}).get("receipt_no") or "").strip()
        if not receipt or len(receipt) > 64:
            raise InsurerUnavailable("保险公司应答缺少清单回执号")
        return receipt

    @staticmethod
    def _reason(answer: dict) -> str:
        message = str(answer.get("message") or "")[:100]
        base = REFUSED.get(answer["code"], "保险公司拒绝")
        return f"{base}（{answer['code']}{'：' + message if message else ''}）"

    def _call(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GM-Timestamp": timestamp,
            "X-GM-Nonce": nonce,
            "X-GM-Signature": sign(self.key, timestamp, nonce, body),
        }
        try:
            response = requests.post(self.url + quote(path), data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            logger.warning("insurer unreachable: %s", type(exc).__name__)
            raise InsurerUnavailable("保险公司接口暂时无法连接") from exc
        if response.status_code >= 500 or response.status_code == 429:
            logger.warning("insurer answered HTTP %s", response.status_code)
            raise InsurerUnavailable(f"保险公司接口暂时不可用（HTTP {response.status_code}）")
        try:
            answer = json.loads(response.content)
            code = str(answer["code"])
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("insurer answered HTTP %s with an unreadable body", response.status_code)
            raise InsurerUnavailable("保险公司应答无法识别") from exc
        expected = sign(
            self.key, response.headers.get("X-GM-Timestamp", ""), response.headers.get("X-GM-Nonce", ""),
            response.content,
        )  # fmt: skip
        if not hmac.compare_digest(response.headers.get("X-GM-Signature", ""), expected):
            # A 4001 for our own signature comes back unsigned too: our key is wrong, staff must look.
            logger.error("insurer answer not signed with our key (code %s)", code)
            raise InsurerUnavailable("保险公司应答签名无效")
        answer["code"] = code
        if code == OK or code in REFUSED or code in CANCEL_DONE:
            return answer
        logger.warning("insurer answered code %s: will retry", code)
        raise InsurerUnavailable(f"保险公司暂时无法处理（{code}）")


BACKENDS = {"fake": FakeInsurer, "http": HttpInsurer}


def get_insurer():
    return BACKENDS[settings.INSURER_BACKEND]()
