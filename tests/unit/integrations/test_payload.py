"""Reading a sender's values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident_service.integrations.payload import InvalidPayload, string_map, text, timestamp


def test_timestamps_with_nanoseconds_or_zero_time() -> None:
    assert timestamp("2026-01-01T00:00:00.123456789Z", "t") == datetime(
        2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC
    )
    assert timestamp("0001-01-01T00:00:00Z", "t") is None
    assert timestamp(None, "t") is None


@pytest.mark.parametrize("value", ["tomorrow", "2026-01-01T00:00:00", 5, "x" * 100])
def test_bad_timestamps_name_the_field(value: object) -> None:
    with pytest.raises(InvalidPayload) as raised:
        timestamp(value, "payload.timestamp")
    assert raised.value.problems[0].field == "payload.timestamp"


def test_text_and_labels() -> None:
    assert text(None, "f") == ""
    with pytest.raises(InvalidPayload):
        text(" ", "f", required=True)
    with pytest.raises(InvalidPayload):
        string_map({"a": 1}, "labels")
