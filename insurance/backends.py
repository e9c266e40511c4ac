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

The insured's name and ID number go to the insurer, who must know whom it covers; they are never logged.
"""

from __future__ import annotations

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


class FakeInsurer:
    name = "fake"
    insurer_name = "零工市场测试保险"

    def issue(self, request: IssueRequest) -> Issued:
        return Issued(f"GMPA{timezone.localdate():%Y%m%d}{request.policy_id:08d}", self.insurer_name)

    def cancel(self, *, policy_number: str, request_no: str, reason: str) -> None:
        return None


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
