"""Reports benchmark: `incidentStats` over N seeded incidents (with their timelines) on
the embedded database, beside the same numbers computed in plain Python from a raw
PyMongo read of the same collection, in the same run.

    .venv/bin/python bench/stats.py                    # 10,000 and 100,000 incidents
    .venv/bin/python bench/stats.py --sizes 2000 --runs 2

Incidents are built by the domain's commands (declare, transitions with reopens)
over the 90 days ending 10 days ago, so every SLA outcome is settled and the two
computations cannot differ by the moment they ran. Each shape is asked `--runs`
times after one untimed warm-up; the table gives the median. The service's
memory is its peak RSS growth over the run (VmHWM), the baseline's its
tracemalloc peak. The run exits 1 unless service and baseline agree exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo import MongoClient

from incident_service.domain.enums import Impact, IncidentCategory, IncidentStatus, Urgency
from incident_service.domain.incident import Declaration, declare, transition
from incident_service.domain.priority import DEFAULT_SLA
from incident_service.domain.query import IncidentQuery
from incident_service.domain.stats import Bucket, Dimension, StatsRequest
from incident_service.embedded import EmbeddedMongo, free_port
from incident_service.store import codec
from incident_service.store.database import Database
from incident_service.store.stats import Mode, StatsStore

BIN = Path(sys.executable).parent
ADMIN_KEY = "bench-admin-key-0123456789"
S = IncidentStatus
FLOWS = [
    [],
    [S.ACKNOWLEDGED],
    [S.ACKNOWLEDGED, S.INVESTIGATING, S.RESOLVED],
    [S.RESOLVED],
    [S.ACKNOWLEDGED, S.RESOLVED, S.INVESTIGATING, S.RESOLVED, S.CLOSED],
    [S.INVESTIGATING, S.RESOLVED, S.INVESTIGATING],
    [S.ACKNOWLEDGED, S.IDENTIFIED, S.MONITORING, S.RESOLVED, S.CLOSED],
]
SERVICES = [str(ObjectId()) for _ in range(20)]
SHAPES: list[tuple[str, list[str], str | None]] = [
    ("totals", [], None),
    ("by PRIORITY x SERVICE, per WEEK", ["PRIORITY", "SERVICE"], "WEEK"),
]
QUERY = """
query($from: DateTime!, $to: DateTime!, $groupBy: [StatsDimension!], $bucket: StatsBucket) {
  incidentStats(from: $from, to: $to, groupBy: $groupBy, bucket: $bucket) {
    ...S  buckets { start ...S }  groups { key ...S }
  }
}
fragment S on IncidentSummary {
  count openCount mtta { mean p50 p90 } mttr { mean p50 p90 }
  slaBreachRate { acknowledge resolve }
}
"""


def seed(n: int, start: datetime, days: int) -> Iterator[tuple[list[Any], list[Any]]]:
    """Batches of (incident documents, event documents), as the store writes them."""
    rnd = random.Random(n)
    incidents: list[Any] = []
    events: list[Any] = []
    for i in range(n):
        declared = start + timedelta(milliseconds=rnd.randrange(days * 86_400_000))
        cmd = Declaration(
            title=f"bench {i}",
            category=rnd.choice(list(IncidentCategory)),
            impact=rnd.choice(list(Impact)),
            urgency=rnd.choice(list(Urgency)),
            service_ids=tuple(rnd.sample(SERVICES, rnd.randrange(0, 3))),
            detected_at=declared - timedelta(seconds=rnd.randrange(0, 900)),
        )
        change = declare(cmd, id=str(ObjectId()), number=i + 1, now=declared, actor="bench")
        incident, evs = change.incident, list(change.events)
        at = declared
        for step, to in enumerate(FLOWS[i % len(FLOWS)]):
            at += timedelta(seconds=rnd.randrange(20, 4 * 3600 if step == 0 else 2 * 86400))
            change = transition(incident, to, now=at, actor="bench")
            incident, evs = change.incident, evs + list(change.events)
        incidents.append(codec.incident_to_doc(incident))
        events.extend(codec.event_to_doc(e) for e in evs)
        if len(incidents) == 5000:
            yield incidents, events
            incidents, events = [], []
    if incidents:
        yield incidents, events


# --- the baseline: a raw read and plain Python ---------------------------------------


def plain_python(
    docs: list[dict[str, Any]], group_by: list[str], bucket: str | None, now: datetime
) -> dict[str, Any]:
    def nearest(values: list[int], p: int) -> float | None:
        if not values:
            return None
        values = sorted(values)
        return values[max(1, math.ceil(Fraction(p * len(values), 100))) - 1] / 1000

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        acks: list[int] = []
        ress: list[int] = []
        a = ab = r = rb = 0
        for d in rows:
            start = d.get("detectedAt") or d["declaredAt"]
            target = DEFAULT_SLA[d["priority"]]
            ack, res = d.get("acknowledgedAt"), None if d["open"] else d.get("resolvedAt")
            if ack:
                acks.append((ack - start) // timedelta(milliseconds=1))
            if res:
                ress.append((res - start) // timedelta(milliseconds=1))
            late_a = (ack or now) - start > target.acknowledge
            late_r = (res or now) - start > target.resolve
            a, ab = a + bool(ack or late_a), ab + late_a
            r, rb = r + bool(res or late_r), rb + late_r

        def durations(v: list[int]) -> dict[str, float | None]:
            mean = sum(v) / (len(v) * 1000) if v else None
            return {"mean": mean, "p50": nearest(v, 50), "p90": nearest(v, 90)}

        return {
            "count": len(rows),
            "openCount": sum(bool(d["open"]) for d in rows),
            "mtta": durations(acks),
            "mttr": durations(ress),
            "slaBreachRate": {
                "acknowledge": ab / a if a else None,
                "resolve": rb / r if r else None,
            },
        }

    def trunc(at: datetime) -> datetime:
        day = datetime(at.year, at.month, at.day, tzinfo=UTC)
        if bucket == "DAY":
            return day
        if bucket == "WEEK":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    fields = {"PRIORITY": "priority", "CATEGORY": "category", "SEVERITY": "impact"}
    out = summary(docs)
    buckets: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        if bucket:
            buckets[trunc(d["declaredAt"])].append(d)
        parts = [
            d.get("serviceIds") or [None] if g == "SERVICE" else [d[fields[g]]] for g in group_by
        ]
        for key in product(*parts) if group_by else ():
            groups[key].append(d)
    out["buckets"] = []
    if bucket:
        first, last = trunc(RANGE[0]), trunc(RANGE[1] - timedelta(milliseconds=1))
        day = first
        while day <= last:
            if trunc(day) == day:
                out["buckets"].append({"start": day, **summary(buckets.get(day, []))})
            day += timedelta(days=1)
    ordered = sorted(groups, key=lambda k: [(v is None, v or "") for v in k])
    out["groups"] = [{"key": list(k), **summary(groups[k])} for k in ordered]
    return out


RANGE: tuple[datetime, datetime] = (datetime.min, datetime.max)
PROJECTION = {
    f: 1
    for f in (
        "priority",
        "category",
        "impact",
        "serviceIds",
        "declaredAt",
        "detectedAt",
        "acknowledgedAt",
        "resolvedAt",
        "open",
    )
}


def baseline(uri: str, database: str, group_by: list[str], bucket: str | None) -> dict[str, Any]:
    client: MongoClient[Any] = MongoClient(uri, tz_aware=True)
    try:
        docs = list(
            client[database].incidents.find(
                {"declaredAt": {"$gte": RANGE[0], "$lt": RANGE[1]}}, PROJECTION
            )
        )
        return plain_python(docs, group_by, bucket, datetime.now(UTC))
    finally:
        client.close()


# --- the run ---------------------------------------------------------------------------


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def run_size(n: int, runs: int, tmp: Path) -> tuple[list[str], bool]:
    global RANGE
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=100)
    RANGE = (start, now - timedelta(days=10))
    db = EmbeddedMongo(tmp / f"db-{n}")
    db.start(timeout=60)
    database = "bench_stats"
    rows: list[str] = []
    ok = True
    try:
        port = free_port()
        env = {
            **os.environ,
            "MONGODB_URI": db.uri,
            "MONGODB_DATABASE": database,
            "ADMIN_API_KEY": ADMIN_KEY,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_KEY": "",
        }
        service = subprocess.Popen(
            [str(BIN / "incident-service"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            # Indexes first (the service creates them at start-up), then the data, as in life.
            wait_ready(url)
            client: MongoClient[Any] = MongoClient(db.uri, tz_aware=True)
            t = time.perf_counter()
            events = 0
            for incidents, evs in seed(n, start, 90):
                client[database].incidents.insert_many(incidents, ordered=False)
                client[database].incident_events.insert_many(evs, ordered=False)
                events += len(evs)
            client.close()
            print(f"seeded {n:,} incidents, {events:,} events in {time.perf_counter() - t:.0f}s")
            http = httpx.Client(timeout=600, headers={"authorization": f"Bearer {ADMIN_KEY}"})
            rss_before = vm(service.pid, "VmRSS")
            for name, group_by, bucket in SHAPES:
                variables = {
                    "from": RANGE[0].isoformat(),
                    "to": RANGE[1].isoformat(),
                    "groupBy": group_by,
                    "bucket": bucket,
                }

                def ask(variables: dict[str, Any] = variables) -> dict[str, Any]:
                    body = http.post(
                        f"{url}/graphql", json={"query": QUERY, "variables": variables}
                    )
                    data = body.json()
                    assert "errors" not in data, data
                    got: dict[str, Any] = data["data"]["incidentStats"]
                    for b in got["buckets"]:
                        b["start"] = datetime.fromisoformat(b["start"].replace("Z", "+00:00"))
                    return got

                service_s, got = timed(ask, runs)
                base_s, want = timed(
                    lambda g=group_by, b=bucket: baseline(db.uri, database, g, b), runs
                )
                # Memory measured in a run of its own: tracemalloc slows allocation.
                tracemalloc.start()
                baseline(db.uri, database, group_by, bucket)
                base_peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                pipeline_s, piped = timed(
                    lambda g=group_by, b=bucket: pipeline(db.uri, database, g, b), 1
                )
                agree = got == want == piped
                ok &= agree
                rows.append(
                    f"| {n:,} | {name} | {service_s:.2f} | {pipeline_s:.2f} | {base_s:.2f} | "
                    f"{service_s / base_s:.2f}x | {base_peak / 2**20:.1f} | "
                    f"{'yes' if agree else 'NO'} |"
                )
                print(rows[-1], flush=True)
            grown = vm(service.pid, "VmHWM") - rss_before
            growth = f"service peak RSS growth over the run: {grown / 2**20:.1f} MB"
            rows.append(f"| {n:,} | {growth} | | | | | | |")
        finally:
            service.terminate()
            service.wait(30)
    finally:
        db.stop()
    return rows, ok


def pipeline(uri: str, database: str, group_by: list[str], bucket: str | None) -> dict[str, Any]:
    """The pipeline path (MongoDB's) on the same data, through the store."""

    async def go() -> dict[str, Any]:
        db = Database(uri, database)
        try:
            store = StatsStore(db, DEFAULT_SLA, 10**7, Mode.PIPELINE)
            request = StatsRequest(
                IncidentQuery(),
                RANGE[0],
                RANGE[1],
                tuple(Dimension(g) for g in group_by),
                Bucket(bucket) if bucket else None,
            )
            r = await store.report(request, datetime.now(UTC))
        finally:
            await db.close()

        def s(x: Any) -> dict[str, Any]:
            return {
                "count": x.count,
                "openCount": x.open_count,
                "mtta": vars(x.mtta),
                "mttr": vars(x.mttr),
                "slaBreachRate": vars(x.sla_breach_rate),
            }

        return {
            **s(r.summary),
            "buckets": [{"start": at, **s(b)} for at, b in r.buckets],
            "groups": [{"key": list(k), **s(g)} for k, g in r.groups],
        }

    return asyncio.run(go())


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the service did not become ready")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per shape")
    args = parser.parse_args()
    header = [
        "| incidents | report | service s | pipeline s | baseline s | service / baseline "
        "| baseline peak MB | agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows: list[str] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="stats-bench-") as tmp:
        for n in args.sizes:
            more, agreed = run_size(n, args.runs, Path(tmp))
            rows += more
            ok &= agreed
    print("\n".join(header + rows))
    print("OK" if ok else "FAILED: the service and the baseline disagree")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
