"""The report's math: percentiles, buckets, breach rules, grouping, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_service.domain.enums import Priority
from incident_service.domain.errors import DomainError
from incident_service.domain.priority import DEFAULT_SLA, SlaTarget
from incident_service.domain.query import IncidentQuery
from incident_service.domain.stats import (
    Bucket,
    Dimension,
    Row,
    StatsRequest,
    bucket_start,
    bucket_starts,
    check_request,
    group_keys,
    outcome,
    percentile,
    rank,
    tally,
)

T0 = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)  # a Wednesday
TARGET = SlaTarget(timedelta(minutes=5), timedelta(hours=4))


def row(**kw: object) -> Row:
    base: dict[str, object] = {
        "priority": Priority.P1,
        "category": "OUTAGE",
        "impact": "HIGH",
        "service_ids": (),
        "declared_at": T0,
        "started_at": T0,
        "acknowledged_at": None,
        "resolved_at": None,
        "open": True,
    }
    return Row(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "p", "expected"),
    [(1, 50, 1), (2, 50, 1), (3, 50, 2), (10, 90, 9), (11, 90, 10), (1, 90, 1)],
)
def test_nearest_rank(n: int, p: int, expected: int) -> None:
    assert rank(n, p) == expected


def test_percentile_is_a_value_that_occurred() -> None:
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 90) == 40
    assert percentile([], 50) is None


def test_buckets_are_utc_day_iso_week_and_month() -> None:
    assert bucket_start(T0, Bucket.DAY) == datetime(2026, 3, 4, tzinfo=UTC)
    assert bucket_start(T0, Bucket.WEEK) == datetime(2026, 3, 2, tzinfo=UTC)  # Monday
    sunday = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
    assert bucket_start(sunday, Bucket.WEEK) == datetime(2026, 3, 2, tzinfo=UTC)
    assert bucket_start(T0, Bucket.MONTH) == datetime(2026, 3, 1, tzinfo=UTC)
    # Another zone's evening is the next UTC day.
    from zoneinfo import ZoneInfo

    evening = datetime(2026, 3, 4, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert bucket_start(evening, Bucket.DAY) == datetime(2026, 3, 5, tzinfo=UTC)


def test_every_bucket_of_the_range_including_december() -> None:
    starts = bucket_starts(
        datetime(2025, 11, 15, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), Bucket.MONTH
    )
    assert [s.month for s in starts] == [11, 12, 1]
    weeks = bucket_starts(T0, T0 + timedelta(days=7), Bucket.WEEK)
    assert weeks == [datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)]


def test_breach_rules() -> None:
    now = T0 + timedelta(days=1)
    on_time = outcome(row(acknowledged_at=T0 + timedelta(minutes=5)), TARGET, now)
    assert on_time.ack_ms == 300_000 and on_time.ack_settled and not on_time.ack_breached
    late = outcome(row(acknowledged_at=T0 + timedelta(minutes=5, milliseconds=1)), TARGET, now)
    assert late.ack_breached
    missing = outcome(row(), TARGET, now)
    assert missing.ack_ms is None and missing.ack_settled and missing.ack_breached
    pending = outcome(row(), TARGET, T0 + timedelta(minutes=1))
    assert not pending.ack_settled and not pending.ack_breached
    assert not pending.resolve_settled


def test_resolution_counts_only_once_resolved() -> None:
    now = T0 + timedelta(hours=1)
    resolved = row(resolved_at=T0 + timedelta(minutes=30), open=False)
    o = outcome(resolved, TARGET, now)
    assert o.resolve_ms == 1_800_000 and o.resolve_settled and not o.resolve_breached
    # A reopened incident: open again, its earlier resolution does not count.
    reopened = outcome(row(resolved_at=T0 + timedelta(minutes=30), open=True), TARGET, now)
    assert reopened.resolve_ms is None and not reopened.resolve_settled


def test_the_clock_starts_at_detection() -> None:
    detected = row(started_at=T0 - timedelta(minutes=10), acknowledged_at=T0)
    o = outcome(detected, TARGET, T0 + timedelta(days=1))
    assert o.ack_ms == 600_000 and o.ack_breached


def test_groups_are_the_product_of_values_and_services_count_in_each() -> None:
    r = row(service_ids=("a", "b"))
    assert group_keys(r, [Dimension.SEVERITY, Dimension.SERVICE]) == [("HIGH", "a"), ("HIGH", "b")]
    assert group_keys(row(), [Dimension.SERVICE]) == [(None,)]
    assert group_keys(r, [Dimension.PRIORITY, Dimension.CATEGORY]) == [("P1", "OUTAGE")]


def test_tally_means_percentiles_rates_and_empty_buckets() -> None:
    now = T0 + timedelta(days=30)
    rows = [
        row(
            acknowledged_at=T0 + timedelta(minutes=m),
            resolved_at=T0 + timedelta(hours=h),
            open=False,
        )
        for m, h in ((1, 1), (2, 2), (10, 5))
    ] + [row(declared_at=T0 + timedelta(days=2), service_ids=("a",))]
    request = StatsRequest(
        IncidentQuery(),
        T0 - timedelta(days=1),
        T0 + timedelta(days=3),
        (Dimension.SERVICE,),
        Bucket.DAY,
    )
    report = tally(request, rows, DEFAULT_SLA, now)
    s = report.summary
    assert (s.count, s.open_count) == (4, 1)
    assert s.mtta.mean == 260.0 and s.mtta.p50 == 120.0 and s.mtta.p90 == 600.0
    assert s.mttr.p50 == 7200.0
    assert s.sla_breach_rate.acknowledge == 2 / 4  # 10 min late, and the never acknowledged
    assert s.sla_breach_rate.resolve == 2 / 4
    assert [b.count for _, b in report.buckets] == [0, 3, 0, 1, 0]
    assert report.buckets[0][1].mtta.mean is None
    assert [k for k, _ in report.groups] == [("a",), (None,)]


def test_check_request_names_the_argument() -> None:
    def field(**kw: object) -> tuple[str, ...] | None:
        args: dict[str, object] = {
            "start": T0,
            "end": T0 + timedelta(days=1),
            "group_by": None,
            "bucket": None,
            "max_range_days": 400,
            **kw,
        }
        with pytest.raises(DomainError) as raised:
            check_request(**args)  # type: ignore[arg-type]
        return raised.value.field

    assert field(end=T0) == ("input", "from")
    assert field(end=T0 + timedelta(days=400, seconds=1)) == ("input", "to")
    assert field(group_by=[Dimension.SERVICE, Dimension.SERVICE]) == ("input", "groupBy")
    ok = check_request(
        T0, T0 + timedelta(days=400), [Dimension.PRIORITY], Bucket.WEEK, max_range_days=400
    )
    assert ok == ((Dimension.PRIORITY,), Bucket.WEEK)
