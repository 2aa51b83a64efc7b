"""The derived-status rule: the worst cause wins, and the reason names it."""

from __future__ import annotations

import pytest

from incident_service.domain.enums import ComponentStatus as C
from incident_service.domain.errors import DomainError
from incident_service.domain.service import (
    check_group,
    derive_status,
    incident_cause,
    maintenance_cause,
)


def test_nothing_holds_it_operational() -> None:
    derived = derive_status(C.OPERATIONAL)
    assert (derived.status, derived.reason) == (C.OPERATIONAL, None)


def test_the_worst_incident_impact_wins_and_is_named() -> None:
    derived = derive_status(
        C.DEGRADED_PERFORMANCE,
        [incident_cause("INC-3", C.PARTIAL_OUTAGE), incident_cause("INC-4", C.MAJOR_OUTAGE)],
        [maintenance_cause("DB upgrade")],
    )
    assert (derived.status, derived.reason) == (C.MAJOR_OUTAGE, "INC-4: MAJOR_OUTAGE")


def test_an_incident_wins_over_maintenance_when_worse() -> None:
    derived = derive_status(
        C.OPERATIONAL,
        [incident_cause("INC-9", C.DEGRADED_PERFORMANCE)],
        [maintenance_cause("DB upgrade")],
    )
    assert derived.status is C.DEGRADED_PERFORMANCE
    only_maintenance = derive_status(C.OPERATIONAL, [], [maintenance_cause("DB upgrade")])
    assert (only_maintenance.status, only_maintenance.reason) == (
        C.UNDER_MAINTENANCE,
        "maintenance: DB upgrade",
    )


def test_the_manual_override_counts_like_any_cause() -> None:
    assert derive_status(C.MAJOR_OUTAGE, [incident_cause("INC-1", C.PARTIAL_OUTAGE)]).reason == (
        "manual"
    )


@pytest.mark.parametrize(
    ("manual", "incidents", "maintenance", "reason"),
    [
        (C.MAJOR_OUTAGE, [("INC-1", C.MAJOR_OUTAGE)], [], "INC-1: MAJOR_OUTAGE"),
        (C.UNDER_MAINTENANCE, [], ["Patch"], "maintenance: Patch"),
        (C.OPERATIONAL, [("INC-1", C.PARTIAL_OUTAGE), ("INC-2", C.PARTIAL_OUTAGE)], [], "INC-1"),
    ],
)
def test_ties_name_the_most_specific_cause_first(
    manual: C, incidents: list[tuple[str, C]], maintenance: list[str], reason: str
) -> None:
    derived = derive_status(
        manual,
        [incident_cause(k, s) for k, s in incidents],
        [maintenance_cause(t) for t in maintenance],
    )
    assert derived.reason is not None and derived.reason.startswith(reason)


def test_groups_are_trimmed_bounded_and_empty_means_none() -> None:
    assert check_group("  Core ") == "Core"
    assert check_group("") is None and check_group(None) is None
    with pytest.raises(DomainError):
        check_group("x" * 101)
