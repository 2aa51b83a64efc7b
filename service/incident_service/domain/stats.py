"""Incident reports: which incidents count, and every number of `incidentStats`.

The definitions (docs/reports.md) in code. The store computes the same numbers
in a database pipeline where the server can, else it streams one `Row` per
incident through a `Tally`; both end in `summarize`, so rounding is the same.

Durations are whole milliseconds (MongoDB dates have millisecond precision)
until `summarize` turns them into seconds: means are one division of exact
integers, percentiles are nearest-rank (a value that occurred), so a
reference computed elsewhere agrees to the last bit.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from incident_service.domain.enums import Priority
from incident_service.domain.errors import validation
from incident_service.domain.priority import SlaTarget
from incident_service.domain.query import IncidentQuery


class Dimension(StrEnum):
    """What `groupBy` groups by (SEVERITY is the incident's impact)."""

    PRIORITY = "PRIORITY"
    CATEGORY = "CATEGORY"
    SERVICE = "SERVICE"
    SEVERITY = "SEVERITY"


class Bucket(StrEnum):
    """Calendar buckets in UTC; a week starts on Monday (ISO 8601)."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


#: The percentiles every duration summary reports.
PERCENTILES = (50, 90)


@dataclass(frozen=True)
class StatsRequest:
    """One report: incidents matching `query` and declared in [start, end)."""

    query: IncidentQuery
    start: datetime
    end: datetime
    group_by: tuple[Dimension, ...] = ()
    bucket: Bucket | None = None


def check_request(
    start: datetime,
    end: datetime,
    group_by: Sequence[Dimension] | None,
    bucket: Bucket | None,
    *,
    max_range_days: int,
) -> tuple[tuple[Dimension, ...], Bucket | None]:
    """The dimensions and bucket of a report, or a VALIDATION error naming the argument."""
    if start >= end:
        raise validation("from", "from must be before to")
    if end - start > timedelta(days=max_range_days):
        raise validation("to", f"to must be at most {max_range_days} days after from")
    dims = tuple(group_by or ())
    for dim in dims:
        if dims.count(dim) > 1:
            raise validation("groupBy", f"groupBy names {dim.value} more than once")
    return dims, bucket


def bucket_start(at: datetime, bucket: Bucket) -> datetime:
    """The UTC calendar day, ISO week (Monday 00:00) or month that `at` falls in."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket is Bucket.DAY:
        return day
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: datetime, bucket: Bucket) -> datetime:
    if bucket is Bucket.DAY:
        return start + timedelta(days=1)
    if bucket is Bucket.WEEK:
        return start + timedelta(days=7)
    year, month = divmod(start.month, 12)
    return start.replace(year=start.year + year, month=month + 1)


def bucket_starts(start: datetime, end: datetime, bucket: Bucket) -> list[datetime]:
    """Every bucket that holds part of [start, end), oldest first (empty ones included)."""
    starts: list[datetime] = []
    current = bucket_start(start, bucket)
    while current < end:
        starts.append(current)
        current = next_bucket(current, bucket)
    return starts


