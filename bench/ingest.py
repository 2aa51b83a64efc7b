"""Alert intake benchmark: trigger storms against ONE service process, beside a raw
PyMongo upsert of the same documents on the same database in the same run.

    .venv/bin/python bench/ingest.py                       # 1,000 new, 10,000 over 100
    .venv/bin/python bench/ingest.py --new 2000 --repeats 20000 --concurrency 64

Storm (a): every event a new fingerprint (a new alert, and its incident). Storm (b):
`--repeats` events over `--fingerprints` keys, the common case in a real storm; its
first event per key (new) is sent untimed, the repeats after it are timed. Both
go through `POST /integrations/events/v2/enqueue`. The baseline is one
`update_one(..., upsert=True)` per event from the same number of concurrent tasks,
into a collection of its own. The run checks that storm (b) ends with exactly
`--fingerprints` alerts and as many incidents, and that no answer was a 5xx; it
exits non-zero otherwise. Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from incident_service.embedded import EmbeddedMongo, free_port

BIN = Path(sys.executable).parent
ADMIN_KEY = "bench-admin-key-0123456789"
DATABASE = "bench_ingest"


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    latencies: list[float]
    server_errors: int = 0

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def row(self) -> str:
        return (
            f"| {self.name} | {self.events:,} | {self.rate:,.0f} | "
            f"{statistics.median(self.latencies) * 1000:.1f} | {self.percentile(0.99):.1f} | "
            f"{self.server_errors} |"
        )


async def storm(
    name: str, keys: list[str], send: Callable[[str], Awaitable[int]], concurrency: int
) -> Result:
    """Send one event per key from `concurrency` tasks; time each."""
    latencies: list[float] = []
    errors = 0
    queue = iter(keys)

    async def worker() -> None:
        nonlocal errors
        for key in queue:
            start = time.perf_counter()
            status = await send(key)
            latencies.append(time.perf_counter() - start)
            errors += status >= 500

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, len(keys), time.perf_counter() - start, latencies, errors)


def event(routing_key: str, dedup_key: str) -> dict[str, Any]:
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": f"Latency high on {dedup_key}",
            "source": "bench",
            "severity": "warning",
            "custom_details": {"p99": "2.5s"},
        },
    }


def upsert_doc(dedup_key: str) -> dict[str, Any]:
    """The baseline's write: the alert's fields, folded by the same key."""
    now = datetime.now(UTC)
    return {
        "$inc": {"count": 1},
        "$max": {"lastSeenAt": now},
        "$setOnInsert": {
            "status": "TRIGGERED",
            "summary": f"Latency high on {dedup_key}",
            "source": "bench",
            "severity": "WARNING",
            "details": '{"p99": "2.5s"}',
            "firstSeenAt": now,
        },
    }


async def run(args: argparse.Namespace, uri: str, url: str) -> int:
    async with httpx.AsyncClient(timeout=60) as http:
        graphql = await http.post(
            f"{url}/graphql",
            headers={"authorization": f"Bearer {ADMIN_KEY}"},
            json={
                "query": "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i)"
                " { integration { id } routingKey } }",
                "variables": {"i": {"name": f"bench-{uuid.uuid4().hex[:6]}", "kind": "EVENTS_V2"}},
            },
        )
        created = graphql.json()["data"]["createIntegration"]
        routing_key, integration_id = created["routingKey"], created["integration"]["id"]

        async def send(key: str) -> int:
            answer = await http.post(
                f"{url}/integrations/events/v2/enqueue", json=event(routing_key, key)
            )
            return answer.status_code

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        raw = client[DATABASE]["raw_alerts"]
        await raw.create_index([("integrationId", 1), ("dedupKey", 1)], unique=True)

        async def upsert(key: str) -> int:
            await raw.update_one(
                {"integrationId": "raw", "dedupKey": key}, upsert_doc(key), upsert=True
            )
            return 200

        new_keys = [f"new-{i}" for i in range(args.new)]
        storm_keys = [f"rep-{i % args.fingerprints}" for i in range(args.repeats)]
        # The storm's first event of each fingerprint is new; the rest, timed, repeat it.
        first, repeats = storm_keys[: args.fingerprints], storm_keys[args.fingerprints :]
        c = args.concurrency
        results = [
            await storm("(a) new fingerprints: service", new_keys, send, c),
            await storm("(a) new fingerprints: raw upsert", new_keys, upsert, c),
        ]
        await storm("warm-up", first, send, c)
        await storm("warm-up", first, upsert, c)
        name = f"(b) repeats, {args.repeats:,} over {args.fingerprints}"
        results += [
            await storm(f"{name}: service", repeats, send, c),
            await storm(f"{name}: raw upsert", repeats, upsert, c),
        ]
        db = client[DATABASE]
        alerts = await db["alerts"].count_documents(
            {"integrationId": integration_id, "dedupKey": {"$regex": "^rep-"}}
        )
        incidents = len(
            await db["alerts"].distinct(
                "incidentId", {"integrationId": integration_id, "dedupKey": {"$regex": "^rep-"}}
            )
        )
        await client.close()

    print("| storm | events | events/s | p50 ms | p99 ms | 5xx |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(r.row())
    print()
    print(f"new fingerprints: service / raw upsert = {results[0].rate / results[1].rate:.2f}x")
    print(f"repeats: service / raw upsert = {results[2].rate / results[3].rate:.2f}x")
    print(f"storm (b) ended with {alerts} alerts and {incidents} incidents")
    ok = alerts == incidents == args.fingerprints and not any(r.server_errors for r in results)
    print("OK" if ok else "FAILED: wrong alert/incident count or 5xx answers")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=int, default=1000, help="events of storm (a)")
    parser.add_argument("--repeats", type=int, default=10_000, help="events of storm (b)")
    parser.add_argument("--fingerprints", type=int, default=100, help="keys of storm (b)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = EmbeddedMongo(Path(tmp) / "db")
        db.start(timeout=60)
        port = free_port()
        env = {
            **os.environ,
            "MONGODB_URI": db.uri,
            "MONGODB_DATABASE": DATABASE,
            "ADMIN_API_KEY": ADMIN_KEY,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_KEY": "",
            "RATE_LIMIT_PER_IP": "",
            "INTEGRATION_RATE_LIMIT": "",
        }
        service = subprocess.Popen(
            [str(BIN / "incident-service"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the service did not become ready")
                time.sleep(0.2)
            return asyncio.run(run(args, db.uri, url))
        finally:
            service.terminate()
            service.wait(30)
            db.stop()


if __name__ == "__main__":
    sys.exit(main())
