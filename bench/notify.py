"""Webhook delivery benchmark: 1,000 changes x 10 endpoints on ONE service process, a local
receiver, and the GraphQL path measured beside the dispatcher in the same run.

    .venv/bin/python bench/notify.py                          # 1,000 changes x 10 endpoints
    .venv/bin/python bench/notify.py --changes 200 --endpoints 5

It starts an embedded database, a receiver (this script in `--receive` mode: a
raw asyncio HTTP/1.1 server on loopback that answers every POST 200 and
records the arrival time of each request) and one `incident-service serve`.

(a) Deliveries: 10 endpoints subscribe to `incident.update_posted`; `--writers`
clients post 1,000 INTERNAL updates (`postUpdate`, each writer on an incident of
its own) as fast as they are answered, while `--readers` clients run
`incident(id)` queries. Every delivery is checked (signature, exactly one
`webhook-id` per (change, endpoint), nothing missing or extra); the run exits
1 otherwise. Lag is the arrival time minus the message's `timestamp` (the
change's time, taken in its transaction just before the commit), and also
minus the time the client got the mutation's answer.

Baseline for delivery: the same 10,000 requests (bodies from (a), signed again
per request) sent straight to the receiver with the service's own HTTP client
(jobs/transport.py) from as many tasks as the worker runs deliveries at once.

GraphQL path, with and without deliveries, in rounds (with, without,
without, with; `--rounds` times) so that a drift of the machine weighs on
both sides: at saturation (`--round-changes` changes as fast as answered, with
the reads; throughput until the last change is answered) and at a steady load
(`--paced-reads` reads/s and `--paced-changes` changes/s for `--paced-seconds`;
latency). "Without" keeps the endpoints but subscribes them to an event the
changes never cause: the outbox and its fan-out jobs run the same, nothing is
sent. Each round's deliveries arrive (checked) before the next round starts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from incident_service.domain import webhooks as domain
from incident_service.embedded import EmbeddedMongo, free_port
from incident_service.jobs.transport import WebhookClient

BIN = Path(sys.executable).parent
ADMIN_KEY = "bench-admin-key-0123456789"
DATABASE = "bench_notify"
EVENT = "incident.update_posted"

DECLARE = """mutation($i: DeclareIncidentInput!) {
  declareIncident(input: $i) { incident { id } userErrors { message } } }"""
POST_UPDATE = """mutation($i: PostUpdateInput!) {
  postUpdate(input: $i) { incident { version } userErrors { message } } }"""
READ = "query($id: ID!) { incident(id: $id) { id key title status priority version updatedAt } }"
CREATE_ENDPOINT = """mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { endpoint { id } secret userErrors { message } } }"""
UPDATE_ENDPOINT = """mutation($i: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $i) { userErrors { message } } }"""
#: An event the bench's changes never cause: endpoints on it receive nothing.
IDLE_EVENT = "incident.resolved"
#: How long the service may answer a fan-out from endpoints it read before (seconds).
ENDPOINT_CACHE_SECONDS = 1.5


# --- the receiver (a child process) ---------------------------------------------------

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


def reply_json(value: Any) -> bytes:
    body = json.dumps(value).encode()
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def receive(port: int) -> None:
    """Answer every POST 200 at once and keep (path, headers, body, arrival) in memory;
    `GET /count` says how many arrived, `GET /dump` hands them over and forgets them."""
    records: list[tuple[str, dict[str, str], str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                arrived = time.time()
                if method == "POST":
                    records.append((path, headers, body.decode(), arrived))
                    writer.write(OK)
                elif path == "/count":
                    writer.write(reply_json(len(records)))
                elif path == "/dump":
                    writer.write(reply_json(records))
                    records.clear()
                else:
                    writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


# --- measuring ------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


@dataclass
class Load:
    """What the GraphQL clients did in one phase; times in seconds from its start."""

    reads: list[tuple[float, float]] = field(default_factory=list)  # (answered, latency)
    writes: list[float] = field(default_factory=list)  # latencies
    write_seconds: float = 0.0
    seconds: float = 0.0
    errors: int = 0
    #: Delivery jobs the service ran meanwhile (see `delivery_jobs`).
    delivery_jobs: float = 0.0

    def reads_between(self, start: float, end: float) -> list[float]:
        return [latency for at, latency in self.reads if start <= at < end]


class Api:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = await self.http.post(
            f"{self.url}/graphql",
            headers={"authorization": f"Bearer {ADMIN_KEY}"},
            json={"query": query, "variables": variables},
        )
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL failed ({answer.status_code}): {body}")
        data: dict[str, Any] = body["data"]
        return data


async def drive(
    api: Api,
    *,
    readers: int,
    read_id: str,
    writer_ids: list[str],
    changes: int,
    tag: str,
    until: Any,
    pace: tuple[float, float] | None = None,
) -> tuple[Load, dict[str, float]]:
    """`readers` clients read until `until()` is true (checked every 0.1 s), while one
    client per incident of `writer_ids` posts `changes` updates in all; returns the
    load and, per update body, when its mutation was answered (time.time()).

    As fast as they are answered, or with `pace` (reads/s, changes/s) at those
    rates in all: each request starts at its turn, or at once if it is late."""
    load = Load()
    answered: dict[str, float] = {}
    stop = asyncio.Event()
    bodies = iter(f"{tag}-{n}" for n in range(changes))
    turns = (itertools.count(), itertools.count())

    async def wait_turn(kind: int) -> None:
        if pace is not None:
            due = started + next(turns[kind]) / pace[kind]
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    async def reader() -> None:
        while not stop.is_set():
            await wait_turn(0)
            start = time.perf_counter()
            try:
                await api(READ, id=read_id)
            except Exception:
                load.errors += 1
            end = time.perf_counter()
            load.reads.append((end - started, end - start))

    async def writer(incident_id: str) -> None:
        for body in bodies:
            await wait_turn(1)
            start = time.perf_counter()
            try:
                result = await api(POST_UPDATE, i={"id": incident_id, "body": body})
                if result["postUpdate"]["userErrors"]:
                    raise RuntimeError(result["postUpdate"]["userErrors"])
            except Exception as exc:
                print(f"postUpdate failed: {exc}", file=sys.stderr)
                load.errors += 1
                continue
            answered[body] = time.time()
            load.writes.append(time.perf_counter() - start)

    started = time.perf_counter()
    read_tasks = [asyncio.create_task(reader()) for _ in range(readers)]
    writes = asyncio.gather(*(writer(i) for i in writer_ids))
    await writes
    load.write_seconds = time.perf_counter() - started
    while not await until(time.perf_counter() - started):
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*read_tasks)
    load.seconds = time.perf_counter() - started
    return load, answered


def verify(secret: str, headers: dict[str, str], body: str) -> bool:
    key = base64.b64decode(secret.removeprefix(domain.SECRET_PREFIX))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.removeprefix("v1,") for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, s) for s in given)


@dataclass
class Check:
    delivered: int = 0
    duplicates: int = 0
    missing: int = 0
    extra: int = 0
    bad_signatures: int = 0
    split_ids: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.bad_signatures or self.split_ids)


def check(
    records: list[list[Any]], secrets: dict[str, str], tags: set[str]
) -> tuple[Check, dict[tuple[str, str], tuple[float, float]]]:
    """Every (change, endpoint) exactly once under one `webhook-id` (repeats of the same
    id are allowed and counted); returns, per (tag, path), (message time, first arrival)."""
    result = Check()
    first: dict[tuple[str, str], tuple[float, float]] = {}
    ids: dict[str, set[str]] = defaultdict(set)
    seen: Counter[tuple[str, str]] = Counter()
    for path, headers, body, arrived in records:
        if path not in secrets:
            result.extra += 1
            continue
        if not verify(secrets[path], headers, body):
            result.bad_signatures += 1
            continue
        payload = json.loads(body)
        tag = payload["data"]["update"]["body"]
        if tag not in tags:
            result.extra += 1
            continue
        ids[tag].add(headers["webhook-id"])
        seen[(tag, path)] += 1
        at = datetime.fromisoformat(payload["timestamp"]).timestamp()
        if (tag, path) not in first or arrived < first[(tag, path)][1]:
            first[(tag, path)] = (at, arrived)
    result.delivered = len(first)
    result.duplicates = sum(n - 1 for n in seen.values())
    result.missing = len(tags) * len(secrets) - len(first)
    result.split_ids = sum(len(v) > 1 for v in ids.values())
    return result, first


async def baseline(
    records: list[list[Any]], url: str, secrets: dict[str, str], concurrency: int
) -> tuple[float, int]:
    """The same requests, signed again each, straight from the service's HTTP client."""
    client = WebhookClient(allow_private=True, timeout=30)
    queue = iter(records)
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for path, headers, body, _ in queue:
            raw = body.encode()
            signed = domain.headers((secrets[path],), headers["webhook-id"], int(time.time()), raw)
            response = await client.post(f"{url}/baseline{path}", signed, raw, endpoint=path)
            failed += response.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    await client.close()
    return seconds, failed


