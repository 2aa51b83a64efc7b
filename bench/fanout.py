"""Fan-out benchmark: N `statusPage` subscribers on ONE service process.

It starts an embedded database (or uses --mongodb-uri) and one
`incident-service serve` process, opens N websocket subscribers from several
client processes, fires status changes with `setServiceStatus` and measures,
for every subscriber, the time from the mutation until the new state
arrived; it also reads the service's RSS before and after the N subscribers
connected. Then it measures the same against the baseline
(bench/baseline_server.py under uvicorn: one pre-encoded frame sent to N
sockets) with the same clients, and prints a markdown table.

    .venv/bin/python bench/fanout.py                      # N = 1,000
    .venv/bin/python bench/fanout.py --subscribers 10000

Every subscriber must receive every event: missing deliveries are counted
and reported, never silently dropped from the statistics. Times use
CLOCK_MONOTONIC, which all processes of one machine share.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from processes import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

QUERY = (
    "subscription { statusPage { overallStatus updatedAt "
    "components { name description status updatedAt } "
    "activeIncidents { key title publicStatus declaredAt updatedAt resolvedAt "
    "components { name status } updates { body publicStatus at } } } }"
)
# Each event sets the benchmark's component to the next status of this cycle,
# so consecutive events always differ and each delivery is recognisable.
CYCLE = [
    "MAJOR_OUTAGE",
    "DEGRADED_PERFORMANCE",
    "PARTIAL_OUTAGE",
    "UNDER_MAINTENANCE",
    "OPERATIONAL",
]
SUB_ID = "1"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, max(need, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < need:
        sys.exit(
            f"fanout: need about {need} file descriptors, the hard limit is {hard}; "
            "raise it (ulimit -Hn) or use fewer --subscribers"
        )


# ---------------------------------------------------------------- clients


@dataclass
class Client:
    """One subscriber's record: when each `next` arrived and what it said."""

    arrivals: list[tuple[float, str | None]] = field(default_factory=list)
    ready: bool = False
    error: str | None = None
    #: When it began connecting, and when its initial state arrived (subscribe rate).
    started: float = 0.0
    ready_at: float = 0.0


def component_status(message: dict[str, Any], component: str) -> str | None:
    page = ((message.get("payload") or {}).get("data") or {}).get("statusPage") or {}
    for c in page.get("components") or ():
        if c.get("name") == component:
            return c.get("status")
    return None


async def run_client(
    url: str, component: str, rec: Client, gate: asyncio.Semaphore, compression: str | None
) -> None:
    from websockets.asyncio.client import connect

    try:
        async with gate:
            rec.started = time.monotonic()
            ws = await connect(
                url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                compression=compression,
                open_timeout=300,
                ping_interval=None,  # the server pings; the library answers
                close_timeout=2,
                max_size=None,
            )
            await ws.send('{"type":"connection_init","payload":{}}')
            ack = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"expected connection_ack, got {ack}")
            await ws.send(
                json.dumps({"id": SUB_ID, "type": "subscribe", "payload": {"query": QUERY}})
            )
            first = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if first.get("type") != "next" or component_status(first, component) is None:
                raise RuntimeError(f"expected the initial state, got {str(first)[:300]}")
        rec.ready_at = time.monotonic()
        rec.ready = True
    except Exception as exc:
        rec.error = f"{type(exc).__name__}: {exc}"[:300]
        return
    try:
        async for raw in ws:
            now = time.monotonic()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next":
                rec.arrivals.append((now, component_status(message, component)))
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
            elif kind in ("error", "complete"):
                rec.error = f"server sent {kind}: {str(message)[:200]}"
                break
        if rec.error is None and ws.close_code not in (1000, 1001):
            rec.error = f"closed by the server: {ws.close_code} {ws.close_reason}"
    except Exception as exc:
        rec.error = rec.error or f"{type(exc).__name__}: {exc}"[:300]
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


def match(rec: Client, statuses: list[str]) -> list[float | None]:
    """Arrival time of each event, in order: the first later message showing its status."""
    out: list[float | None] = []
    i = 0
    for status in statuses:
        j = i
        while j < len(rec.arrivals) and rec.arrivals[j][1] != status:
            j += 1
        if j < len(rec.arrivals):
            out.append(rec.arrivals[j][0])
            i = j + 1
        else:
            out.append(None)
    return out


