"""Label hygiene and change-stream lag of the metrics module."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from bson.timestamp import Timestamp
from prometheus_client import Counter, Info
from prometheus_client.metrics import MetricWrapperBase

from incident_service.observability import metrics


def lag_count() -> tuple[float, float]:
    return metrics.CHANGE_STREAM_LAG._sum.get(), sum(  # type: ignore[attr-defined]
        b.get()
        for b in metrics.CHANGE_STREAM_LAG._buckets  # type: ignore[attr-defined]
    )


def test_operation_labels_are_plain_short_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("ListIncidents") == "ListIncidents"
    assert metrics.operation_label("x" * 65) == "other"
    assert metrics.operation_label('bad"name') == "other"
    monkeypatch.setattr(metrics, "_seen_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 2)
    assert metrics.operation_label("One") == "One"
    assert metrics.operation_label("Two") == "Two"
    assert metrics.operation_label("Three") == "other"
    assert metrics.operation_label("One") == "One"


def test_change_lag_from_wall_time_or_cluster_time() -> None:
    now = 1_800_000_000.5
    wall = datetime.fromtimestamp(now - 0.25, UTC)
    sum0, count0 = lag_count()
    metrics.observe_change({"wallTime": wall}, now=now)
    metrics.observe_change({"wallTime": wall.replace(tzinfo=None)}, now=now)
    metrics.observe_change({"clusterTime": Timestamp(int(now) - 2, 1)}, now=now)
    metrics.observe_change({}, now=now)  # no time at all: counted, no lag sample
    sum1, count1 = lag_count()
    assert count1 - count0 == 3
    assert abs((sum1 - sum0) - (0.25 + 0.25 + 2.5)) < 1e-6
    assert metrics.CHANGE_STREAM_LAST_EVENT._value.get() == now  # type: ignore[attr-defined]


def test_every_metric_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text()
    exposed = []
    for obj in vars(metrics).values():
        if isinstance(obj, MetricWrapperBase):
            name = obj._name  # type: ignore[attr-defined]
            # The names a scrape shows (and docs/operations.md documents).
            suffix = {Counter: "_total", Info: "_info"}.get(type(obj), "")
            exposed.append(name + suffix)
    assert len(exposed) >= 15
    for name in exposed:
        assert name in docs, f"{name} is not in the metrics list of docs/operations.md"
