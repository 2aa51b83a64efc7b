"""incidentStats against a reference computed here, over seeded incidents with reopens.

The incidents are built by the domain's own commands (declare, transition,
update) at chosen times and written with the store's document shape into a
database of their own, served by a service of its own. The reference is
independent of the service's code: it reads first acknowledgements and last
resolutions from the timeline events, not from the incident's fields, and does
its own percentiles, means (exact fractions), buckets and breach rules.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient

from incident_service import clock
from incident_service.domain.enums import (
    Impact,
    IncidentCategory,
    IncidentStatus,
    Urgency,
)
from incident_service.domain.incident import Declaration, Update, declare, transition, update
from incident_service.domain.priority import DEFAULT_SLA
from incident_service.domain.query import IncidentQuery
from incident_service.domain.stats import Bucket, Dimension, Report, StatsRequest
from incident_service.store import codec
from incident_service.store.database import Database
from incident_service.store.stats import Mode, StatsStore
from tests.conftest import service_env
from tests.support.processes import GraphQLClient, ServiceProcess

S = IncidentStatus
WORKING = {S.ACKNOWLEDGED, S.INVESTIGATING, S.IDENTIFIED, S.MONITORING}
SERVICES = [str(ObjectId()) for _ in range(3)]
#: Status walks, with reopens (RESOLVED -> INVESTIGATING) and back edges.
FLOWS: list[list[S]] = [
    [],
    [S.ACKNOWLEDGED],
    [S.ACKNOWLEDGED, S.INVESTIGATING, S.RESOLVED],
    [S.RESOLVED],
    [S.ACKNOWLEDGED, S.RESOLVED, S.INVESTIGATING, S.RESOLVED, S.CLOSED],
    [S.INVESTIGATING, S.RESOLVED, S.INVESTIGATING],
    [S.RESOLVED, S.INVESTIGATING, S.MONITORING, S.INVESTIGATING, S.RESOLVED],
    [S.ACKNOWLEDGED, S.IDENTIFIED, S.MONITORING, S.RESOLVED, S.CLOSED],
    [S.RESOLVED, S.INVESTIGATING, S.RESOLVED, S.INVESTIGATING, S.RESOLVED],
]

QUERY = """
query Stats($from: DateTime!, $to: DateTime!, $filter: IncidentFilter,
            $groupBy: [StatsDimension!], $bucket: StatsBucket) {
  incidentStats(from: $from, to: $to, filter: $filter, groupBy: $groupBy, bucket: $bucket) {
    ...S
    buckets { start ...S }
    groups { key ...S }
  }
}
fragment S on IncidentSummary {
  count openCount
  mtta { mean p50 p90 } mttr { mean p50 p90 }
  slaBreachRate { acknowledge resolve }
}
"""


@dataclass(frozen=True)
class Seeded:
    """What the reference knows of one incident."""

    priority: str
    category: str
    impact: str
    services: tuple[str, ...]
    declared: datetime
    started: datetime
    first_ack: datetime | None
    last_resolution: datetime | None
    open: bool


def _ms(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def seed(rnd: random.Random, now: datetime, start: datetime) -> tuple[list[Any], list[Any]]:
    incidents, events = [], []
    for i in range(160):
        if i < 8:  # recent, acknowledge still pending for most: unsettled outcomes
            declared = now - timedelta(minutes=rnd.randrange(5, 50))
            flow = [] if i % 2 else [S.ACKNOWLEDGED]
        else:
            declared = start + timedelta(seconds=rnd.randrange(0, 60 * 86400))
            flow = FLOWS[i % len(FLOWS)]
        if i == 8:
            declared = start  # the range's first instant is in it
        declared = _ms(declared)
        cmd = Declaration(
            title=f"stats {i}",
            category=rnd.choice(list(IncidentCategory)[:4]),
            impact=rnd.choice(list(Impact)),
            urgency=rnd.choice(list(Urgency)),
            service_ids=tuple(rnd.sample(SERVICES, rnd.randrange(0, 3))),
            detected_at=declared - timedelta(seconds=rnd.randrange(0, 900)) if i % 3 else None,
        )
        change = declare(cmd, id=str(ObjectId()), number=i + 1, now=declared, actor="seed")
        incident, evs = change.incident, list(change.events)
        at = declared
        for step, to in enumerate(flow):
            at += timedelta(seconds=rnd.randrange(20, 4 * 3600 if step == 0 else 3 * 86400))
            at = min(at, now - timedelta(seconds=1))
            if step == 1 and i % 5 == 0:  # the priority moves while it is worked on
                impact = Impact.HIGH if incident.impact is not Impact.HIGH else Impact.LOW
                moved = update(incident, Update(impact=impact), now=at, actor="seed")
                incident, evs = moved.incident, evs + list(moved.events)
            change = transition(incident, to, now=at, actor="seed")
            incident, evs = change.incident, evs + list(change.events)
        incidents.append(codec.incident_to_doc(incident))
        events.extend(codec.event_to_doc(e) for e in evs)
    # Declared just before the range: never counted.
    before = declare(
        Declaration(title="before"),
        id=str(ObjectId()),
        number=999,
        now=start - timedelta(milliseconds=1),
        actor="seed",
    )
    incidents.append(codec.incident_to_doc(before.incident))
    return incidents, events


def from_timeline(doc: dict[str, Any], events: list[dict[str, Any]]) -> Seeded:
    moves = sorted((e for e in events if e["type"] == "STATUS_CHANGED"), key=lambda e: e["seq"])
    last = moves[-1]["data"]["to"] if moves else "TRIGGERED"
    is_open = last not in ("RESOLVED", "CLOSED")
    acks = [e["at"] for e in moves if e["data"]["to"] in WORKING]
    resolutions = [e["at"] for e in moves if e["data"]["to"] == "RESOLVED"]
    return Seeded(
        priority=doc["priority"],
        category=doc["category"],
        impact=doc["impact"],
        services=tuple(doc["serviceIds"]),
        declared=doc["declaredAt"],
        started=doc["detectedAt"] or doc["declaredAt"],
        first_ack=min(acks) if acks else None,
        last_resolution=None if is_open else max(resolutions),
        open=is_open,
    )


# --- the reference ----------------------------------------------------------------


def nearest_rank(values: list[int], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(Fraction(p, 100) * len(ordered))) - 1] / 1000


def durations(values: list[int]) -> dict[str, float | None]:
    mean = float(Fraction(sum(values), len(values) * 1000)) if values else None
    return {"mean": mean, "p50": nearest_rank(values, 50), "p90": nearest_rank(values, 90)}


def ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def summary(rows: list[Seeded], now: datetime) -> dict[str, Any]:
    acks, ress = [], []
    counted = {"a": 0, "ab": 0, "r": 0, "rb": 0}
    for r in rows:
        target = DEFAULT_SLA[r.priority]  # type: ignore[index]
        ack_due, res_due = r.started + target.acknowledge, r.started + target.resolve
        if r.first_ack is not None:
            acks.append(ms(r.first_ack - r.started))
        if r.last_resolution is not None:
            ress.append(ms(r.last_resolution - r.started))
        # Settled: the milestone came, or its due time passed; breached: late or missing.
        if r.first_ack is not None or now > ack_due:
            counted["a"] += 1
            counted["ab"] += (r.first_ack or now) > ack_due
        if r.last_resolution is not None or now > res_due:
            counted["r"] += 1
            counted["rb"] += (r.last_resolution or now) > res_due
    return {
        "count": len(rows),
        "openCount": sum(r.open for r in rows),
        "mtta": durations(acks),
        "mttr": durations(ress),
        "slaBreachRate": {
            "acknowledge": counted["ab"] / counted["a"] if counted["a"] else None,
            "resolve": counted["rb"] / counted["r"] if counted["r"] else None,
        },
    }


def bucket_of(at: datetime, bucket: str) -> datetime:
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    if bucket == "DAY":
        return day
    if bucket == "WEEK":
        return day - timedelta(days=day.isocalendar().weekday - 1)
    return day.replace(day=1)


def values(r: Seeded, dim: str) -> list[str | None]:
    return {
        "PRIORITY": [r.priority],
        "CATEGORY": [r.category],
        "SEVERITY": [r.impact],
        "SERVICE": list(r.services) or [None],
    }[dim]


def reference(
    rows: list[Seeded],
    start: datetime,
    end: datetime,
    group_by: list[str],
    bucket: str | None,
    now: datetime,
) -> dict[str, Any]:
    rows = [r for r in rows if start <= r.declared < end]
    out = summary(rows, now)
    out["buckets"] = []
    if bucket:
        first, last = bucket_of(start, bucket), bucket_of(end - timedelta(milliseconds=1), bucket)
        starts = sorted({bucket_of(r.declared, bucket) for r in rows} | {first, last})
        day = first
        while day <= last:  # every bucket between, empty ones too
            starts.append(bucket_of(day, bucket))
            day += timedelta(days=1)
        for s in sorted(set(starts)):
            inside = [r for r in rows if bucket_of(r.declared, bucket) == s]
            out["buckets"].append({"start": s, **summary(inside, now)})
    groups: dict[tuple[str | None, ...], list[Seeded]] = {}
    for r in rows:
        for key in product(*(values(r, d) for d in group_by)) if group_by else ():
            groups.setdefault(key, []).append(r)
    ordered = sorted(groups, key=lambda k: [(v is None, v or "") for v in k])
    out["groups"] = [{"key": list(k), **summary(groups[k], now)} for k in ordered]
    return out


# --- fixtures ----------------------------------------------------------------------


@dataclass
class World:
    gql: GraphQLClient
    rows: list[Seeded]
    uri: str
    database: str
    start: datetime
    end: datetime


@pytest.fixture(scope="module")
def world(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    database = f"stats_{uuid.uuid4().hex[:8]}"
    now = clock.now()
    start = _ms(now - timedelta(days=62))
    incidents, events = seed(random.Random(12), now, start)
    client: MongoClient[Any] = MongoClient(mongo_uri, tz_aware=True)
    client[database].incidents.insert_many(incidents)
    client[database].incident_events.insert_many(events)
    client.close()
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_incident.setdefault(e["incidentId"], []).append(e)
    rows = [from_timeline(d, by_incident.get(d["_id"], [])) for d in incidents]
    log = Path(tmp_path_factory.mktemp("stats")) / "service.log"
    proc = ServiceProcess(service_env(mongo_uri, database), log_path=log).start()
    try:
        yield World(
            GraphQLClient(proc.url), rows, mongo_uri, database, start, _ms(now + timedelta(days=1))
        )
    finally:
        proc.stop()


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def parse(body: dict[str, Any]) -> dict[str, Any]:
    for b in body["buckets"]:
        b["start"] = datetime.fromisoformat(b["start"].replace("Z", "+00:00"))
    return body


BUCKETS = [None, "DAY", "WEEK", "MONTH"]
GROUPINGS = [[], ["PRIORITY"], ["CATEGORY"], ["SERVICE"], ["SEVERITY"], ["SEVERITY", "SERVICE"]]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_stats_equal_the_reference_for_every_grouping(world: World, bucket: str | None) -> None:
    for group_by in GROUPINGS:
        variables = {
            "from": iso(world.start),
            "to": iso(world.end),
            "groupBy": group_by,
            "bucket": bucket,
        }
        got = parse(world.gql(QUERY, variables)["incidentStats"])
        want = reference(world.rows, world.start, world.end, group_by, bucket, clock.now())
        assert got == want, (bucket, group_by)
    # The seed covers what the definitions are about.
    assert want["count"] == 160 and 0 < want["openCount"] < 160
    assert want["slaBreachRate"]["acknowledge"] not in (None, 0, 1)


def test_stats_follow_the_filter_and_a_narrower_range(world: World) -> None:
    start, end = world.start + timedelta(days=10, hours=5), world.start + timedelta(days=40)
    variables = {
        "from": iso(start),
        "to": iso(end),
        "filter": {"priority": ["P2", "P3"]},
        "groupBy": ["PRIORITY", "CATEGORY"],
        "bucket": "WEEK",
    }
    got = parse(world.gql(QUERY, variables)["incidentStats"])
    rows = [r for r in world.rows if r.priority in ("P2", "P3")]
    assert got == reference(rows, start, end, ["PRIORITY", "CATEGORY"], "WEEK", clock.now())
    assert got["buckets"][0]["start"] <= start < got["buckets"][1]["start"]


@pytest.mark.parametrize("mode", [Mode.PIPELINE, Mode.STREAM])
def test_pipeline_and_stream_agree_with_the_reference(world: World, mode: Mode) -> None:
    """The embedded server runs the stream by default; the pipeline (MongoDB's path) too."""

    async def run(group_by: list[str], bucket: str | None, now: datetime) -> Report:
        db = Database(world.uri, world.database)
        try:
            store = StatsStore(db, DEFAULT_SLA, 1000, mode)
            request = StatsRequest(
                IncidentQuery(),
                world.start,
                world.end,
                tuple(Dimension(d) for d in group_by),
                Bucket(bucket) if bucket else None,
            )
            return await store.report(request, now)
        finally:
            await db.close()

    for group_by, bucket in [([], "DAY"), (["SERVICE", "PRIORITY"], "MONTH"), (["SEVERITY"], None)]:
        now = clock.now()
        report = asyncio.run(run(group_by, bucket, now))
        want = reference(world.rows, world.start, world.end, group_by, bucket, now)
        assert _plain(report) == want, (mode, group_by, bucket)


def _plain(report: Report) -> dict[str, Any]:
    def s(x: Any) -> dict[str, Any]:
        return {
            "count": x.count,
            "openCount": x.open_count,
            "mtta": vars(x.mtta),
            "mttr": vars(x.mttr),
            "slaBreachRate": vars(x.sla_breach_rate),
        }

    return {
        **s(report.summary),
        "buckets": [{"start": at, **s(b)} for at, b in report.buckets],
        "groups": [{"key": list(k), **s(g)} for k, g in report.groups],
    }


def test_too_many_incidents_is_a_user_error(world: World) -> None:
    async def run() -> None:
        db = Database(world.uri, world.database)
        try:
            store = StatsStore(db, DEFAULT_SLA, 10, Mode.STREAM)
            await store.report(StatsRequest(IncidentQuery(), world.start, world.end), clock.now())
        finally:
            await db.close()

    from incident_service.domain.errors import DomainError

    with pytest.raises(DomainError, match="more than 10 incidents"):
        asyncio.run(run())


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "from"),
        ({"from": "2026-02-02T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "from"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2025-02-05T00:00:01Z"}, "to"),
        (
            {
                "from": "2026-01-01T00:00:00Z",
                "to": "2026-02-01T00:00:00Z",
                "groupBy": ["SERVICE"] * 2,
            },
            "groupBy",
        ),
    ],
)
def test_bad_ranges_and_groupings_are_validation_errors(
    world: World, variables: dict[str, Any], named: str
) -> None:
    body = world.gql.post(QUERY, variables).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", error
    assert error["message"].startswith(named), error
    assert error["path"] == ["incidentStats"]


def test_unknown_dimension_is_refused_before_execution(world: World) -> None:
    """An enum value outside StatsDimension never reaches the resolver: a request error
    (400, as for any variable of the wrong type) that names the variable."""
    variables = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "groupBy": ["TEAM"]}
    response = world.gql.post(QUERY, variables)
    [error] = response.json()["errors"]
    assert response.status_code == 400 and "$groupBy" in error["message"], error
    assert "StatsDimension" in error["message"]


def test_open_incidents_gauge(world: World) -> None:
    import httpx

    text = httpx.get(world.gql.url.replace("/graphql", "/metrics"), timeout=10).text
    open_now = {p: sum(r.open and r.priority == p for r in world.rows) for p in DEFAULT_SLA}
    for priority, n in open_now.items():
        assert f'incident_service_incidents_open{{priority="{priority}"}} {float(n)}' in text
    assert "# TYPE incident_service_sla_breaches_total counter" in text
