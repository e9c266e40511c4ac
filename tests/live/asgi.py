"""A small ASGI client for the stream tests: drives ``gigmarket.asgi.application`` in this process's event
loop (no server), reads the body as it streams, and hangs up like a browser closing the tab."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class Response:
    def __init__(self, app, path: str, headers: dict[str, str]):
        parts = urlsplit(path)
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.hangup = asyncio.Event()
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.buffer = b""
        self.ended = False
        self._started = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(app(self.scope, self._receive, self._send))

    async def _receive(self):
        await self.hangup.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self._started.set()
        elif message["type"] == "http.response.body":
            self.buffer += message.get("body", b"")
            if not message.get("more_body"):
                self.ended = True
            await self.incoming.put(None)

    async def started(self, timeout: float = 10) -> Response:
        await asyncio.wait_for(self._started.wait(), timeout)
        return self

    async def wait_for(self, text: str, timeout: float = 10) -> str:
        """The body so far once it holds ``text`` (TimeoutError otherwise)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.buffer.decode():
            if self.ended:
                raise AssertionError(f"stream ended without {text!r}: {self.buffer.decode()!r}")
            await asyncio.wait_for(self.incoming.get(), max(0.01, deadline - loop.time()))
        return self.buffer.decode()

    async def ended_within(self, timeout: float = 10) -> str:
        await asyncio.wait_for(self.task, timeout)
        return self.buffer.decode()

    def json(self) -> dict:
        return json.loads(self.buffer)

    def events(self) -> list[tuple[str | None, str, dict]]:
        """(id, event name, data) of every complete event so far."""
        out = []
        for block in self.buffer.decode().split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":")
            )
            if "data" in fields:
                out.append((fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])))
        return out

    async def close(self) -> None:
        self.hangup.set()
        await asyncio.wait_for(self.task, 10)


def request(path: str, *, session: str | None = None, headers: dict | None = None) -> Response:
    from gigmarket.asgi import application

    all_headers = dict(headers or {})
    if session:
        all_headers["cookie"] = f"sessionid={session}"
    return Response(application, path, all_headers)
