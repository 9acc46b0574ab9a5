"""A paged JSON API on 127.0.0.1 that misbehaves on demand, for the HTTP connector tests (stdlib only).

Shaped like a Stripe-style billing API: `/v1/invoices` pages by opaque cursor (`next_cursor`), `/v1/customers`
by offset and limit (`total`); both take `since` (records with last_modified >= since) and require
`Authorization: Bearer <token>`. Faults are queued per path and consumed one per request, so a test says
exactly which request misbehaves: `api.fail("/v1/invoices", None, "429", "500")` serves the first request
normally, answers the second with 429 and the third with 500, then behaves. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE_SIZE = 2
SLOW_SECONDS = 1.0
"""How long a `slow` fault stalls before answering: tests set the client timeout well below it."""

Fault = str | None
"""None (behave), "429" (with Retry-After: 1), "500", "slow" (stall, then answer), "truncated" (a complete
response whose JSON is cut in half), "dropped" (the connection closes halfway through the announced body)."""


@dataclass
class Request:
    path: str
    query: dict[str, str]
    status: int | None = None
    """None until answered (a stalled request is recorded when it arrives)."""


@dataclass
class FakeApi:
    token: str
    invoices: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    always_500: bool = False
    base_url: str = ""

    def fail(self, path: str, *faults: Fault) -> None:
        self.faults.setdefault(path, []).extend(faults)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _next_fault(self, path: str) -> Fault:
        queue = self.faults.get(path) or []
        return queue.pop(0) if queue else None


def _page(api: FakeApi, path: str, query: dict[str, str]) -> dict | None:
    records = {"/v1/invoices": api.invoices, "/v1/customers": api.customers}.get(path)
    if records is None:
        return None
    since = query.get("since")
    selected = sorted(
        (r for r in records if since is None or r["last_modified"] >= since),
        key=lambda r: (r["last_modified"], next(iter(r.values()))),
    )
    if path == "/v1/invoices":
        start = int(query.get("cursor", "0") or 0)
        page = selected[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(selected)
        return {"data": page, "next_cursor": str(start + PAGE_SIZE) if more else None}
    offset, limit = int(query.get("offset", "0")), int(query.get("limit", str(PAGE_SIZE)))
    return {"data": selected[offset : offset + limit], "total": len(selected)}


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def _send(
            self, status: int, body: bytes, headers: dict[str, str] | None = None, announced: int | None = None
        ) -> None:
            self._request.status = status
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if announced is None else announced))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
                pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            self._path = url.path
            self._query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            self._request = Request(self._path, self._query)
            api.requests.append(self._request)
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                self._send(401, b'{"error": "invalid token"}')
                return
            if api.always_500:
                self._send(500, b'{"error": "internal"}')
                return
            fault = api._next_fault(url.path)
            if fault == "429":
                self._send(429, b'{"error": "rate limited"}', {"Retry-After": "1"})
                return
            if fault == "500":
                self._send(500, b'{"error": "internal"}')
                return
            if fault == "slow":
                time.sleep(SLOW_SECONDS)
            page = _page(api, url.path, self._query)
            if page is None:
                self._send(404, b'{"error": "not found"}')
                return
            body = json.dumps(page).encode()
            if fault == "truncated":
                body = body[: len(body) // 2]
            if fault == "dropped":
                self._send(200, body[: len(body) // 2], announced=len(body))
                self.close_connection = True
                return
            self._send(200, body)

    return Handler


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    """Serve `api` on a free loopback port in a daemon thread; shut down on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
