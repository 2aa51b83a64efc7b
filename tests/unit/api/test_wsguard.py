"""The per-connection frame budget (pure, with a clock of our own)."""

from __future__ import annotations

from incident_service.api.wsguard import FrameBudget


def test_a_minute_of_frames_at_once_then_the_steady_rate() -> None:
    now = [0.0]
    budget = FrameBudget(60, clock=lambda: now[0])
    assert all(budget.take() for _ in range(60))
    assert not budget.take()
    now[0] += 1.0  # one frame a second comes back
    assert budget.take()
    assert not budget.take()
    now[0] += 3600  # never more than a minute's worth saved up
    assert sum(budget.take() for _ in range(100)) == 60