def worker_main(conn: Connection, url: str, count: int, component: str, compression: str | None):
    """A client process: `count` subscribers on one asyncio loop, driven over a pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(64)
        clients = [Client() for _ in range(count)]
        tasks = [
            asyncio.create_task(run_client(url, component, c, gate, compression)) for c in clients
        ]
        while True:
            cmd, arg = await loop.run_in_executor(None, conn.recv)
            if cmd == "ready":
                deadline = time.monotonic() + arg
                while time.monotonic() < deadline:
                    if all(c.ready or c.error for c in clients):
                        break
                    await asyncio.sleep(0.05)
                errors = [c.error for c in clients if c.error]
                ok = [c for c in clients if c.ready and not c.error]
                window = (
                    min((c.started for c in ok), default=math.inf),
                    max((c.ready_at for c in ok), default=0.0),
                )
                conn.send((len(ok), errors[:5], len(errors), window))
            elif cmd == "wait":
                statuses, deadline_s = arg
                deadline = time.monotonic() + deadline_s
                while time.monotonic() < deadline:
                    if all(c.error or match(c, statuses)[-1] is not None for c in clients):
                        break
                    await asyncio.sleep(0.02)
                conn.send(sum(match(c, statuses)[-1] is not None for c in clients))
            elif cmd == "collect":
                conn.send(([match(c, arg) for c in clients], [c.error for c in clients]))
            elif cmd == "close":
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                conn.send("closed")
                return

    raise_fd_limit(count + 64)
    asyncio.run(main())


class ClientPool:
    def __init__(self, url: str, n: int, procs: int, component: str, compression: str | None):
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        sizes = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
        for size in sizes:
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=worker_main, args=(child, url, size, component, compression), daemon=True
            )
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def ask(self, cmd: str, arg: Any = None) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((cmd, arg))
        return [pipe.recv() for pipe in self.pipes]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask("close")
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()


# ---------------------------------------------------------------- servers


def gql(http: httpx.Client, url: str, key: str, query: str, variables: dict[str, Any]) -> Any:
    r = http.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {key}"},
    )
    body = r.json()
    if r.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL call failed ({r.status_code}): {body}")
    return body["data"]


# ---------------------------------------------------------------- one phase


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the server while the events fan out (collapsed stacks: `--format raw`)."""
    exe = shutil.which("py-spy") or str(BIN / "py-spy")
    spy = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached before the first event
    return spy


