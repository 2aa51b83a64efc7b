"""Uptime per UTC day: major outage counts fully, partial at 30 %, the rest not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_service.domain import uptime
from incident_service.domain.enums import ComponentStatus as C
from incident_service.domain.errors import DomainError

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _at(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 3, day, tzinfo=UTC) + timedelta(hours=hour)


def test_an_operational_component_is_up_every_day() -> None:
    days = uptime.daily(CREATED, [(_at(1), C.OPERATIONAL)], 10, NOW)
    assert len(days) == 10 and days[-1].date == NOW.date()
    assert all(d.worst_status is C.OPERATIONAL and d.outage_seconds == 0 for d in days)
    assert uptime.percent(CREATED, [(_at(1), C.OPERATIONAL)], 10, NOW) == 100.0


def test_outage_partial_and_degraded_time_per_day() -> None:
    history = [
        (_at(1), C.OPERATIONAL),
        (_at(8, 1), C.MAJOR_OUTAGE),  # 1 h major on the 8th
        (_at(8, 2), C.PARTIAL_OUTAGE),  # 1 h partial
        (_at(8, 3), C.DEGRADED_PERFORMANCE),  # 1 h degraded
        (_at(8, 4), C.UNDER_MAINTENANCE),  # 1 h maintenance
        (_at(8, 5), C.OPERATIONAL),
    ]
    days = {d.date.day: d for d in uptime.daily(CREATED, history, 10, NOW)}
    eighth = days[8]
    assert eighth.worst_status is C.MAJOR_OUTAGE
    assert eighth.outage_seconds == pytest.approx(3600 + 0.3 * 3600)
    assert eighth.degraded_seconds == pytest.approx(3600)
    assert days[9].worst_status is C.OPERATIONAL
    window = (NOW - uptime.window_start(10, NOW)).total_seconds()
    expected = 100 * (window - 1.3 * 3600) / window
    assert uptime.percent(CREATED, history, 10, NOW) == pytest.approx(expected, abs=1e-3)


def test_an_outage_across_midnight_is_split_between_the_days() -> None:
    history = [(_at(1), C.OPERATIONAL), (_at(5, 23), C.MAJOR_OUTAGE), (_at(6, 2), C.OPERATIONAL)]
    days = {d.date.day: d for d in uptime.daily(CREATED, history, 10, NOW)}
    assert days[5].outage_seconds == pytest.approx(3600)
    assert days[6].outage_seconds == pytest.approx(2 * 3600)


def test_days_before_the_component_existed_have_no_data_and_do_not_count() -> None:
    created = _at(9, 12)
    history = [(created, C.OPERATIONAL), (_at(10, 0), C.MAJOR_OUTAGE)]
    days = uptime.daily(created, history, 5, NOW)
    assert [d.worst_status for d in days[:3]] == [None, None, None]
    # 12 hours existed on the 9th up, 12 hours on the 10th down: 50 %.
    assert uptime.percent(created, history, 5, NOW) == pytest.approx(50.0)


def test_the_status_at_the_window_start_holds_until_the_first_change() -> None:
    history = [(uptime.window_start(3, NOW), C.MAJOR_OUTAGE), (_at(9), C.OPERATIONAL)]
    days = uptime.daily(CREATED, history, 3, NOW)
    assert days[0].outage_seconds == pytest.approx(86400)
    assert days[1].outage_seconds == 0


@pytest.mark.parametrize("days", [0, -1, 367])
def test_days_out_of_range(days: int) -> None:
    with pytest.raises(DomainError) as err:
        uptime.check_days(days)
    assert err.value.field == ("input", "days")
