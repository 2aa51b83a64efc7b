"""A real HTTP receiver of webhooks, on loopback, in a thread: it records what arrived and
answers as told (a status per path, a hang, a huge body, a Retry-After)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The payload, after the reference Standard Webhooks library checked the signature
        (it raises if it does not verify)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Behaviour:
    """How a path answers; `statuses` are used in turn, the last one repeating."""

    statuses: list[int] = field(default_factory=lambda: [200])
    hang_seconds: float = 0.0
    body_bytes: int = 0
    retry_after: str | None = None
    calls: int = 0


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviours: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str, **behaviour: Any) -> None:
        self.behaviours[path] = Behaviour(**behaviour)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                behaviour = receiver.behaviours.get(self.path, Behaviour())
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    status = behaviour.statuses[min(behaviour.calls, len(behaviour.statuses) - 1)]
                    behaviour.calls += 1
                if behaviour.hang_seconds:
                    time.sleep(behaviour.hang_seconds)
                self.send_response(status)
                if behaviour.retry_after is not None:
                    self.send_header("Retry-After", behaviour.retry_after)
                self.send_header("Content-Length", str(behaviour.body_bytes))
                self.end_headers()
                chunk = b"x" * 65536
                remaining = behaviour.body_bytes
                try:
                    while remaining > 0:
                        self.wfile.write(chunk[: min(remaining, len(chunk))])
                        remaining -= len(chunk)
                except OSError:
                    pass  # the sender stopped reading, as it should

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
