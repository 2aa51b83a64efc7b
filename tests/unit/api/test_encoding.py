"""Answers encode the same JSON as the standard library, including what orjson refuses."""

from __future__ import annotations

import json

from incident_service.api.encoding import dumps


def test_the_same_json_as_the_standard_library() -> None:
    answer = {"data": {"incident": {"title": "Zürich ☃", "n": 3, "ok": True, "x": None}}}
    assert dumps(answer) == json.dumps(answer, separators=(",", ":"), ensure_ascii=False)


def test_what_orjson_refuses_is_still_encoded() -> None:
    huge = {"data": {"scalar": 10**30}, "extensions": {1: "non-string key"}}
    assert json.loads(dumps(huge)) == {
        "data": {"scalar": 10**30},
        "extensions": {"1": "non-string key"},
    }


def test_a_lone_surrogate_is_escaped_not_an_error() -> None:
    # orjson refuses it; the text must still be sendable (ASCII).
    assert dumps({"data": {"ids": ["\ud800"]}}) == '{"data":{"ids":["\\ud800"]}}'