async def run(args: argparse.Namespace, url: str, receiver: str, uri: str, name: str) -> int:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        return await measure(args, url, receiver, client[name])
    finally:
        await client.close()


@dataclass
class Comparison:
    """Rounds with deliveries against rounds without, pooled."""

    on: list[Load] = field(default_factory=list)
    off: list[Load] = field(default_factory=list)

    def side(self, deliveries: bool) -> list[Load]:
        return self.on if deliveries else self.off

    def reads(self, deliveries: bool) -> list[float]:
        loads = self.side(deliveries)
        return [r for load in loads for r in load.reads_between(0, load.write_seconds)]

    def writes(self, deliveries: bool) -> list[float]:
        return [w for load in self.side(deliveries) for w in load.writes]

    def seconds(self, deliveries: bool) -> float:
        return sum(load.write_seconds for load in self.side(deliveries))

    def errors(self) -> int:
        return sum(load.errors for load in self.on + self.off)


#: With, without, without, with: a drift of the machine during the run weighs on both.
ORDER = (True, False, False, True)


async def measure(args: argparse.Namespace, url: str, receiver: str, database: Any) -> int:
    async with httpx.AsyncClient(
        timeout=120, limits=httpx.Limits(max_connections=args.readers + args.writers + 4)
    ) as http:
        api = Api(http, url)

        async def count() -> int:
            return int((await http.get(f"{receiver}/count")).json())

        async def dump() -> list[list[Any]]:
            data: list[list[Any]] = (await http.get(f"{receiver}/dump")).json()
            return data

        async def delivery_jobs() -> float:
            """Delivery jobs run so far: deliveries that took the slow path (a retry, or an
            endpoint sidelined after a failed or slow first attempt)."""
            text = (await http.get(f"{url}/metrics")).text
            return sum(
                sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "incident_service_jobs_run_total"
                and sample.labels.get("kind") == "webhook"
            )

        async def declare(title: str) -> str:
            result = await api(DECLARE, i={"title": title})
            return str(result["declareIncident"]["incident"]["id"])

        read_id = await declare("bench: the incident that is read")
        writer_ids = [await declare(f"bench: written {n}") for n in range(args.writers)]
        common = {"readers": args.readers, "read_id": read_id, "writer_ids": writer_ids}

        async def never(_: float) -> bool:
            return True

        # Warm-up: the same traffic, untimed, without endpoints.
        await drive(api, **common, changes=100, tag="warm", until=never)
        # The warm-up's messages fan out when their job runs: wait until they have, or
        # the endpoints created next would receive them too.
        # (SLA timers stay pending for hours: only the outbox's own jobs count.)
        outbound = {"status": "PENDING", "kind": {"$in": ["outbox", "webhook"]}}
        while await database["jobs"].count_documents(outbound):
            await asyncio.sleep(0.2)

        secrets: dict[str, str] = {}
        endpoint_ids = []
        for n in range(args.endpoints):
            path = f"/hook/{n}"
            reply = await api(
                CREATE_ENDPOINT, i={"url": f"{receiver}{path}", "eventTypes": [EVENT]}
            )
            created = reply["createWebhookEndpoint"]
            assert not created["userErrors"], created
            secrets[path] = created["secret"]
            endpoint_ids.append(created["endpoint"]["id"])

        expected = args.changes * args.endpoints
        deadline = float(args.timeout)

        async def delivered(elapsed: float) -> bool:
            return await count() >= expected or elapsed > deadline

        # (a) deliveries, with reads and the changes that cause them.
        first_change = time.time()
        dispatch, answered = await drive(
            api, **common, changes=args.changes, tag="a", until=delivered
        )
        await asyncio.sleep(1.0)  # late duplicates, if any
        records = await dump()
        result, first = check(records, secrets, set(answered))

        # Baseline: the same requests straight to the receiver.
        concurrency = min(args.jobs_concurrency, args.endpoints * args.endpoint_concurrency)
        base_seconds, base_failed = await baseline(records, receiver, secrets, concurrency)
        base_arrived = len(await dump())  # and the receiver starts counting again
        arrived = 0

        async def subscribe(deliveries: bool) -> None:
            """Endpoints on EVENT, or on an event the changes never cause (same fan-out
            work, nothing to send); then past the service's endpoint cache."""
            for endpoint_id in endpoint_ids:
                event = EVENT if deliveries else IDLE_EVENT
                await api(UPDATE_ENDPOINT, i={"id": endpoint_id, "eventTypes": [event]})
            await asyncio.sleep(ENDPOINT_CACHE_SECONDS)

        async def settled(tags: set[str], deliveries: bool) -> None:
            """Wait for a round's deliveries (none when off), untimed."""
            nonlocal arrived
            arrived += len(tags) * args.endpoints if deliveries else 0
            waited = time.perf_counter()
            while await count() < arrived and time.perf_counter() - waited < args.timeout:
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)

        on_tags: set[str] = set()
        saturated, steady = Comparison(), Comparison()
        pace = (args.paced_reads, args.paced_changes)
        paced_changes = int(args.paced_changes * args.paced_seconds)
        for n, deliveries in enumerate(ORDER * args.rounds):
            await subscribe(deliveries)
            # At saturation: as fast as answered, until the last change is answered.
            jobs_before = await delivery_jobs()
            load, done = await drive(
                api, **common, changes=args.round_changes, tag=f"s{n}", until=never
            )
            load.delivery_jobs = await delivery_jobs() - jobs_before
            saturated.side(deliveries).append(load)
            on_tags |= set(done) if deliveries else set()
            await settled(set(done), deliveries)
            # At a steady load well below what the machine can take.
            load, done = await drive(
                api, **common, changes=paced_changes, tag=f"p{n}", until=never, pace=pace
            )
            steady.side(deliveries).append(load)
            on_tags |= set(done) if deliveries else set()
            await settled(set(done), deliveries)
        await asyncio.sleep(1.0)  # late duplicates, if any
        rounds_result, _rounds_first = check(await dump(), secrets, on_tags)

    report_delivery(args, result, first, answered, first_change, records, base_seconds,
                    base_arrived, concurrency)  # fmt: skip
    report_graphql(args, saturated, steady)
    print(
        f"checks (rounds): {rounds_result.delivered:,} deliveries of the "
        f"rounds with endpoints, {rounds_result.extra} in the rounds without, "
        f"{rounds_result.missing} missing, {rounds_result.bad_signatures} bad signatures"
    )
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failures = []
    if not result.ok or result.delivered != expected:
        failures.append("deliveries missing, unexpected, unsigned or under split ids")
    if not rounds_result.ok:
        failures.append("deliveries of the rounds missing, unexpected or unsigned")
    if base_failed or base_arrived != len(records):
        failures.append("baseline requests failed")
    if dispatch.errors or saturated.errors() or steady.errors():
        failures.append("GraphQL errors")
    print("OK" if not failures else "FAILED: " + "; ".join(failures))
    return 0 if not failures else 1