@dataclass
class Result:
    name: str
    n: int
    events: int
    connect_s: float
    connected: int
    connect_errors: list[str]
    latencies_ms: list[float]  # every delivery, every event
    spreads_ms: list[float]  # per event: last arrival - first arrival
    firsts_ms: list[float]  # per event: first arrival - change sent
    missing: int
    rss_before_kib: int
    rss_after_kib: int
    client_errors: list[str]
    #: From the first connect to the last initial state, over every client process.
    subscribe_s: float = math.nan

    @property
    def subscribes_per_s(self) -> float:
        return self.connected / self.subscribe_s if self.subscribe_s > 0 else math.nan

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        if not xs:
            return math.nan
        return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))]

    @property
    def kib_per_subscriber(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / max(1, self.connected)


def run_phase(
    name: str,
    ws_url: str,
    pid: int,
    n: int,
    events: int,
    procs: int,
    component: str,
    compression: str | None,
    fire: Any,
    profile: Path | None = None,
) -> Result:
    """Connect n subscribers, fire `events` events one after another, measure."""
    time.sleep(1.0)
    before = rss_kib(pid)
    started = time.monotonic()
    pool = ClientPool(ws_url, n, procs, component, compression)
    try:
        ready = pool.ask("ready", 120 + n / 20)
        connect_s = time.monotonic() - started
        connected = sum(r[0] for r in ready)
        subscribe_s = max(r[3][1] for r in ready) - min(r[3][0] for r in ready)
        errors = [e for r in ready for e in r[1]]
        print(
            f"  {name}: {connected}/{n} subscribed in {connect_s:.1f}s"
            + (f"; {sum(r[2] for r in ready)} failed, e.g. {errors[:2]}" if errors else ""),
            file=sys.stderr,
        )
        time.sleep(1.0)
        after = rss_kib(pid)
        spy = start_profiler(pid, profile) if profile else None
        statuses: list[str] = []
        starts: list[float] = []
        for k in range(events):
            status = CYCLE[k % len(CYCLE)]
            statuses.append(status)
            t0 = time.monotonic()
            starts.append(t0)
            fire(status)
            got = sum(pool.ask("wait", (statuses, 30 + n / 100)))
            print(
                f"  {name}: event {k + 1}/{events} ({status}) reached {got}/{connected} "
                f"in {1000 * (time.monotonic() - t0):.0f} ms",
                file=sys.stderr,
            )
            time.sleep(0.5)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        per_worker = pool.ask("collect", statuses)
    finally:
        pool.close()
    latencies: list[float] = []
    spreads: list[float] = []
    firsts: list[float] = []
    missing = 0
    client_errors: list[str] = []
    for k, t0 in enumerate(starts):
        arrivals: list[float] = []
        for matches, errs in per_worker:
            for m, err in zip(matches, errs, strict=True):
                if m[k] is None:
                    missing += 1
                    if err and len(client_errors) < 5:
                        client_errors.append(err)
                else:
                    arrivals.append(m[k])
        latencies += [1000 * (a - t0) for a in arrivals]
        if arrivals:
            spreads.append(1000 * (max(arrivals) - min(arrivals)))
            firsts.append(1000 * (min(arrivals) - t0))
    return Result(
        name,
        n,
        events,
        connect_s,
        connected,
        errors,
        latencies,
        spreads,
        firsts,
        missing,
        before,
        after,
        client_errors,
        subscribe_s,
    )


# ---------------------------------------------------------------- report


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def table(results: list[Result]) -> str:
    head = (
        "| server | subscribers | events | delivered | missing | p50 ms | p99 ms | max ms "
        "| first ms | spread ms | RSS before MiB | RSS after MiB | KiB / subscriber "
        "| subscribes/s |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    for r in results:
        rows.append(
            f"| {r.name} | {r.n:,} | {r.events} | {len(r.latencies_ms):,} | {r.missing:,} "
            f"| {r.pct(0.50):.0f} | {r.pct(0.99):.0f} | {r.pct(1.0):.0f} "
            f"| {med(r.firsts_ms):.0f} | {med(r.spreads_ms):.0f} "
            f"| {r.rss_before_kib / 1024:.1f} | {r.rss_after_kib / 1024:.1f} "
            f"| {r.kib_per_subscriber:.1f} | {r.subscribes_per_s:,.0f} |"
        )
    if len(results) == 2 and results[1].latencies_ms and results[0].latencies_ms:
        s, b = results
        spread = med(s.spreads_ms) / max(1e-9, med(b.spreads_ms))
        first = med(s.firsts_ms) / max(1e-9, med(b.firsts_ms))
        rows.append(
            f"| **ratio service / baseline** | | | | | **{s.pct(0.5) / b.pct(0.5):.2f}x** "
            f"| **{s.pct(0.99) / b.pct(0.99):.2f}x** | **{s.pct(1.0) / b.pct(1.0):.2f}x** "
            f"| {first:.1f}x | {spread:.2f}x "
            f"| | | {s.kib_per_subscriber / max(1e-9, b.kib_per_subscriber):.2f}x "
            f"| {s.subscribes_per_s / max(1e-9, b.subscribes_per_s):.2f}x |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", "-n", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10, help="status changes to fire (10)")
    parser.add_argument("--procs", type=int, default=0, help="client processes (auto)")
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="deflate",
        help="offer permessage-deflate like browsers do (deflate) or not",
    )
    parser.add_argument("--mongodb-uri", default="", help="use this MongoDB, not an embedded one")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument(
        "--service-env", action="append", default=[], metavar="KEY=VALUE", help="extra settings"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the service with py-spy during the events (collapsed stacks to this file)",
    )
    args = parser.parse_args(argv)
    n = args.subscribers
    if n < 1 or args.events < 1:
        parser.error("--subscribers and --events must be at least 1")
    procs = args.procs or max(2, min(8, math.ceil(n / 1500)))
    compression = "deflate" if args.compression == "deflate" else None
    raise_fd_limit(n + 512)  # inherited by the servers we start

    work = Path(tempfile.mkdtemp(prefix="fanout-"))
    component = f"bench-{uuid.uuid4().hex[:8]}"
    results: list[Result] = []
    initial_state: dict[str, Any] | None = None
    print(f"fanout: {n} subscribers, {args.events} events, {procs} client procs", file=sys.stderr)
    try:
        if not args.skip_service:
            result, initial_state = service_phase(args, n, procs, component, compression, work)
            results.append(result)
        if not args.skip_baseline:
            results.append(
                baseline_phase(args, n, procs, component, compression, work, initial_state)
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(table(results))
    print()
    print(
        f"{n:,} subscribers on one process. p50/p99/max: from sending the change to its arrival, "
        "over every delivery of every event; first: until the first subscriber had it "
        "(write, change stream, build), spread: from the first to the last subscriber "
        "(the fan-out itself), medians over the events; "
        f"client processes: {procs}; compression: {args.compression}; "
        f"{os.cpu_count()} CPUs shared by servers, database and clients."
    )
    for r in results:
        if r.missing or r.client_errors:
            print(f"\n{r.name}: {r.missing} deliveries missing; client errors: {r.client_errors}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 1 if any(r.missing for r in results) else 0


def service_phase(args, n, procs, component, compression, work):  # type: ignore[no-untyped-def]
    db = None
    uri = args.mongodb_uri
    if not uri:
        from incident_service.embedded import EmbeddedMongo

        db = EmbeddedMongo(work / "db")
        db.start(timeout=60)
        uri = db.uri
    key = secrets.token_urlsafe(24)
    port = free_port()
    env = {
        "MONGODB_URI": uri,
        "MONGODB_DATABASE": f"bench_{uuid.uuid4().hex[:8]}",
        "ADMIN_API_KEY": key,
        "LOG_LEVEL": "WARNING",
        # One loopback address opens all N sockets: per-IP limits would cut them off.
        "RATE_LIMIT_PER_IP": "",
        "RATE_LIMIT_PER_KEY": "",
        # Every subscriber comes from this one machine's address.
        "WS_MAX_CONNECTIONS_PER_IP": str(n + 100),
    }
    env.update(kv.split("=", 1) for kv in args.service_env)
    server = Server(
        "service",
        [str(BIN / "incident-service"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
        work / "service.log",
    )
    try:
        server.wait_ready("/readyz")
        http = httpx.Client(timeout=60)
        created = gql(
            http,
            server.url,
            key,
            "mutation($i: CreateServiceInput!) { createService(input: $i) "
            "{ service { id } userErrors { message } } }",
            {"i": {"name": component, "description": "fan-out benchmark"}},
        )["createService"]
        if created["userErrors"]:
            raise RuntimeError(f"createService: {created['userErrors']}")
        service_id = created["service"]["id"]
        initial = gql(http, server.url, key, QUERY.replace("subscription", "query", 1), {})

        def fire(status: str) -> None:
            out = gql(
                http,
                server.url,
                key,
                "mutation($i: SetServiceStatusInput!) { setServiceStatus(input: $i) "
                "{ userErrors { message } } }",
                {"i": {"id": service_id, "status": status}},
            )["setServiceStatus"]
            if out["userErrors"]:
                raise RuntimeError(f"setServiceStatus: {out['userErrors']}")

        # Warm up the code paths (imports, caches) so RSS "before" is a fair base.
        warm = run_phase(
            "warm-up", server.url.replace("http", "ws") + "/graphql", server.proc.pid,
            min(n, 20), 1, 1, component, compression, fire,
        )  # fmt: skip
        if warm.missing:
            raise RuntimeError(
                f"the service did not deliver statusPage to warm-up subscribers: "
                f"{warm.connect_errors or warm.client_errors}"
            )
        fire("OPERATIONAL")
        result = run_phase(
            "service", server.url.replace("http", "ws") + "/graphql", server.proc.pid,
            n, args.events, procs, component, compression, fire, args.profile,
        )  # fmt: skip
        http.close()
        return result, initial
    finally:
        server.stop()
        if db is not None:
            db.stop()


def baseline_phase(args, n, procs, component, compression, work, initial):  # type: ignore[no-untyped-def]
    if initial is None:  # --skip-service: a state of the same shape
        initial = {
            "statusPage": {
                "overallStatus": "OPERATIONAL",
                "updatedAt": "2026-01-01T00:00:00+00:00",
                "components": [
                    {
                        "name": component,
                        "description": "fan-out benchmark",
                        "status": "OPERATIONAL",
                        "updatedAt": "2026-01-01T00:00:00+00:00",
                    }
                ],
                "activeIncidents": [],
            }
        }
    port = free_port()
    server = Server(
        "baseline",
        [
            sys.executable, "-m", "uvicorn", "baseline_server:app",
            "--app-dir", str(ROOT / "bench"),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ],
        {},
        port,
        work / "baseline.log",
    )  # fmt: skip

    def frame(status: str) -> str:
        page = json.loads(json.dumps(initial["statusPage"]))
        for c in page["components"]:
            if c["name"] == component:
                c["status"] = status
        page["overallStatus"] = status
        return json.dumps({"id": SUB_ID, "type": "next", "payload": {"data": {"statusPage": page}}})

    try:
        server.wait_ready("/stats")
        http = httpx.Client(timeout=60)
        http.post(f"{server.url}/initial", content=frame("OPERATIONAL").encode())

        def fire(status: str) -> None:
            http.post(f"{server.url}/trigger", content=frame(status).encode()).raise_for_status()

        ws_url = f"ws://127.0.0.1:{port}/graphql"
        pid = server.proc.pid
        run_phase("warm-up", ws_url, pid, min(n, 20), 1, 1, component, compression, fire)
        fire("OPERATIONAL")
        return run_phase(
            "baseline", ws_url, server.proc.pid, n, args.events, procs, component, compression, fire
        )
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
