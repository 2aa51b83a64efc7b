"""Websocket frames of the wrong shape are named before Strawberry sees them."""

from __future__ import annotations

import pytest

from incident_service.api.wsframes import frame_problem


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"type": "connection_init", "payload": {}}, None),
        ({"type": "ping"}, None),
        ({"id": "1", "type": "subscribe", "payload": {"query": "{ a }", "variables": None}}, None),
        ([1], "a message must be a JSON object"),
        ("x", "a message must be a JSON object"),
        ({"type": 1}, "a message needs a string `type`"),
        ({"id": 1, "type": "complete"}, "`id` must be a string"),
        ({"id": "1", "type": "subscribe", "payload": []}, "`payload` must be an object"),
        ({"id": "1", "type": "start", "payload": {"query": 1}}, "`payload.query` must be a string"),
        ({"id": "1", "type": "start", "payload": {}}, "`payload.query` must be a string"),
        (
            {"id": "1", "type": "subscribe", "payload": {"extensions": {"persistedQuery": {}}}},
            None,
        ),
        (
            {"id": "1", "type": "subscribe", "payload": {"query": "{a}", "variables": [1]}},
            "`payload.variables` has the wrong type",
        ),
    ],
)
def test_websocket_frame_shapes(frame: object, problem: str | None) -> None:
    assert frame_problem(frame) == problem
