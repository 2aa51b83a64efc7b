"""Soak: mixed load for a long time, the database restarted under it; nothing lost.

Not part of `make test` (marked `soak`, deselected by default). Run it with

    .venv/bin/pytest -m soak tests/soak -s                 # 30 minutes, 1,000 subscribers
    SOAK_MINUTES=3 SOAK_SUBSCRIBERS=200 .venv/bin/pytest -m soak tests/soak -s

One service on an embedded database. SOAK_SUBSCRIBERS websockets follow the
timeline of one of SOAK_INCIDENTS incidents each (`incidentEvents`); writers
add notes and updates, readers read incidents and lists, and the database is
stopped and started again every SOAK_RESTART_SECONDS. At the end every
subscriber must have received every event of its incident exactly once, in
order (a subscriber whose socket closed resumes with `afterSeq`), no request
may have failed except while the database was down, and the service's memory
after the last restart must be within SOAK_MEMORY_GROWTH of what it was after
the first minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from incident_service.embedded import EmbeddedMongo
from tests.conftest import service_env
from tests.support.api import ADD_NOTE, DECLARE, INCIDENT_EVENTS, POST_UPDATE
from tests.support.processes import ADMIN_KEY, ServiceProcess, start_database

MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
SUBSCRIBERS = int(os.environ.get("SOAK_SUBSCRIBERS", "1000"))
INCIDENTS = int(os.environ.get("SOAK_INCIDENTS", "20"))
RESTART_SECONDS = float(os.environ.get("SOAK_RESTART_SECONDS", "300"))
WRITES_PER_SECOND = float(os.environ.get("SOAK_WRITES_PER_SECOND", "5"))
READS_PER_SECOND = float(os.environ.get("SOAK_READS_PER_SECOND", "20"))
MEMORY_GROWTH = float(os.environ.get("SOAK_MEMORY_GROWTH", "1.25"))
AUTH = {"authorization": f"Bearer {ADMIN_KEY}"}

pytestmark = pytest.mark.soak


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Subscriber:
    """One websocket following one incident's timeline, resuming after a close."""

    def __init__(self, url: str, incident_id: str) -> None:
        self.url = url
        self.incident_id = incident_id
        self.seqs: list[int] = []
        self.reconnects = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._follow(stop)
            except (TimeoutError, OSError, websockets.ConnectionClosed):
                self.reconnects += 1
                await asyncio.sleep(random.uniform(0.5, 2.0))

    async def _follow(self, stop: asyncio.Event) -> None:
        async with websockets.connect(
            self.url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
            while json.loads(await ws.recv())["type"] != "connection_ack":
                pass
            variables: dict[str, Any] = {"id": self.incident_id}
            if self.seqs:
                variables["after"] = self.seqs[-1]
            payload = {"query": INCIDENT_EVENTS, "variables": variables}
            await ws.send(json.dumps({"id": "e", "type": "subscribe", "payload": payload}))
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                except TimeoutError:
                    continue
                if message.get("type") == "next":
                    self.seqs.append(message["payload"]["data"]["incidentEvents"]["seq"])
                elif message.get("type") in ("error", "complete"):
                    raise websockets.ConnectionClosed(None, None)


class Load:
    def __init__(self, url: str) -> None:
        self.url = f"{url}/graphql"
        self.failed_up = 0
        self.failed_down = 0
        self.done = 0
        self.database_up = True

    async def call(self, http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> None:
        try:
            answer = await http.post(self.url, json={"query": query, "variables": variables})
            ok = answer.status_code == 200 and not answer.json().get("errors")
        except httpx.HTTPError:
            ok = False
        if ok:
            self.done += 1
        elif self.database_up:
            self.failed_up += 1
        else:
            self.failed_down += 1

    async def paced(self, rate: float, stop: asyncio.Event, step: Any) -> None:
        async with httpx.AsyncClient(headers=AUTH, timeout=60) as http:
            n = 0
            start = time.monotonic()
            while not stop.is_set():
                await step(http, n)
                n += 1
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))


