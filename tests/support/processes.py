"""Real processes for tests: the embedded database and the service, on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from incident_service.embedded import EmbeddedMongo, free_port
from tests.support.polling import wait_for

ADMIN_KEY = "test-admin-key-0123456789"
SERVICE_BIN = str(Path(sys.executable).parent / "incident-service")


def start_database(data_dir: Path) -> EmbeddedMongo:
    db = EmbeddedMongo(data_dir)
    db.start(timeout=60)
    return db


@dataclass
class ServiceProcess:
    """One `incident-service serve` child process."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        env = {**os.environ, **self.env}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = process = subprocess.Popen(
            [SERVICE_BIN, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"service exited with {process.returncode}: {self.log()}")
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200

        try:
            # Refused connections are expected until uvicorn listens.
            wait_for(ready, timeout, interval=0.1, ignoring=(httpx.HTTPError,))
        except AssertionError:
            self.stop()
            raise RuntimeError(f"service not ready within {timeout}s: {self.log()}") from None
        return self

    def log(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-4000:]
        return "(no log)"

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


GRAPHQL_RESPONSE = "application/graphql-response+json"


class GraphQLClient:
    """Minimal HTTP GraphQL client for tests: returns the decoded JSON body."""

    def __init__(self, url: str, key: str | None = ADMIN_KEY) -> None:
        self.url = f"{url}/graphql"
        self.key = key
        # The media type of GraphQL over HTTP: request errors answer 4xx (with
        # application/json, or no Accept, they would answer 200).
        self.http = httpx.Client(timeout=30, headers={"accept": GRAPHQL_RESPONSE})

    def headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | bool | None = True,
        **kw: Any,
    ) -> httpx.Response:
        use_key = self.key if key is True else (None if key is False else key)
        return self.http.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers=self.headers(use_key),
            **kw,
        )  # type: ignore[arg-type]

    def __call__(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Run an operation that must succeed at the GraphQL level; return `data`."""
        response = self.post(query, variables, **kw)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]