def rank(n: int, p: int) -> int:
    """Nearest-rank: the 1-based position of the p-th percentile of n sorted values."""
    return max(1, -(-p * n // 100))


def percentile(ordered: Sequence[int], p: int) -> int | None:
    """The nearest-rank p-th percentile of values sorted ascending; None when empty."""
    return ordered[rank(len(ordered), p) - 1] if ordered else None


def to_ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


@dataclass(frozen=True)
class Row:
    """One incident as a report sees it (the fields the pipeline projects)."""

    priority: Priority
    category: str
    impact: str
    service_ids: tuple[str, ...]
    declared_at: datetime
    #: The clock start: detectedAt, else declaredAt.
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    open: bool

    def key(self, dim: Dimension) -> tuple[str | None, ...]:
        """The values this incident takes for `dim` (SERVICE: one per service, or None)."""
        if dim is Dimension.PRIORITY:
            return (self.priority.value,)
        if dim is Dimension.CATEGORY:
            return (self.category,)
        if dim is Dimension.SEVERITY:
            return (self.impact,)
        return self.service_ids or (None,)


@dataclass(frozen=True)
class Outcome:
    """What one incident adds to a summary."""

    ack_ms: int | None
    resolve_ms: int | None
    ack_settled: bool
    ack_breached: bool
    resolve_settled: bool
    resolve_breached: bool


def _milestone(
    at: datetime | None, started: datetime, target: timedelta, now: datetime
) -> tuple[int | None, bool, bool]:
    """(duration, settled, breached): breached as `Incident.sla` says, i.e. the milestone
    came, or is still missing at `now`, after started + target; settled once it came or
    its due time passed (until then the outcome is open and not counted)."""
    breached = to_ms((at or now) - started) > to_ms(target)
    duration = to_ms(at - started) if at is not None else None
    return duration, at is not None or breached, breached


def outcome(row: Row, target: SlaTarget, now: datetime) -> Outcome:
    ack, ack_settled, ack_breached = _milestone(
        row.acknowledged_at, row.started_at, target.acknowledge, now
    )
    # The last resolution: a reopen clears resolvedAt, so it is set only while the
    # incident is RESOLVED or CLOSED, and then holds the final resolution.
    resolved_at = None if row.open else row.resolved_at
    res, res_settled, res_breached = _milestone(resolved_at, row.started_at, target.resolve, now)
    return Outcome(ack, res, ack_settled, ack_breached, res_settled, res_breached)


@dataclass(frozen=True)
class Parts:
    """A summary before division: what the pipeline returns per key, and a Tally makes."""

    count: int
    open: int
    ack_n: int
    ack_sum: int
    ack_p: tuple[int | None, ...]
    res_n: int
    res_sum: int
    res_p: tuple[int | None, ...]
    ack_settled: int
    ack_breached: int
    res_settled: int
    res_breached: int


@dataclass
class Tally:
    """Streaming accumulator of one key's Parts; memory: 8 bytes per duration."""

    count: int = 0
    open: int = 0
    ack: array[int] = field(default_factory=lambda: array("q"))
    res: array[int] = field(default_factory=lambda: array("q"))
    ack_settled: int = 0
    ack_breached: int = 0
    res_settled: int = 0
    res_breached: int = 0

    def add(self, row: Row, o: Outcome) -> None:
        self.count += 1
        self.open += row.open
        if o.ack_ms is not None:
            self.ack.append(o.ack_ms)
        if o.resolve_ms is not None:
            self.res.append(o.resolve_ms)
        self.ack_settled += o.ack_settled
        self.ack_breached += o.ack_breached
        self.res_settled += o.resolve_settled
        self.res_breached += o.resolve_breached

    def parts(self) -> Parts:
        ack, res = sorted(self.ack), sorted(self.res)
        return Parts(
            count=self.count,
            open=self.open,
            ack_n=len(ack),
            ack_sum=sum(ack),
            ack_p=tuple(percentile(ack, p) for p in PERCENTILES),
            res_n=len(res),
            res_sum=sum(res),
            res_p=tuple(percentile(res, p) for p in PERCENTILES),
            ack_settled=self.ack_settled,
            ack_breached=self.ack_breached,
            res_settled=self.res_settled,
            res_breached=self.res_breached,
        )


@dataclass(frozen=True)
class Durations:
    """Seconds; None when no incident has the duration."""

    mean: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class BreachRate:
    """Fractions 0..1; None when no incident's outcome is settled."""

    acknowledge: float | None
    resolve: float | None


@dataclass(frozen=True)
class Summary:
    count: int
    open_count: int
    mtta: Durations
    mttr: Durations
    sla_breach_rate: BreachRate


def _durations(n: int, total_ms: int, ps: tuple[int | None, ...]) -> Durations:
    if n == 0:
        return Durations(None, None, None)
    p50, p90 = (None if v is None else v / 1000 for v in ps)
    return Durations(total_ms / (n * 1000), p50, p90)


def summarize(parts: Parts) -> Summary:
    return Summary(
        count=parts.count,
        open_count=parts.open,
        mtta=_durations(parts.ack_n, parts.ack_sum, parts.ack_p),
        mttr=_durations(parts.res_n, parts.res_sum, parts.res_p),
        sla_breach_rate=BreachRate(
            parts.ack_breached / parts.ack_settled if parts.ack_settled else None,
            parts.res_breached / parts.res_settled if parts.res_settled else None,
        ),
    )


EMPTY = summarize(Tally().parts())

GroupKey = tuple[str | None, ...]


@dataclass(frozen=True)
class Report:
    summary: Summary
    #: (bucket start, summary), every bucket of the range, oldest first.
    buckets: tuple[tuple[datetime, Summary], ...]
    #: (one value per groupBy dimension, summary), groups with incidents only.
    groups: tuple[tuple[GroupKey, Summary], ...]


def _key_order(key: GroupKey) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def assemble(
    request: StatsRequest,
    overall: Parts | None,
    buckets: Mapping[datetime, Parts],
    groups: Mapping[GroupKey, Parts],
) -> Report:
    """The report from per-key Parts: empty buckets filled in, groups in key order."""
    filled: tuple[tuple[datetime, Summary], ...] = ()
    if request.bucket is not None:
        filled = tuple(
            (s, summarize(buckets[s]) if s in buckets else EMPTY)
            for s in bucket_starts(request.start, request.end, request.bucket)
        )
    ordered = sorted(groups.items(), key=lambda kv: _key_order(kv[0]))
    return Report(
        summary=summarize(overall) if overall else EMPTY,
        buckets=filled,
        groups=tuple((k, summarize(p)) for k, p in ordered),
    )


def group_keys(row: Row, dims: Sequence[Dimension]) -> list[GroupKey]:
    """Every group an incident falls in: the product of its values per dimension."""
    keys: list[GroupKey] = [()]
    for dim in dims:
        keys = [(*k, v) for k in keys for v in row.key(dim)]
    return keys


class Accumulator:
    """The report computed in memory, one row at a time (the streaming path)."""

    def __init__(
        self, request: StatsRequest, targets: Mapping[Priority, SlaTarget], now: datetime
    ) -> None:
        self.request, self.targets, self.now = request, targets, now
        self.overall = Tally()
        self.buckets: dict[datetime, Tally] = {}
        self.groups: dict[GroupKey, Tally] = {}

    def add(self, row: Row) -> None:
        o = outcome(row, self.targets[row.priority], self.now)
        self.overall.add(row, o)
        if self.request.bucket is not None:
            start = bucket_start(row.declared_at, self.request.bucket)
            self.buckets.setdefault(start, Tally()).add(row, o)
        for key in group_keys(row, self.request.group_by) if self.request.group_by else ():
            self.groups.setdefault(key, Tally()).add(row, o)

    def report(self) -> Report:
        return assemble(
            self.request,
            self.overall.parts() if self.overall.count else None,
            {k: t.parts() for k, t in self.buckets.items()},
            {k: t.parts() for k, t in self.groups.items()},
        )


def tally(
    request: StatsRequest,
    rows: Iterable[Row],
    targets: Mapping[Priority, SlaTarget],
    now: datetime,
) -> Report:
    """The report of `rows`, computed in memory."""
    acc = Accumulator(request, targets, now)
    for row in rows:
        acc.add(row)
    return acc.report()
