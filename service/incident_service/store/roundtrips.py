"""Database round trips counted per GraphQL operation, so an N+1 shows in /metrics.

PyMongo tells a command listener about every command it sends, synchronously,
in the task that sends it; the count goes to whatever `counting()` box the
task's context holds (DataLoader batches run in tasks that inherit it). Commands
of no operation (the change stream, the job worker) find no box and are not
counted.
"""

from __future__ import annotations

from contextvars import ContextVar

from pymongo import monitoring

_box: ContextVar[list[int] | None] = ContextVar("database_round_trips", default=None)


class RoundTrips(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        box = _box.get()
        if box is not None:
            box[0] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def counting() -> list[int]:
    """Start counting this context's round trips; the box holds the count so far."""
    box = [0]
    _box.set(box)
    return box


def stop_counting() -> None:
    _box.set(None)