def report_delivery(
    args: argparse.Namespace,
    result: Check,
    first: dict[tuple[str, str], tuple[float, float]],
    answered: dict[str, float],
    first_change: float,
    records: list[list[Any]],
    base_seconds: float,
    base_arrived: int,
    concurrency: int,
) -> None:
    arrivals = [arrived for _, arrived in first.values()]
    lag = [arrived - at for at, arrived in first.values()]
    answer_lag = [arrived - answered[tag] for (tag, _), (_, arrived) in first.items()]
    span = max(arrivals) - first_change if arrivals else float("nan")
    rate = result.delivered / span
    base_rate = len(records) / base_seconds
    print(f"### {args.changes:,} changes x {args.endpoints} endpoints")
    print()
    print(
        "| sender | deliveries | seconds | deliveries/s | lag p50 ms | lag p99 ms "
        "| lag max ms | lag from answer p50 / p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| service (worker, {args.jobs_concurrency} jobs, {args.endpoint_concurrency} per "
        f"endpoint) | {result.delivered:,} | {span:.1f} | {rate:,.0f} | "
        f"{percentile(lag, 0.5) * 1000:,.0f} | {percentile(lag, 0.99) * 1000:,.0f} | "
        f"{max(lag) * 1000:,.0f} | {percentile(answer_lag, 0.5) * 1000:,.0f} / "
        f"{percentile(answer_lag, 0.99) * 1000:,.0f} |"
    )
    print(
        f"| baseline (same requests, transport only, {concurrency} tasks) | "
        f"{base_arrived:,} | {base_seconds:.1f} | {base_rate:,.0f} | | | | |"
    )
    print()
    print(f"service / baseline = {rate / base_rate:.2f}x")
    print(
        f"checks: {result.delivered:,} of {args.changes * args.endpoints:,} (change, endpoint) "
        f"pairs delivered, {result.missing} missing, {result.extra} unexpected, "
        f"{result.bad_signatures} bad signatures, {result.split_ids} changes under more than "
        f"one webhook-id, {result.duplicates} repeats of one webhook-id"
    )