async def soak(proc: ServiceProcess, db: EmbeddedMongo, tmp: Path) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=AUTH, timeout=60) as http:
        ids = []
        for n in range(INCIDENTS):
            answer = await http.post(
                f"{proc.url}/graphql",
                json={"query": DECLARE, "variables": {"input": {"title": f"soak {n}"}}},
            )
            ids.append(answer.json()["data"]["declareIncident"]["incident"]["id"])
    stop = asyncio.Event()
    subscribers = [Subscriber(proc.ws_url, ids[n % INCIDENTS]) for n in range(SUBSCRIBERS)]
    tasks = [asyncio.create_task(s.run(stop)) for s in subscribers]
    load = Load(proc.url)

    async def write(http: httpx.AsyncClient, n: int) -> None:
        incident = random.choice(ids)
        if n % 5:
            await load.call(http, ADD_NOTE, {"input": {"id": incident, "body": f"note {n}"}})
        else:
            body = {"id": incident, "body": f"update {n}", "visibility": "INTERNAL"}
            await load.call(http, POST_UPDATE, {"input": body})

    async def read(http: httpx.AsyncClient, n: int) -> None:
        query = "query($id: ID) { incident(id: $id) { id version lastEventAt: updatedAt } }"
        if n % 4 == 0:
            query = "query { incidents(first: 20) { totalCount edges { node { id } } } }"
        await load.call(http, query, {"id": random.choice(ids)})

    writers = asyncio.create_task(load.paced(WRITES_PER_SECOND, stop, write))
    readers = asyncio.create_task(load.paced(READS_PER_SECOND, stop, read))
    assert proc.process is not None
    memory: list[tuple[float, int]] = []
    started = time.monotonic()
    next_restart = started + RESTART_SECONDS
    restarts = 0
    while time.monotonic() - started < MINUTES * 60:
        await asyncio.sleep(5)
        memory.append((time.monotonic() - started, rss_kib(proc.process.pid)))
        if time.monotonic() >= next_restart:
            load.database_up = False
            await asyncio.to_thread(db.stop)
            await asyncio.sleep(3)
            await asyncio.to_thread(db.start, 60)
            restarts += 1
            await asyncio.sleep(20)  # the pool and the change stream find it again
            load.database_up = True
            next_restart = time.monotonic() + RESTART_SECONDS
    stop.set()
    await asyncio.gather(writers, readers)
    await asyncio.sleep(15)  # the last events reach every subscriber
    await asyncio.gather(*tasks, return_exceptions=True)

    async with httpx.AsyncClient(headers=AUTH, timeout=60) as http:
        last = {}
        for incident in ids:
            answer = await http.post(
                f"{proc.url}/graphql",
                json={
                    "query": "query($id: ID) { incident(id: $id) { timeline(first: 1) "
                    "{ totalCount } } }",
                    "variables": {"id": incident},
                },
            )
            last[incident] = answer.json()["data"]["incident"]["timeline"]["totalCount"]
    wrong = [s for s in subscribers if s.seqs != list(range(1, last[s.incident_id] + 1))]
    return {
        "subscribers": len(subscribers),
        "wrong": len(wrong),
        "example": (wrong[0].seqs[-5:], last[wrong[0].incident_id]) if wrong else None,
        "reconnects": sum(s.reconnects for s in subscribers),
        "requests": load.done,
        "failed_while_up": load.failed_up,
        "failed_while_down": load.failed_down,
        "restarts": restarts,
        "memory": memory,
    }


def test_soak(tmp_path: Path) -> None:
    db = start_database(tmp_path / "db")
    env = service_env(db.uri, f"soak_{uuid.uuid4().hex[:8]}", WS_MAX_CONNECTIONS_PER_IP="100000")
    proc = ServiceProcess(env, log_path=tmp_path / "service.log").start()
    try:
        result = asyncio.run(soak(proc, db, tmp_path))
    finally:
        proc.stop()
        db.stop()
    memory = result.pop("memory")
    print(json.dumps(result, indent=2))
    print(
        "rss KiB over time:", [(round(t), kib) for t, kib in memory[:: max(1, len(memory) // 20)]]
    )
    assert result["wrong"] == 0, result
    assert result["failed_while_up"] == 0, result
    after_first_minute = next(kib for t, kib in memory if t >= 60)
    assert memory[-1][1] <= after_first_minute * MEMORY_GROWTH, memory
