"""Maintenance windows: SCHEDULED -> IN_PROGRESS -> COMPLETED at their times, or CANCELLED."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_service.domain import maintenance as m
from incident_service.domain.enums import MaintenanceStatus as S
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from tests.unit.helpers import ACTOR, T0, at

WEEK = timedelta(days=7)


def _window(start: int = 10, end: int = 70) -> m.Maintenance:
    return m.schedule(
        m.Schedule(title="DB upgrade", starts_at=at(start), ends_at=at(end), service_ids=["s1"]),
        id="m1",
        now=T0,
        actor=ACTOR,
        max_window=WEEK,
    )


def test_the_clock_starts_and_ends_it() -> None:
    window = _window()
    assert window.status is S.SCHEDULED and m.next_due_at(window) == at(10)
    assert m.due(window, at(9)) is None and m.due(window, at(10)) is S.IN_PROGRESS
    started = m.start(window, at(10))
    assert started.status is S.IN_PROGRESS and started.started_at == at(10)
    assert m.next_due_at(started) == at(70) and m.due(started, at(70)) is S.COMPLETED
    done = m.complete(started, at(70))
    assert (
        done.status is S.COMPLETED and m.next_due_at(done) is None and m.due(done, at(99)) is None
    )
    assert [u.status for u in done.updates] == [S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(10, 10, "endsAt"), (10, 5, "endsAt"), (10, 10 + 8 * 24 * 60, "endsAt"), (-20, -10, "endsAt")],
)
def test_bad_windows_name_the_field(start: int, end: int, field: str) -> None:
    with pytest.raises(DomainError) as err:
        _window(start, end)
    assert err.value.code is UserErrorCode.VALIDATION and err.value.field == ("input", field)


def test_only_a_scheduled_window_can_be_cancelled_and_only_a_running_one_completed() -> None:
    window = _window()
    with pytest.raises(DomainError):
        m.complete(window, at(1))
    cancelled = m.cancel(window, at(1), "Postponed")
    assert cancelled.status is S.CANCELLED and cancelled.updates[-1].body == "Postponed"
    with pytest.raises(DomainError):
        m.cancel(m.start(_window(), at(10)), at(11))
    with pytest.raises(DomainError):
        m.change(cancelled, m.Changes(title="x"), now=at(2), max_window=WEEK)


def test_a_started_window_can_move_its_end_but_not_its_start() -> None:
    started = m.start(_window(), at(10))
    longer = m.change(started, m.Changes(ends_at=at(90)), now=at(20), max_window=WEEK)
    assert longer.ends_at == at(90) and longer.version == started.version + 1
    with pytest.raises(DomainError) as err:
        m.change(started, m.Changes(starts_at=at(15)), now=at(20), max_window=WEEK)
    assert err.value.field == ("input", "startsAt")
    assert m.change(started, m.Changes(), now=at(20), max_window=WEEK) is started
