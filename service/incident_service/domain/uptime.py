"""Uptime of a component per UTC day, from the history of its effective status.

The rule, as Statuspage applies it: time in MAJOR_OUTAGE counts fully as
downtime, time in PARTIAL_OUTAGE counts at 30 %, DEGRADED_PERFORMANCE is
reported but is not downtime, and maintenance is planned, so not downtime
either. Days before the component existed have no data and do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from incident_service.domain.enums import ComponentStatus
from incident_service.domain.errors import validation
from incident_service.domain.service import SEVERITY

PARTIAL_OUTAGE_WEIGHT = 0.3
MAX_DAYS = 366
DAY = timedelta(days=1)


@dataclass(frozen=True)
class UptimeDay:
    date: date
    #: The worst status of the day; None for a day before the component existed.
    worst_status: ComponentStatus | None
    #: Downtime: MAJOR_OUTAGE seconds plus 30 % of PARTIAL_OUTAGE seconds.
    outage_seconds: float
    degraded_seconds: float


def check_days(days: int, field: str = "days") -> int:
    if not 1 <= days <= MAX_DAYS:
        raise validation(field, f"{field} must be between 1 and {MAX_DAYS} (got {days})")
    return days


def window_start(days: int, now: datetime) -> datetime:
    """Midnight UTC starting the first of `days` days that end with today."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - (days - 1) * DAY


def daily(
    created_at: datetime,
    history: Sequence[tuple[datetime, ComponentStatus]],
    days: int,
    now: datetime,
) -> list[UptimeDay]:
    """One entry per UTC day, oldest first, ending today.

    `history` holds (since, status) changes in time order; its first entry is
    the status in force at the window's start (or the creation).
    """
    start = window_start(days, now)
    result: list[UptimeDay] = []
    for n in range(days):
        day_start = start + n * DAY
        day_end = min(day_start + DAY, now)
        lived_from = max(day_start, created_at)
        if lived_from >= day_end:
            result.append(UptimeDay(day_start.date(), None, 0.0, 0.0))
            continue
        worst = ComponentStatus.OPERATIONAL
        outage = degraded = 0.0
        for since, until, status in _periods(history, lived_from, day_end):
            seconds = (until - since).total_seconds()
            if SEVERITY.index(status) > SEVERITY.index(worst):
                worst = status
            if status is ComponentStatus.MAJOR_OUTAGE:
                outage += seconds
            elif status is ComponentStatus.PARTIAL_OUTAGE:
                outage += PARTIAL_OUTAGE_WEIGHT * seconds
            elif status is ComponentStatus.DEGRADED_PERFORMANCE:
                degraded += seconds
        result.append(UptimeDay(day_start.date(), worst, outage, degraded))
    return result


def percent(
    created_at: datetime,
    history: Sequence[tuple[datetime, ComponentStatus]],
    days: int,
    now: datetime,
) -> float:
    """Uptime over the window as a percentage of the time the component existed in it."""
    start = max(window_start(days, now), created_at)
    total = (now - start).total_seconds()
    if total <= 0:
        return 100.0
    down = sum(d.outage_seconds for d in daily(created_at, history, days, now))
    return round(max(0.0, 100.0 * (total - down) / total), 4)


def _periods(
    history: Sequence[tuple[datetime, ComponentStatus]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, ComponentStatus]]:
    """The (from, to, status) pieces of [start, end)."""
    pieces: list[tuple[datetime, datetime, ComponentStatus]] = []
    for i, (since, status) in enumerate(history):
        until = history[i + 1][0] if i + 1 < len(history) else end
        lo, hi = max(since, start), min(until, end)
        if lo < hi:
            pieces.append((lo, hi, status))
    if not history or history[0][0] > start:
        first = history[0][0] if history else end
        pieces.insert(0, (start, min(first, end), ComponentStatus.OPERATIONAL))
    return [p for p in pieces if p[0] < p[1]]
