"""Label hygiene and change-stream lag of the metrics module."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bson.timestamp import Timestamp
from prometheus_client import Counter, Info
from prometheus_client.metrics import MetricWrapperBase

from incident_service.observability import metrics


def lag_count() -> tuple[float, float]:
    return metrics.CHANGE_STREAM_LAG._sum.get(), sum(  # type: ignore[attr-defined]
        b.get()
        for b in metrics.CHANGE_STREAM_LAG._buckets  # type: ignore[attr-defined]
    )


def test_operation_labels_are_plain_short_and_bounded() -> None:
    labels = metrics.OperationLabels(frozenset({"ListIncidents"}), limit=2)
    assert labels.label(None, signed_in=True) == "anonymous"
    assert labels.label("ListIncidents", signed_in=True) == "ListIncidents"
    assert labels.label("x" * 65, signed_in=True) == "other"
    assert labels.label('bad"name', signed_in=True) == "other"
    assert labels.label("One", signed_in=True) == "One"
    assert labels.label("Two", signed_in=True) == "Two"
    assert labels.label("Three", signed_in=True) == "other"
    assert labels.label("One", signed_in=True) == "One"


def test_anonymous_callers_get_labels_only_for_shipped_operations() -> None:
    labels = metrics.OperationLabels(frozenset({"StatusPage"}))
    assert labels.label("StatusPage", signed_in=False) == "StatusPage"
    # An anonymous flood of made-up names takes no label away from real operations.
    assert {labels.label(f"Flood{n}", signed_in=False) for n in range(1000)} == {"other"}
    assert labels.label("FrontendQuery", signed_in=True) == "FrontendQuery"


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