def report_graphql(args: argparse.Namespace, saturated: Comparison, steady: Comparison) -> None:
    rounds = len(ORDER) * args.rounds // 2
    print()
    print(
        f"GraphQL with deliveries against without: {rounds} rounds each, in the order "
        f"with, without, without, with; {args.round_changes} changes a round at saturation, "
        f"{args.paced_reads:g} reads/s and {args.paced_changes:g} changes/s "
        f"({args.paced_changes * args.endpoints:g} deliveries/s) for {args.paced_seconds:g} s "
        "a round at a steady load"
    )
    print()
    print(
        "| load | deliveries | seconds | reads | reads/s | read p50 ms | read p99 ms "
        "| changes/s | change p50 ms | change p99 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, comparison in (("saturation", saturated), ("steady", steady)):
        for deliveries in (True, False):
            reads, writes = comparison.reads(deliveries), comparison.writes(deliveries)
            seconds = comparison.seconds(deliveries)
            print(
                f"| {name} | {'with' if deliveries else 'without'} | {seconds:.1f} | "
                f"{len(reads):,} | {len(reads) / seconds:,.0f} | "
                f"{statistics.median(reads) * 1000:.1f} | {percentile(reads, 0.99) * 1000:.1f} | "
                f"{len(writes) / seconds:,.1f} | {statistics.median(writes) * 1000:.0f} | "
                f"{percentile(writes, 0.99) * 1000:.0f} |"
            )
    print()
    # Round by round, in the order run: how much of the spread is the machine's.
    for deliveries in (True, False):
        rounds_seen = [
            f"{len(r.reads_between(0, r.write_seconds)) / r.write_seconds:,.0f} / "
            f"{len(r.writes) / r.write_seconds:,.1f} / {r.delivery_jobs:,.0f}"
            for r in saturated.side(deliveries)
        ]
        side = "with" if deliveries else "without"
        print(
            f"saturation rounds {side} (reads/s / changes/s / delivery jobs run): "
            + "; ".join(rounds_seen)
        )
    print()

    def ratio(values: Any) -> float:
        on, off = values(True), values(False)
        return float(on / off)

    s, p = saturated, steady
    ratios = {
        "saturation: reads/s": ratio(lambda d: len(s.reads(d)) / s.seconds(d)),
        "saturation: changes/s": ratio(lambda d: len(s.writes(d)) / s.seconds(d)),
        "steady: read p50": ratio(lambda d: statistics.median(p.reads(d))),
        "steady: read p99": ratio(lambda d: percentile(p.reads(d), 0.99)),
        "steady: change p50": ratio(lambda d: statistics.median(p.writes(d))),
        "steady: change p99": ratio(lambda d: percentile(p.writes(d), 0.99)),
    }
    print("with / without: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    throughput = 1 - min(ratios["saturation: reads/s"], ratios["saturation: changes/s"])
    latency = max(v for k, v in ratios.items() if k.startswith("steady")) - 1
    verdicts = (("throughput at saturation", throughput), ("latency at a steady load", latency))
    for what, worst in verdicts:
        verdict = "met" if worst <= 0.10 else "MISSED"
        print(f"target (GraphQL at most 10 % worse), {what}: {verdict} ({worst:.0%} at worst)")


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not become ready")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000, help="updates posted")
    parser.add_argument("--endpoints", type=int, default=10, help="webhook endpoints")
    parser.add_argument("--writers", type=int, default=4, help="clients posting updates")
    parser.add_argument("--readers", type=int, default=8, help="clients reading an incident")
    parser.add_argument("--jobs-concurrency", type=int, default=16, help="JOBS_CONCURRENCY")
    parser.add_argument(
        "--endpoint-concurrency", type=int, default=2, help="WEBHOOK_ENDPOINT_CONCURRENCY"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for (a)")
    parser.add_argument("--paced-reads", type=float, default=100, help="reads/s at a steady load")
    parser.add_argument(
        "--paced-changes", type=float, default=10, help="changes/s at a steady load"
    )
    parser.add_argument(
        "--paced-seconds", type=float, default=10, help="seconds of a round at a steady load"
    )
    parser.add_argument(
        "--round-changes", type=int, default=150, help="changes of a round at saturation"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="times the four rounds (with, without x 2) run"
    )
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(receive(args.receive))
        return 0
    # Terminated (timeout, Ctrl-C): still stop the children in the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        db = EmbeddedMongo(Path(tmp) / "db")
        db.start(timeout=60)
        receiver_port, port = free_port(), free_port()
        receiver = subprocess.Popen([sys.executable, __file__, "--receive", str(receiver_port)])
        env = {
            **os.environ,
            "MONGODB_URI": db.uri,
            "MONGODB_DATABASE": f"{DATABASE}_{uuid.uuid4().hex[:6]}",
            "ADMIN_API_KEY": ADMIN_KEY,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_KEY": "",
            "RATE_LIMIT_PER_IP": "",
            "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
            "JOBS_CONCURRENCY": str(args.jobs_concurrency),
            "WEBHOOK_ENDPOINT_CONCURRENCY": str(args.endpoint_concurrency),
        }
        service = subprocess.Popen(
            [str(BIN / "incident-service"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        receiver_url = f"http://127.0.0.1:{receiver_port}"
        try:
            wait_ready(f"{url}/readyz")
            wait_ready(f"{receiver_url}/count")
            return asyncio.run(run(args, url, receiver_url, db.uri, env["MONGODB_DATABASE"]))
        finally:
            service.terminate()
            receiver.terminate()
            service.wait(30)
            receiver.wait(30)
            db.stop()


if __name__ == "__main__":
    sys.exit(main())
