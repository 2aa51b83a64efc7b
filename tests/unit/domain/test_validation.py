"""Input limits: titles 1..200, texts up to 20,000, labels, names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_service.domain import incident as domain
from incident_service.domain import validation
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from tests.unit.helpers import ACTOR, T0, at, declared


def _declare(**kw: object) -> domain.Change:
    cmd = domain.Declaration(**{"title": "t", **kw})  # type: ignore[arg-type]
    return domain.declare(cmd, id="1" * 24, number=1, now=T0, actor=ACTOR)


def _refused(field: str, fn: object, *args: object, **kw: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kw)  # type: ignore[operator]
    assert caught.value.code is UserErrorCode.VALIDATION
    assert caught.value.field == ("input", field)
    return caught.value


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_empty_title_refused(title: str) -> None:
    error = _refused("title", _declare, title=title)
    assert "must not be empty" in error.message


@pytest.mark.parametrize("length", [201, 100 * 1024])
def test_long_title_refused(length: int) -> None:
    error = _refused("title", _declare, title="x" * length)
    assert "at most 200" in error.message and str(length) in error.message


def test_title_bounds_accepted_and_trimmed() -> None:
    assert _declare(title="x").incident.title == "x"
    assert _declare(title="y" * 200).incident.title == "y" * 200
    assert _declare(title="  padded  ").incident.title == "padded"


def test_description_limit() -> None:
    assert _declare(description="d" * 20_000).incident.description == "d" * 20_000
    _refused("description", _declare, description="d" * 20_001)
    assert _declare(description="   ").incident.description is None


def test_note_limits() -> None:
    incident = declared()
    _refused("body", domain.add_note, incident, "", now=at(1), actor=ACTOR)
    _refused("body", domain.add_note, incident, "n" * 20_001, now=at(1), actor=ACTOR)
    change = domain.add_note(incident, "n" * 20_000, now=at(1), actor=ACTOR)
    assert change.events[0].message == "n" * 20_000


def test_labels() -> None:
    assert validation.labels([" a ", "b", "a"]) == ["a", "b"]
    assert validation.labels(["l" * 64]) == ["l" * 64]
    _refused("labels", validation.labels, [""])
    _refused("labels", validation.labels, ["l" * 65])
    _refused("labels", validation.labels, [str(i) for i in range(51)])


def test_impact_started_in_the_future_refused() -> None:
    _refused("impactStartedAt", _declare, impact_started_at=T0 + timedelta(seconds=1))
    assert _declare(impact_started_at=T0 - timedelta(hours=1)).incident.impact_started_at


def test_update_validates_title() -> None:
    _refused("title", domain.update, declared(), domain.Update(title=" "), now=at(1), actor=ACTOR)


def test_update_without_change_writes_nothing() -> None:
    incident = declared()
    change = domain.update(incident, domain.Update(title=incident.title), now=at(1), actor=ACTOR)
    assert change.events == () and change.incident is incident


def test_resolution_refused_outside_resolved() -> None:
    from incident_service.domain.enums import IncidentStatus

    _refused(
        "resolution",
        domain.transition,
        declared(),
        IncidentStatus.ACKNOWLEDGED,
        now=at(1),
        actor=ACTOR,
        resolution="nope",
    )


def test_page_size() -> None:
    assert validation.page_size(None) == 20
    assert validation.page_size(0) == 0 and validation.page_size(100) == 100
    for bad in (-1, 101):
        with pytest.raises(DomainError):
            validation.page_size(bad)


def test_object_ids() -> None:
    assert validation.object_id("65A1B2C3D4E5F60718293A4B") == "65a1b2c3d4e5f60718293a4b"
    for bad in ("", "65a1b2c3d4e5f60718293a4", "65a1b2c3d4e5f60718293a4bz", "g" * 24, "é" * 24):
        with pytest.raises(DomainError) as err:
            validation.object_id(bad, "serviceId")
        assert err.value.field == ("input", "serviceId")


def test_filter_text_is_bounded_like_what_it_matches() -> None:
    assert validation.search("x" * validation.TITLE_MAX) == "x" * validation.TITLE_MAX
    assert validation.label("x" * validation.LABEL_MAX) == "x" * validation.LABEL_MAX
    with pytest.raises(DomainError):
        validation.search("x" * (validation.TITLE_MAX + 1))
    with pytest.raises(DomainError):
        validation.label("x" * (validation.LABEL_MAX + 1))
