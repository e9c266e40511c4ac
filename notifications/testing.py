"""Fakes on 127.0.0.1 for tests and benchmarks: an Aliyun Dysmsapi SMS gateway and a Web Push service.

The SMS gateway (``FakeSmsGateway``):

It checks the HMAC signature and the template's variables, keeps every message it accepted (so a test can
count deliveries per number), answers ``QuerySendDetails`` from what it accepted, and can be told to:
cap throughput (messages per second, token bucket: over the cap → ``Throttling.User``), answer given
error codes for the next calls or for given numbers, add latency, or hold a call after accepting it
(so a test can kill the worker while the provider has the message and the worker has no answer yet).

The push service (``FakePushService``) checks the VAPID JWT and decrypts each push (RFC 8291) with the
browser-side key of the subscription it was sent to (``FakeBrowser``), and can answer 404/410/429/5xx.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from .backends import aliyun_signature
from .templates_registry import TEMPLATES
from .webpush import b64url, b64url_decode

_CHINA = dt.timezone(dt.timedelta(hours=8))


def template_variables() -> dict[str, set[str]]:
    return {t.provider_code: set(re.findall(r"{(\w+)}", t.text)) for t in TEMPLATES.values()}


class FakeSmsGateway:
    def __init__(
        self,
        *,
        key_id: str = "test-key-id",
        secret: str = "test-key-secret",  # noqa: S107 (a fake gateway's own key)
        rate_cap: float = 0,
    ):
        self.key_id, self.secret = key_id, secret
        self.rate_cap = rate_cap
        self.templates = template_variables()
        self.received: list[dict] = []  # one entry per accepted message
        self.targets: list[str] = []  # the request line's target of each call (a proxy sees whole URLs)
        self.calls: Counter = Counter()  # per action
        self.throttled = 0
        self.fail_next: list[str] = []  # error codes for the next Send* calls, in order
        self.fail_numbers: dict[str, str] = {}  # phone -> error code (the whole call is refused)
        self.latency = 0.0
        self.close_after_answer = False  # drop each connection after answering, as an idle timeout would
        self.hold_at: int | None = None  # hold the call that brings `received` to at least this many
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._tokens = float(rate_cap)
        self._ts = time.monotonic()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    def start(self) -> FakeSmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def per_phone(self) -> Counter:
        return Counter(m["phone"] for m in self.received)

    # -------------------------------------------------------------------------------- protocol
    def _take(self, n: int) -> bool:
        if not self.rate_cap:
            return True
        now = time.monotonic()
        self._tokens = min(self.rate_cap, self._tokens + (now - self._ts) * self.rate_cap)
        self._ts = now
        if self._tokens < n:
            return False
        self._tokens -= n
        return True

    def handle(self, params: dict[str, str]) -> tuple[int, dict]:
        request_id = uuid.uuid4().hex
        signature = params.get("Signature", "")
        if params.get("AccessKeyId") != self.key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "bad key", "RequestId": request_id}
        if signature != aliyun_signature(params, self.secret):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature", "RequestId": request_id}
        action = params.get("Action")
        self.calls[action] += 1
        if action == "QuerySendDetails":
            return 200, self._query(params, request_id)
        if action == "SendSms":
            phones = [p for p in params.get("PhoneNumbers", "").split(",") if p]
            values = [json.loads(params.get("TemplateParam") or "{}")] * len(phones)
            signs = [params.get("SignName", "")] * len(phones)
        elif action == "SendBatchSms":
            phones = json.loads(params.get("PhoneNumberJson") or "[]")
            values = json.loads(params.get("TemplateParamJson") or "[]")
            signs = json.loads(params.get("SignNameJson") or "[]")
            if not (len(phones) == len(values) == len(signs)) or len(phones) > 100:
                return 200, self._error("isv.INVALID_PARAMETERS", request_id)
        else:
            return 400, {"Code": "InvalidAction.NotFound", "Message": action, "RequestId": request_id}
        code = params.get("TemplateCode", "")
        if code not in self.templates:
            return 200, self._error("isv.SMS_TEMPLATE_ILLEGAL", request_id)
        if any(not re.fullmatch(r"1[3-9]\d{9}", p) for p in phones):
            return 200, self._error("isv.MOBILE_NUMBER_ILLEGAL", request_id)
        if any(not s for s in signs):
            return 200, self._error("isv.SMS_SIGNATURE_ILLEGAL", request_id)
        if any(not self.templates[code] <= set(v) for v in values):
            return 200, self._error("isv.TEMPLATE_MISSING_PARAMETERS", request_id)
        hold = False
        with self._lock:
            for phone in phones:
                if phone in self.fail_numbers:
                    return 200, self._error(self.fail_numbers[phone], request_id)
            if self.fail_next:
                return 200, self._error(self.fail_next.pop(0), request_id)
            if not self._take(len(phones)):
                self.throttled += len(phones)
                return 200, self._error("Throttling.User", request_id)
            biz_id = f"{int(time.time() * 1000)}^{uuid.uuid4().hex[:10]}"
            now = dt.datetime.now(_CHINA)
            for phone, value, sign in zip(phones, values, signs, strict=True):
                self.received.append(
                    {
                        "phone": phone,
                        "template": code,
                        "params": value,
                        "sign": sign,
                        "out_id": params.get("OutId", ""),
                        "biz_id": biz_id,
                        "date": now.strftime("%Y%m%d"),
                        "at": time.monotonic(),
                    }
                )
            if self.hold_at is not None and len(self.received) >= self.hold_at and not self.held.is_set():
                hold = True
                self.held.set()
        if self.latency:
            time.sleep(self.latency)  # accepted; the answer is slow
        if hold:
            # Accepted, but the caller gets no answer until the test says so (it kills the worker first).
            self.release.wait(60)
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def _error(self, code: str, request_id: str) -> dict:
        return {"Code": code, "Message": f"fake gateway: {code}", "RequestId": request_id}

    def _query(self, params: dict[str, str], request_id: str) -> dict:
        phone, day = params.get("PhoneNumber", ""), params.get("SendDate", "")
        size, page = int(params.get("PageSize", "10")), int(params.get("CurrentPage", "1"))
        with self._lock:
            rows = [m for m in self.received if m["phone"] == phone and m["date"] == day]
        chunk = rows[(page - 1) * size : page * size]
        details = [
            {
                "PhoneNum": m["phone"],
                "SendStatus": 3,
                "ErrCode": "DELIVERED",
                "TemplateCode": m["template"],
                "OutId": m["out_id"],
                "SendDate": m["date"],
            }
            for m in chunk
        ]
        return {
            "Code": "OK",
            "Message": "OK",
            "RequestId": request_id,
            "TotalCount": len(rows),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        }

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body leave in two writes: without this, Nagle + delayed ACK add ~40 ms a call.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                gateway.targets.append(self.path)
                status, body = gateway.handle(params)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    if gateway.close_after_answer:
                        self.close_connection = True  # no "Connection: close": the caller finds out later
                except OSError:
                    pass  # the caller is gone (killed while the call was held)

            def log_message(self, *args):
                pass

        return Handler


# ------------------------------------------------------------------------------------ Web Push (叮咚)


class FakeBrowser:
    """The browser's side of one push subscription: its own P-256 key pair and 16-byte auth secret, as
    ``PushManager.subscribe()`` makes them. Only it can decrypt what is pushed to it."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh = b64url(point)
        self.auth = b64url(self.auth_secret)

    def subscription_json(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 (aes128gcm): the sender's key and salt travel in the body's header."""
        return http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )


def verify_vapid(authorization: str, *, audience: str, now: float | None = None) -> dict:
    """Check an ``Authorization: vapid t=<JWT>, k=<key>`` header as a push service does (RFC 8292): an
    ES256 JWT signed by the key ``k``, for this push service's origin, expiring within 24 hours, with a
    ``sub`` contact. Returns the claims; raises ValueError saying what is wrong."""
    scheme, _, rest = (authorization or "").partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("not a vapid authorization")
    parts = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        raw = b64url_decode(signature_b64)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"malformed vapid header: {exc}") from exc
    if header.get("alg") != "ES256" or len(raw) != 64:
        raise ValueError("not an ES256 token")
    signature = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ValueError("bad signature") from exc
    now = time.time() if now is None else now
    if claims.get("aud") != audience:
        raise ValueError(f"wrong audience {claims.get('aud')!r}")
    if not (now < int(claims.get("exp", 0)) <= now + 24 * 3600):
        raise ValueError("expired, or expiring more than 24 hours ahead")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("no contact (sub)")
    claims["k"] = key
    return claims


class FakePushService:
    """A push service on 127.0.0.1 (what FCM or Mozilla's autopush are to a browser), for tests.

    Endpoints are ``<url>push/<id>``; :meth:`browser` makes one with its browser-side keys. Every POST is
    checked like a real service does: the VAPID header (signature, audience, expiry, contact),
    ``Content-Encoding: aes128gcm``, a ``TTL``. A delivered push is decrypted with that browser's private
    key and kept in ``received`` (endpoint id, decrypted JSON, headers, the VAPID claims). ``answers``
    maps an endpoint id to a list of statuses to give instead (201, 404, 410, 429, 500…), one per call;
    ``gone`` ids answer 410 for ever."""

    def __init__(self):
        self.browsers: dict[str, FakeBrowser] = {}
        self.received: list[dict] = []
        self.refused: list[tuple[str, int, str]] = []
        self.answers: dict[str, list[int]] = {}
        self.gone: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakePushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def browser(self) -> FakeBrowser:
        endpoint_id = uuid.uuid4().hex
        browser = FakeBrowser(f"{self.url}push/{endpoint_id}")
        browser.id = endpoint_id
        self.browsers[endpoint_id] = browser
        return browser

    def messages_for(self, browser: FakeBrowser) -> list[dict]:
        return [r["data"] for r in self.received if r["id"] == browser.id]

    def handle(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        endpoint_id = path.rsplit("/", 1)[-1]
        browser = self.browsers.get(endpoint_id)
        if not path.startswith("/push/") or browser is None or endpoint_id in self.gone:
            return (410 if endpoint_id in self.gone else 404), {}
        try:
            claims = verify_vapid(headers.get("Authorization", ""), audience=self.origin)
        except ValueError as exc:
            self.refused.append((endpoint_id, 401, str(exc)))
            return 401, {}
        if headers.get("Content-Encoding") != "aes128gcm" or not headers.get("TTL", "").isdigit():
            self.refused.append((endpoint_id, 400, "encoding or TTL"))
            return 400, {}
        with self._lock:
            planned = self.answers.get(endpoint_id)
            status = planned.pop(0) if planned else 201
        if status >= 300:
            extra = {"Retry-After": "1"} if status == 429 else {}
            return status, extra
        try:
            data = json.loads(browser.decrypt(body))
        except Exception as exc:  # undecryptable: a real browser would drop it
            self.refused.append((endpoint_id, 400, f"cannot decrypt: {type(exc).__name__}"))
            return 400, {}
        with self._lock:
            self.received.append(
                {
                    "id": endpoint_id,
                    "data": data,
                    "claims": claims,
                    "headers": {k.lower(): v for k, v in headers.items()},
                    "size": len(body),
                }
            )
        return 201, {"Location": f"{self.url}message/{uuid.uuid4().hex}"}

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, extra = service.handle(self.path, self.headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
