"""A chat webhook on 127.0.0.1 that records what it is sent (stdlib only), for the alert tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer


class Webhook(HTTPServer):
    received: list[tuple[dict[str, str], dict]]
    """(headers, JSON body) of every POST, in order."""
    status: int
    """The HTTP status it answers with (set it to make the webhook refuse)."""

    @property
    def url(self) -> str:
        """A URL whose path is a token, as chat webhooks' are (the path must never reach a log)."""
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/secret-token"

    @property
    def payloads(self) -> list[dict]:
        return [body for _, body in self.received]


class _Handler(BaseHTTPRequestHandler):
    server: Webhook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
        pass


@contextmanager
def serve_webhook() -> Iterator[Webhook]:
    server = Webhook(("127.0.0.1", 0), _Handler)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
