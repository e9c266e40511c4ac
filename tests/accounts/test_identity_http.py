"""The http identity backend against a local fake provincial service (a real HTTP server on loopback)."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import services
from accounts.identity import HttpVerifier
from tests.factories import id_number

KEY = "province-test-key"
PEOPLE = {id_number(21): "陈世林", id_number(22): "赵洪亮"}


class FakeProvince(BaseHTTPRequestHandler):
    mode = "normal"
    calls: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeProvince.calls.append(body)
        expected = hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
        if FakeProvince.mode == "down":
            return self._send(503, {"error": "maintenance"})
        if FakeProvince.mode == "garbage":
            return self._send(200, "not json", raw=True)
        if not hmac.compare_digest(self.headers.get("X-Signature", ""), expected):
            return self._send(401, {"error": "bad signature"})
        data = json.loads(body)
        known = PEOPLE.get(data["id_number"])
        result = "not_found" if known is None else ("match" if known == data["name"] else "mismatch")
        self._send(200, {"result": result, "message": result})

    def _send(self, status, payload, raw=False):
        data = payload.encode() if raw else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def province(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvince)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeProvince.mode, FakeProvince.calls = "normal", []
    settings.IDENTITY_VERIFIER = "http"
    settings.IDENTITY_HTTP_URL = f"http://127.0.0.1:{server.server_address[1]}/verify"
    settings.IDENTITY_HTTP_KEY = KEY
    settings.IDENTITY_HTTP_TIMEOUT = 2
    yield FakeProvince
    server.shutdown()
    server.server_close()


def test_match_mismatch_not_found(province):
    verifier = HttpVerifier()
    assert verifier.verify(name="陈世林", id_number=id_number(21)).status == "verified"
    assert verifier.verify(name="陈世", id_number=id_number(21)).status == "rejected"
    verdict = verifier.verify(name="陈世林", id_number=id_number(29))
    assert verdict.status == "rejected" and "未查到" in verdict.reason
    sent = json.loads(province.calls[0])
    assert set(sent) == {"request_id", "name", "id_number", "timestamp"}


def test_wrong_key_or_outage_falls_back_to_manual_review(province, settings):
    assert HttpVerifier(key="wrong").verify(name="陈世林", id_number=id_number(21)).status == "pending"
    province.mode = "down"
    assert HttpVerifier().verify(name="陈世林", id_number=id_number(21)).status == "pending"
    province.mode = "garbage"
    assert HttpVerifier().verify(name="陈世林", id_number=id_number(21)).status == "pending"


def test_unreachable_service_falls_back(settings):
    verdict = HttpVerifier(url="http://127.0.0.1:9/verify", key=KEY, timeout=0.5).verify(
        name="陈世林", id_number=id_number(21)
    )
    assert verdict.status == "pending"


@pytest.mark.django_db
def test_realname_submit_through_http_backend(province, alice, bob, staff):
    record = services.realname_submit(user=alice, name="陈世林", id_number=id_number(21))
    assert record.status == "verified" and record.method == "http"
    record = services.realname_submit(user=bob, name="王博", id_number=id_number(22))
    assert record.status == "rejected"
    province.mode = "down"
    from tests.factories import SeekerFactory

    carol = SeekerFactory()
    record = services.realname_submit(user=carol, name="赵洪亮", id_number=id_number(22))
    assert record.status == "pending"  # waits for staff, with the reason in its history
    assert record.user.realname.status == "pending"
