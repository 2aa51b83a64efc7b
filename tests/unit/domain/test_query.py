"""The in-memory filter agrees with the list filter."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incident_service.domain.enums import (
    Impact,
    IncidentCategory,
    IncidentStatus,
    Priority,
    Urgency,
    Visibility,
)
from incident_service.domain.query import IncidentQuery, matches
from tests.unit.helpers import at, declared

INCIDENT = replace(
    declared("Checkout is DOWN", Impact.HIGH, Urgency.HIGH),
    labels=("eu", "payments"),
    service_ids=("s1",),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (IncidentQuery(), True),
        (IncidentQuery(statuses=(IncidentStatus.TRIGGERED,)), True),
        (IncidentQuery(statuses=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED)), False),
        (IncidentQuery(priorities=(Priority.P1, Priority.P2)), True),
        (IncidentQuery(priorities=(Priority.P3,)), False),
        (IncidentQuery(category=IncidentCategory.OTHER), True),
        (IncidentQuery(category=IncidentCategory.SECURITY), False),
        (IncidentQuery(service_id="s1"), True),
        (IncidentQuery(service_id="s2"), False),
        (IncidentQuery(label="payments"), True),
        (IncidentQuery(label="pay"), False),
        (IncidentQuery(search="checkout is down"), True),
        (IncidentQuery(search=".*"), False),
        (IncidentQuery(open_only=True), True),
        (IncidentQuery(declared_after=at(0)), True),
        (IncidentQuery(declared_after=at(1)), False),
        (IncidentQuery(declared_before=at(0)), False),
        (IncidentQuery(visibility=Visibility.PUBLIC), False),
        (
            IncidentQuery(
                label="eu", priorities=(Priority.P1,), statuses=(IncidentStatus.TRIGGERED,)
            ),
            True,
        ),
    ],
)
def test_matches_agrees_with_the_list_filter(query: IncidentQuery, expected: bool) -> None:
    assert matches(query, INCIDENT) is expected


def test_resolved_is_not_open() -> None:
    resolved = replace(INCIDENT, status=IncidentStatus.RESOLVED)
    assert not matches(IncidentQuery(open_only=True), resolved)
