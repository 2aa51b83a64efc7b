"""Incident reports from the database: one aggregation pipeline, or a bounded stream.

`PIPELINE` computes every number in the server ($match on indexed fields,
$dateTrunc, $facet, $group with $push, $sortArray for nearest-rank
percentiles: MongoDB 5.2+, and the embedded SecantusDB). Where a server
refuses a stage or operator, the report falls back to `STREAM`: the same
$match and a projection, and the sums and percentiles in Python, one row at
a time (memory: 8 bytes per duration per key, and at most `max_incidents`
incidents). Both paths end in `domain.stats.summarize`; the integration
tests run both and compare them with a reference.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.errors import OperationFailure

from incident_service.domain.enums import Priority
from incident_service.domain.errors import validation
from incident_service.domain.priority import SlaTarget
from incident_service.domain.stats import (
    PERCENTILES,
    Accumulator,
    Bucket,
    Dimension,
    GroupKey,
    Parts,
    Report,
    Row,
    StatsRequest,
    assemble,
    to_ms,
)
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.incidents import to_filter

log = logging.getLogger("incident_service.stats")


class Mode(StrEnum):
    """Where a report is computed."""

    #: PIPELINE on MongoDB, STREAM on SecantusDB (its pipeline engine is Python and
    #: slower than streaming the projected rows); STREAM from the first refusal on.
    AUTO = "AUTO"
    PIPELINE = "PIPELINE"
    STREAM = "STREAM"


#: Document field of each dimension (SEVERITY is the incident's impact).
_FIELDS: dict[Dimension, str] = {
    Dimension.PRIORITY: "priority",
    Dimension.CATEGORY: "category",
    Dimension.SERVICE: "serviceIds",
    Dimension.SEVERITY: "impact",
}

_UNITS: dict[Bucket, dict[str, str]] = {
    Bucket.DAY: {"unit": "day"},
    Bucket.WEEK: {"unit": "week", "startOfWeek": "monday"},
    Bucket.MONTH: {"unit": "month"},
}

_PROJECTION: Doc = {
    "_id": 0,
    "priority": 1,
    "category": 1,
    "impact": 1,
    "serviceIds": 1,
    "declaredAt": 1,
    "detectedAt": 1,
    "acknowledgedAt": 1,
    "resolvedAt": 1,
    "open": 1,
}


class TooManyIncidents(Exception):
    pass


def _missing(expr: Any) -> Doc:
    """True when the field is null or absent."""
    return {"$eq": [{"$ifNull": [expr, None]}, None]}


def _by_priority(targets: dict[Priority, SlaTarget], attr: str) -> Doc:
    return {
        "$switch": {
            "branches": [
                {"case": {"$eq": ["$priority", p.value]}, "then": to_ms(getattr(t, attr))}
                for p, t in targets.items()
            ],
            # A priority outside the table (never written) is never breached.
            "default": 2**62,
        }
    }


def _milestone(at: str, target: Doc, now: datetime) -> Doc:
    """The pipeline's twin of `domain.stats._milestone`."""
    elapsed = {"$subtract": [{"$ifNull": [at, now]}, "$s"]}
    return {
        "ms": {"$cond": [_missing(at), None, {"$subtract": [at, "$s"]}]},
        "breached": {"$gt": [elapsed, target]},
    }


