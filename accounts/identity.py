"""Real-name verification backends (实名核验).

- ``manual`` (default): nothing is checked automatically; the record waits in the staff review queue,
  where hall staff compare the ID card in person.
- ``fake``: for tests and demos; matches against :attr:`FakeVerifier.registry` when a number is listed
  there, otherwise accepts.
- ``http``: a provincial identity service. Request: ``POST {url}`` with JSON
  ``{"request_id", "name", "id_number", "timestamp"}`` and header ``X-Signature`` = hex HMAC-SHA256 of the
  raw body under the API key, plus ``X-Api-Key-Id``. Response: ``{"result": "match" | "mismatch" |
  "not_found", "message": "..."}``. A transport error or a 5xx leaves the record pending for manual review
  rather than refusing a real person because a service was down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings

logger = logging.getLogger("gigmarket.identity")


@dataclass(frozen=True)
class Verdict:
    status: str  # "verified" | "rejected" | "pending"
    reason: str = ""


PENDING = Verdict("pending")


class ManualVerifier:
    method = "manual"

    def verify(self, *, name: str, id_number: str) -> Verdict:
        return PENDING


class FakeVerifier:
    method = "fake"
    registry: dict[str, str] = {}

    def verify(self, *, name: str, id_number: str) -> Verdict:
        known = self.registry.get(id_number)
        if known is not None and known != name:
            return Verdict("rejected", "姓名与身份证号不一致")
        return Verdict("verified")


class HttpVerifier:
    method = "http"

    def __init__(self, *, url: str | None = None, key: str | None = None, timeout: float | None = None):
        self.url = url or settings.IDENTITY_HTTP_URL
        self.key = key if key is not None else settings.IDENTITY_HTTP_KEY
        self.timeout = timeout or settings.IDENTITY_HTTP_TIMEOUT
        if not self.url or not self.key:
            raise ValueError("the http identity verifier needs GIGMARKET_IDENTITY_HTTP_URL and _KEY")

    def sign(self, body: bytes) -> str:
        return hmac.new(self.key.encode(), body, hashlib.sha256).hexdigest()

    def verify(self, *, name: str, id_number: str) -> Verdict:
        payload = {
            "request_id": uuid.uuid4().hex,
            "name": name,
            "id_number": id_number,
            "timestamp": int(time.time()),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = requests.post(
                self.url,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8", "X-Signature": self.sign(body)},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            logger.warning("identity service unreachable: %s", type(exc).__name__)
            return Verdict("pending", "核验服务暂时不可用，已转人工审核")
        if response.status_code >= 500:
            logger.warning("identity service error %s", response.status_code)
            return Verdict("pending", "核验服务暂时不可用，已转人工审核")
        if response.status_code in (401, 403):
            logger.error("identity service refused our credentials")
            return Verdict("pending", "核验服务暂时不可用，已转人工审核")
        try:
            result = response.json()["result"]
        except (ValueError, KeyError, TypeError):
            logger.warning("identity service answered %s with an unreadable body", response.status_code)
            return Verdict("pending", "核验服务返回异常，已转人工审核")
        if result == "match":
            return Verdict("verified")
        if result == "mismatch":
            return Verdict("rejected", "姓名与身份证号不一致")
        if result == "not_found":
            return Verdict("rejected", "未查到该身份证号，请到服务网点人工核验")
        return Verdict("pending", "核验结果不明确，已转人工审核")


VERIFIERS = {"manual": ManualVerifier, "fake": FakeVerifier, "http": HttpVerifier}


def get_verifier():
    return VERIFIERS[settings.IDENTITY_VERIFIER]()
