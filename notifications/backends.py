"""SMS delivery backends.

- ``outbox`` (default): the message stays in the database, where the admin shows it (one-time codes
  redacted). With ``SMS_PHONE_SIMULATOR`` on (local settings only; production forces it off) each message is
  also "received" by a simulated phone: printed in full, code included, in the terminal running the server
  (see ``phone_simulator``). That terminal is the developer's phone; no page or log line is.
- ``console``: also written to the log, as the row keeps it (codes redacted);
- ``aliyun``: an HTTP gateway speaking Aliyun Dysmsapi (2017-05-25, RPC style): ``SendSms`` for one
  number, ``SendBatchSms`` for up to 100 numbers with one template, ``QuerySendDetails`` to learn whether a
  send whose answer was lost reached the provider. Requests are signed with HMAC-SHA1 over the sorted,
  percent-encoded parameters (signature version 1.0); ``OutId`` carries our outbox reference.

``send(messages, out_id)`` makes ONE provider call for the given messages (same template, distinct
numbers) and returns one ``Outcome`` per message: sent, retry later, give up, or unknown (the request
may or may not have reached the provider: only a query can tell).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import os
import select
import socket
import ssl
import threading
import urllib.request
import uuid
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode, urlsplit

import requests
from django.conf import settings

from . import phone_simulator
from .templates_registry import TEMPLATES

logger = logging.getLogger("gigmarket.sms")

SENT, RETRY, GIVE_UP, UNKNOWN = "sent", "retry", "give_up", "unknown"


@dataclass(frozen=True)
class Outcome:
    result: str
    provider_id: str = ""
    error: str = ""


class OutboxBackend:
    name = "outbox"
    max_batch = 100
    remote = False  # local: nothing to wait for, so no parallel sends

    def send(self, messages, out_id: str) -> list[Outcome]:
        if settings.SMS_PHONE_SIMULATOR:
            for m in messages:
                phone_simulator.receive(message=m)
        return [Outcome(SENT, f"outbox-{m.pk}") for m in messages]

    def query(self, message) -> bool:
        # Nothing left the building: sending again is harmless.
        return False


class ConsoleBackend(OutboxBackend):
    name = "console"

    def send(self, messages, out_id: str) -> list[Outcome]:
        for m in messages:
            # The log filter masks the number; the body is the row's, codes redacted (a log is no phone).
            logger.info("SMS to %s: 【%s】%s", m.phone, settings.SMS_SIGN_NAME, m.body)
        return [Outcome(SENT, f"console-{uuid.uuid4().hex[:12]}") for _ in messages]


# Provider answers: worth trying again later, or never going to work for this message.
RETRY_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number minute/hour limit at the provider
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "isp.SYSTEM_ERROR",
    "isp.RAM_PERMISSION_DENY",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",
    "isv.OUT_OF_SERVICE",  # account overdue: ops tops up, messages go out later
    "isv.AMOUNT_NOT_ENOUGH",
    # Credentials are configuration: fixed by ops, after which the messages should still go out.
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId.NotFound",
}
GIVE_UP_CODES = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.INVALID_PARAMETERS",
    "isv.INVALID_JSON_PARAM",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.DAY_LIMIT_CONTROL",  # the number's daily limit: sending it tomorrow would be stale
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.DENY_IP_RANGE",
}


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Dysmsapi signature 1.0: HMAC-SHA1(secret + '&', METHOD&%2F&encoded(sorted query))."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _proxy_for(parts):
    """The proxy the environment names for this gateway (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as requests
    reads them), or None: a deployment that reaches the provider through an egress proxy keeps working."""
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    return urlsplit(proxy if "://" in proxy else f"http://{proxy}") if proxy else None


class AliyunBackend:
    name = "aliyun"
    max_batch = 100  # SendBatchSms takes at most 100 numbers
    remote = True
    _local = threading.local()

    def __init__(self):
        if not settings.SMS_HTTP_URL:
            raise RuntimeError("SMS_BACKEND=aliyun needs GIGMARKET_SMS_HTTP_URL")
        self.url = settings.SMS_HTTP_URL
        self.key_id = settings.SMS_ACCESS_KEY_ID
        self.secret = settings.SMS_ACCESS_KEY_SECRET
        self.timeout = settings.SMS_HTTP_TIMEOUT
        self.proxy = _proxy_for(urlsplit(self.url))  # read once: the environment is fixed per process

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's keep-alive connection to the gateway (a new one if the gateway closed it).

        ``http.client`` rather than ``requests``: a call through requests cost ~1.4 ms of CPU against ~0.4
        ms (bench/sms_throughput.py, codes: one call per message), on a box where CPU is the limit."""
        parts = urlsplit(self.url)
        key = (parts.scheme, parts.hostname, parts.port)
        pool = self._local.__dict__.setdefault("connections", {})
        conn = pool.get(key)
        if conn is not None and conn.sock is not None and _dropped(conn.sock):
            conn.close()
            conn = None
        if conn is None or conn.sock is None:
            proxy = self.proxy
            host, port = (proxy.hostname, proxy.port) if proxy else (parts.hostname, parts.port)
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=_tls_context())
                if proxy:  # CONNECT through the proxy, TLS end to end with the gateway
                    conn.set_tunnel(parts.hostname, parts.port)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            conn.connect()
            # Headers and body in one segment each, sent at once (no Nagle delay waiting for an ACK).
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pool[key] = conn
        return conn

    def _post(self, body: bytes) -> tuple[int, bytes]:
        """POST a form; raises requests.Timeout / requests.ConnectionError when no whole answer came back."""
        try:
            conn = self._connection()
            parts = urlsplit(self.url)
            # Through a plain-HTTP proxy the request line names the whole URL; otherwise the path alone.
            target = self.url if parts.scheme == "http" and self.proxy else (parts.path or "/")
            conn.request("POST", target, body=body, headers=_FORM)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError as exc:
            self._drop()
            raise requests.Timeout(f"SMS gateway: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise requests.ConnectionError(f"SMS gateway: {type(exc).__name__}") from exc
        if response.will_close:
            self._drop()
        return response.status, data

    def _drop(self) -> None:
        parts = urlsplit(self.url)
        conn = self._local.__dict__.get("connections", {}).pop(
            (parts.scheme, parts.hostname, parts.port), None
        )
        if conn is not None:
            conn.close()

    def _call(self, action: str, params: dict[str, str]) -> dict:
        """One signed call; raises requests.RequestException when the answer did not come back."""
        params = {
            "AccessKeyId": self.key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            **params,
        }
        params["Signature"] = aliyun_signature(params, self.secret)
        status, data = self._post(urlencode(params).encode())
        if status >= 500:
            raise requests.HTTPError(f"gateway answered HTTP {status}")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise requests.HTTPError(f"gateway answered HTTP {status} without JSON") from exc

    def send(self, messages, out_id: str) -> list[Outcome]:
        template = TEMPLATES[messages[0].template]
        if len(messages) == 1:
            m = messages[0]
            action, params = (
                "SendSms",
                {
                    "PhoneNumbers": m.phone,
                    "SignName": settings.SMS_SIGN_NAME,
                    "TemplateCode": template.provider_code,
                    "TemplateParam": json.dumps(_stringify(m.delivery_params()), ensure_ascii=False),
                    "OutId": out_id,
                },
            )
        else:
            action, params = (
                "SendBatchSms",
                {
                    "PhoneNumberJson": json.dumps([m.phone for m in messages]),
                    "SignNameJson": json.dumps([settings.SMS_SIGN_NAME] * len(messages), ensure_ascii=False),
                    "TemplateCode": template.provider_code,
                    "TemplateParamJson": json.dumps(
                        [_stringify(m.delivery_params()) for m in messages], ensure_ascii=False
                    ),
                    "OutId": out_id,
                },
            )
        try:
            answer = self._call(action, params)
        except requests.RequestException as exc:
            return [Outcome(UNKNOWN, error=f"{action}: {type(exc).__name__}")] * len(messages)
        code = str(answer.get("Code", ""))
        if code == "OK":
            return [Outcome(SENT, str(answer.get("BizId", "")))] * len(messages)
        error = f"{code}: {str(answer.get('Message', ''))[:200]}"
        result = GIVE_UP if code in GIVE_UP_CODES else RETRY
        return [Outcome(result, error=error)] * len(messages)

    def query(self, message) -> bool:
        """Did the provider receive ``message`` under its ``out_id``? Looks on the day the send began and
        the next (a lease may straddle midnight). Raises requests.RequestException when it cannot tell."""
        started = message.lease_until - dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
        days = {started.astimezone(_CHINA).date(), message.lease_until.astimezone(_CHINA).date()}
        for day in sorted(days):
            page = 1
            while True:
                answer = self._call(
                    "QuerySendDetails",
                    {
                        "PhoneNumber": message.phone,
                        "SendDate": day.strftime("%Y%m%d"),
                        "PageSize": "50",
                        "CurrentPage": str(page),
                    },
                )
                if answer.get("Code") != "OK":
                    raise requests.HTTPError(f"QuerySendDetails: {answer.get('Code')}")
                details = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                if any(d.get("OutId") == message.out_id for d in details):
                    return True
                if page * 50 >= int(answer.get("TotalCount") or 0) or not details:
                    break
                page += 1
        return False


_CHINA = dt.timezone(dt.timedelta(hours=8))  # the provider's dates are Beijing time
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _dropped(sock: socket.socket) -> bool:
    """Whether a kept-alive connection was closed by the gateway (readable while no answer is due: EOF)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # The CA bundle requests used (certifi's, or REQUESTS_CA_BUNDLE): certificates are verified as before.
    return ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE") or requests.certs.where())


def _stringify(params: dict) -> dict:
    # Template variables are strings at the provider.
    return {k: str(v) for k, v in params.items()}


BACKENDS = {"outbox": OutboxBackend, "console": ConsoleBackend, "aliyun": AliyunBackend}


def get_backend():
    return BACKENDS[settings.SMS_BACKEND]()