def _rows(targets: dict[Priority, SlaTarget], now: datetime, bucket: Bucket | None) -> list[Doc]:
    """Per incident: durations (ms), settled and breached flags, bucket start."""
    ack = _milestone("$acknowledgedAt", _by_priority(targets, "acknowledge"), now)
    # Only RESOLVED / CLOSED incidents hold a resolution (a reopen clears resolvedAt).
    resolved = {"$cond": ["$open", None, "$resolvedAt"]}
    res = _milestone("$r", _by_priority(targets, "resolve"), now)
    first: Doc = {
        "priority": 1,
        "category": 1,
        "impact": 1,
        "serviceIds": 1,
        "declaredAt": 1,
        "open": 1,
        "acknowledgedAt": 1,
        "s": {"$ifNull": ["$detectedAt", "$declaredAt"]},
        "r": resolved,
    }
    second: Doc = {
        "priority": 1,
        "category": 1,
        "impact": 1,
        "serviceIds": 1,
        "o": {"$cond": ["$open", 1, 0]},
        "a": ack["ms"],
        "ab": {"$cond": [ack["breached"], 1, 0]},
        "as": {
            "$cond": [{"$or": [{"$not": [_missing("$acknowledgedAt")]}, ack["breached"]]}, 1, 0]
        },
        "m": res["ms"],
        "mb": {"$cond": [res["breached"], 1, 0]},
        "ms": {"$cond": [{"$or": [{"$not": [_missing("$r")]}, res["breached"]]}, 1, 0]},
    }
    if bucket is not None:
        second["b"] = {"$dateTrunc": {"date": "$declaredAt", "timezone": "UTC", **_UNITS[bucket]}}
    return [{"$project": first}, {"$project": second}]


def _percentiles(values: str) -> Doc:
    """Nearest-rank percentiles of a sorted array field (null when it is empty)."""
    n = {"$size": values}
    return {
        f"p{p}": {
            "$arrayElemAt": [
                values,
                {
                    "$max": [
                        0,
                        {"$subtract": [{"$ceil": {"$divide": [{"$multiply": [n, p]}, 100]}}, 1]},
                    ]
                },
            ]
        }
        for p in PERCENTILES
    }


def _summary(key: Any) -> list[Doc]:
    group: Doc = {
        "_id": key,
        "n": {"$sum": 1},
        "o": {"$sum": "$o"},
        "aSum": {"$sum": "$a"},
        "aAll": {"$push": "$a"},
        "mSum": {"$sum": "$m"},
        "mAll": {"$push": "$m"},
        **{f: {"$sum": f"${f}"} for f in ("ab", "as", "mb", "ms")},
    }
    sort = {
        "$sortArray": {
            "input": {"$filter": {"input": "$$v", "cond": {"$ne": ["$$this", None]}}},
            "sortBy": 1,
        }
    }
    keep = {f: 1 for f in ("n", "o", "aSum", "mSum", "ab", "as", "mb", "ms")}
    return [
        {"$group": group},
        {
            "$project": {
                **keep,
                "aSorted": {"$let": {"vars": {"v": "$aAll"}, "in": sort}},
                "mSorted": {"$let": {"vars": {"v": "$mAll"}, "in": sort}},
            }
        },
        {
            "$project": {
                **keep,
                "aN": {"$size": "$aSorted"},
                "mN": {"$size": "$mSorted"},
                "a": _percentiles("$aSorted"),
                "m": _percentiles("$mSorted"),
            }
        },
    ]


def _parts(d: Doc) -> Parts:
    return Parts(
        count=d["n"],
        open=d["o"],
        ack_n=d["aN"],
        ack_sum=d["aSum"],
        ack_p=tuple(d["a"].get(f"p{p}") for p in PERCENTILES),
        res_n=d["mN"],
        res_sum=d["mSum"],
        res_p=tuple(d["m"].get(f"p{p}") for p in PERCENTILES),
        ack_settled=d["as"],
        ack_breached=d["ab"],
        res_settled=d["ms"],
        res_breached=d["mb"],
    )


def _row(d: Doc) -> Row:
    return Row(
        priority=Priority(d["priority"]),
        category=d["category"],
        impact=d["impact"],
        service_ids=tuple(d.get("serviceIds") or ()),
        declared_at=d["declaredAt"],
        started_at=d.get("detectedAt") or d["declaredAt"],
        acknowledged_at=d.get("acknowledgedAt"),
        resolved_at=d.get("resolvedAt"),
        open=bool(d["open"]),
    )


