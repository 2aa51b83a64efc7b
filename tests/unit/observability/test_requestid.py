"""Request ids: a client's sane id is kept, anything else replaced."""

from __future__ import annotations

from incident_service.observability import requestid


def test_request_ids() -> None:
    assert requestid.accept("abc-123_X.y:z") == "abc-123_X.y:z"
    for bad in (None, "", "has space", "x" * 129, "new\nline"):
        fresh = requestid.accept(bad)
        assert fresh != bad and len(fresh) == 32
