"""The service's notion of now: UTC, truncated to what MongoDB stores (ms)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)
