"""Waiting for what the service does in the background, without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float = 30.0,
    interval: float = 0.2,
    *,
    ignoring: tuple[type[Exception], ...] = (),
    message: str | Callable[[], str] = "condition not met in time",
) -> T:
    """Call `predicate()` until it returns something truthy, and return that.

    An exception of a type in `ignoring` counts as "not yet" (a server that is
    restarting refuses connections for a while); past the timeout the last one
    is chained to the failure. `message` may be a callable, so the failure can
    say what was last seen. The failure is an AssertionError: a test failure.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            value = predicate()
        except ignoring as exc:
            last = exc
        else:
            if value:
                return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout}s)") from last
        time.sleep(interval)
