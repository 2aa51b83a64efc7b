"""Restarting the database under an open subscription loses nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from incident_service.embedded import EmbeddedMongo
from tests.conftest import service_env
from tests.support.api import INCIDENT_EVENTS, add_note, declare
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess, start_database
from tests.support.websocket import WsClient


def _wait_ready(proc: ServiceProcess, ready: bool, timeout: float = 120.0) -> Any:
    """The /readyz body once it says `ready` (200) or not (503)."""
    body: Any = None

    def answer() -> Any:
        nonlocal body
        response = httpx.get(f"{proc.url}/readyz", timeout=10)
        body = response.json()
        return body if (response.status_code == 200) == ready else None

    return wait_for(
        answer,
        timeout,
        ignoring=(httpx.HTTPError,),
        message=lambda: f"readyz never became ready={ready}: {body}",
    )


def test_subscription_survives_a_database_restart(tmp_path: Path) -> None:
    db = start_database(tmp_path / "db")
    proc = ServiceProcess(
        service_env(db.uri, f"test_restart_{uuid.uuid4().hex[:8]}"),
        log_path=tmp_path / "service.log",
    )
    try:
        proc.start()
        gql = GraphQLClient(proc.url)
        incident = declare(gql, "Survives a restart")
        with WsClient.initialised(proc.ws_url) as client:
            client.subscribe("e", INCIDENT_EVENTS, {"id": incident["id"]})
            assert client.next_data("e")["incidentEvents"]["seq"] == 1
            add_note(gql, incident["id"], "before")
            assert client.next_data("e")["incidentEvents"]["message"] == "before"

            db.stop()
            down = _wait_ready(proc, ready=False)
            assert down["checks"]["database"] is False
            db = EmbeddedMongo(db.data_dir, port=db.port)
            db.start(timeout=60)

            def noted() -> bool:
                add_note(gql, incident["id"], "after 0")
                return True

            # Written as soon as the database answers, most likely before the
            # change stream has reopened: only its resume token brings these.
            # Retried: the connection pool may need a moment to find the database again.
            wait_for(noted, timeout=120, ignoring=(AssertionError, httpx.HTTPError))
            up = _wait_ready(proc, ready=True)
            assert up["checks"]["changeStream"] is True
            for n in range(1, 5):
                add_note(gql, incident["id"], f"after {n}")
            events = [client.next_data("e")["incidentEvents"] for _ in range(5)]
            assert [e["seq"] for e in events] == [3, 4, 5, 6, 7]
            assert [e["message"] for e in events] == [f"after {n}" for n in range(5)]
    finally:
        proc.stop()
        db.stop()