class StatsStore:
    """`incidentStats` and the open-incident counts behind the gauge."""

    def __init__(
        self,
        database: Database,
        targets: dict[Priority, SlaTarget],
        max_incidents: int,
        mode: Mode = Mode.AUTO,
    ) -> None:
        self._db = database
        self._incidents = database.incidents
        self._targets = targets
        self._max = max_incidents
        self.mode = mode
        #: Whether a refused pipeline falls back to streaming (AUTO only).
        self._fallback = False

    def _filter(self, request: StatsRequest) -> Doc:
        window = {"declaredAt": {"$gte": request.start, "$lt": request.end}}
        mongo = to_filter(request.query)
        return {"$and": [mongo, window]} if mongo else window

    async def _engine(self) -> Mode:
        if self.mode is Mode.AUTO:
            info = await self._db.client.admin.command("buildInfo")
            self.mode = Mode.STREAM if "secantusVersion" in info else Mode.PIPELINE
            self._fallback = self.mode is Mode.PIPELINE
            log.info("incidentStats computed by %s", self.mode.value)
        return self.mode

    async def report(self, request: StatsRequest, now: datetime) -> Report:
        """The report, or a VALIDATION error when it covers more than `max_incidents`."""
        # Dates in the database have millisecond precision: so has `now` here.
        now = now - timedelta(microseconds=now.microsecond % 1000)
        try:
            if await self._engine() is Mode.PIPELINE:
                try:
                    return await self._pipeline(request, now)
                except OperationFailure as exc:
                    if not self._fallback:
                        raise
                    log.warning("the server refused the stats pipeline (%s): streaming", exc)
                    self.mode = Mode.STREAM
            return await self._stream(request, now)
        except TooManyIncidents:
            raise validation(
                "from",
                f"the report covers more than {self._max} incidents: "
                "narrow the range (from .. to) or the filter",
            ) from None

    async def _pipeline(self, request: StatsRequest, now: datetime) -> Report:
        facets: Doc = {"all": _summary(None)}
        if request.bucket is not None:
            facets["buckets"] = _summary("$b")
        if request.group_by:
            unwind: list[Doc] = []
            if Dimension.SERVICE in request.group_by:
                unwind = [{"$unwind": {"path": "$serviceIds", "preserveNullAndEmptyArrays": True}}]
            key = {d.value: f"${_FIELDS[d]}" for d in request.group_by}
            facets["groups"] = [*unwind, *_summary(key)]
        pipeline: list[Doc] = [
            {"$match": self._filter(request)},
            # One more than the cap: enough to tell that a report is too large.
            {"$limit": self._max + 1},
            *_rows(self._targets, now, request.bucket),
            {"$facet": facets},
        ]
        cursor = await self._incidents.aggregate(pipeline, allowDiskUse=True)
        result = (await cursor.to_list())[0]
        overall = result["all"][0] if result["all"] else None
        if overall and overall["n"] > self._max:
            raise TooManyIncidents
        buckets = {_utc(d["_id"]): _parts(d) for d in result.get("buckets", ())}
        groups: dict[GroupKey, Parts] = {
            tuple(d["_id"].get(dim.value) for dim in request.group_by): _parts(d)
            for d in result.get("groups", ())
        }
        return assemble(request, _parts(overall) if overall else None, buckets, groups)

    async def _stream(self, request: StatsRequest, now: datetime) -> Report:
        # A find with a projection: the least work a server can do for the rows.
        cursor = self._incidents.find(self._filter(request), _PROJECTION, batch_size=1000)
        acc = Accumulator(request, self._targets, now)
        async for doc in cursor:
            if acc.overall.count == self._max:
                await cursor.close()
                raise TooManyIncidents
            acc.add(_row(doc))
        return acc.report()

    async def open_by_priority(self) -> dict[Priority, int]:
        """Open incidents per priority (each count is an index-only count)."""
        return {
            p: await self._incidents.count_documents({"open": True, "priority": p.value})
            for p in Priority
        }


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
