"""The public page in Statuspage's v2 shapes: vocabularies, groups, ids, times, lists."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from incident_service.domain.enums import ComponentStatus, MaintenanceStatus, PublicStatus
from incident_service.domain.status_page import PublicPostmortem
from incident_service.web import statuspage_json as sp
from tests.unit.helpers import at
from tests.unit.web.pages import API, DOCS, SITE, WEB, incident, page, window

CS = ComponentStatus


@pytest.mark.parametrize(
    ("overall", "indicator", "description"),
    [
        (CS.OPERATIONAL, "none", "All Systems Operational"),
        (CS.DEGRADED_PERFORMANCE, "minor", "Minor Service Outage"),
        (CS.PARTIAL_OUTAGE, "major", "Partial System Outage"),
        (CS.MAJOR_OUTAGE, "critical", "Major System Outage"),
        (CS.UNDER_MAINTENANCE, "maintenance", "Service Under Maintenance"),
    ],
)
def test_the_overall_status_is_statuspages_indicator(
    overall: ComponentStatus, indicator: str, description: str
) -> None:
    document = sp.status(SITE, page(overall_status=overall))
    assert document["status"] == {"indicator": indicator, "description": description}


@pytest.mark.parametrize(
    ("worst", "impact"),
    [
        (CS.MAJOR_OUTAGE, "critical"),
        (CS.PARTIAL_OUTAGE, "major"),
        (CS.DEGRADED_PERFORMANCE, "minor"),
        (None, "none"),
    ],
)
def test_the_worst_component_impact_is_the_incident_impact(
    worst: ComponentStatus | None, impact: str
) -> None:
    assert sp.incident(SITE, incident(worst=worst), {})["impact"] == impact


def test_timestamps_are_utc_with_milliseconds_as_statuspage_writes_them() -> None:
    assert sp.timestamp(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.678Z"
    )
    plus_two = timezone(timedelta(hours=2))
    assert sp.timestamp(datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two)) == (
        "2026-01-02T03:04:05.000Z"
    )
    assert sp.timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    assert sp.timestamp(None) is None


def test_page_block() -> None:
    assert sp.page(SITE, page()) == {
        "id": SITE.id,
        "name": "Acme status",
        "url": "https://status.example.com",
        "time_zone": "Etc/UTC",
        "updated_at": sp.timestamp(at(30)),
    }


def test_groups_are_listed_as_statuspage_lists_them() -> None:
    listed = sp.components(SITE, (DOCS, API, WEB))
    assert [(c["name"], c["group"], c["position"]) for c in listed] == [
        ("Docs", False, 1),
        ("Core", True, 2),
        ("API", False, 1),
        ("Web", False, 2),
    ]
    docs, core, api, web = listed
    assert core["id"] == sp.group_id("Core") == sp.group_id("Core")
    assert core["components"] == ["s-api", "s-web"]
    # A group shows the worst status of its members.
    assert core["status"] == "major_outage"
    assert core["group_id"] is None and docs["group_id"] is None
    assert api["group_id"] == web["group_id"] == core["id"]
    assert "components" not in api


def test_a_component_has_every_statuspage_field() -> None:
    (api,) = sp.components(SITE, (replace(API, group=None),))
    assert api == {
        "id": "s-api",
        "name": "API",
        "status": "major_outage",
        "created_at": sp.timestamp(API.created_at),
        "updated_at": sp.timestamp(API.updated_at),
        "position": 1,
        "description": "The public API",
        "showcase": True,
        "start_date": "2026-01-01",
        "group_id": None,
        "page_id": SITE.id,
        "group": False,
        "only_show_if_degraded": False,
    }


@pytest.mark.parametrize("status", list(CS))
def test_every_component_status_has_statuspages_name(status: ComponentStatus) -> None:
    assert sp.component_status(status) in {
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    }


def test_an_incident_is_named_by_its_key_and_links_its_public_page() -> None:
    listed = {c["id"]: c for c in sp.components(SITE, (DOCS, API, WEB))}
    shown = sp.incident(SITE, incident(), listed)
    assert shown["id"] == "INC-12"
    assert shown["status"] == "identified"
    assert shown["shortlink"] == "https://status.example.com/incidents/INC-12"
    assert shown["created_at"] == shown["started_at"] == sp.timestamp(at(5))
    assert shown["resolved_at"] is None and shown["monitoring_at"] is None
    assert shown["components"] == [listed["s-api"]]
    first, second = shown["incident_updates"]
    assert (first["id"], first["status"], first["body"]) == (
        "INC-12-4",
        "identified",
        "Fix on its way",
    )
    assert second["status"] == "investigating"
    assert first["incident_id"] == "INC-12"
    assert first["created_at"] == first["display_at"] == sp.timestamp(at(15))
    assert first["affected_components"] is None and first["tweet_id"] is None


def test_an_incident_key_is_escaped_in_its_link() -> None:
    assert SITE.incident_url("INC 1/2") == "https://status.example.com/incidents/INC%201%2F2"


def test_monitoring_and_resolved_times() -> None:
    resolved = replace(incident(status=PublicStatus.RESOLVED, resolved=50), monitoring_at=at(40))
    shown = sp.incident(SITE, resolved, {})
    assert shown["status"] == "resolved"
    assert shown["monitoring_at"] == sp.timestamp(at(40))
    assert shown["resolved_at"] == sp.timestamp(at(50))


def test_incidents_json_merges_unresolved_and_recent_newest_first() -> None:
    old = incident("INC-1", PublicStatus.RESOLVED, declared=1, resolved=3)
    new = incident("INC-3", declared=9)
    middle = incident("INC-2", PublicStatus.RESOLVED, declared=5, resolved=20)
    document = sp.incidents_document(
        SITE, page(active_incidents=(new,), recent_incidents=(middle, old))
    )
    assert [i["id"] for i in document["incidents"]] == ["INC-3", "INC-2", "INC-1"]
    unresolved = sp.unresolved_document(
        SITE, page(active_incidents=(new,), recent_incidents=(old,))
    )
    assert [i["id"] for i in unresolved["incidents"]] == ["INC-3"]


def test_incidents_json_lists_the_latest_fifty() -> None:
    many = tuple(
        incident(f"INC-{n}", PublicStatus.RESOLVED, declared=n, resolved=n + 1) for n in range(60)
    )
    listed = sp.incidents_document(SITE, page(recent_incidents=many))["incidents"]
    assert len(listed) == sp.MAX_LISTED == 50
    assert listed[0]["id"] == "INC-59"


def test_a_maintenance_window_is_a_scheduled_maintenance() -> None:
    listed = {c["id"]: c for c in sp.components(SITE, (DOCS,))}
    shown = sp.maintenance(SITE, window(), listed)
    assert shown is not None
    assert shown["status"] == "scheduled"
    assert shown["impact"] == "maintenance"
    assert shown["scheduled_for"] == sp.timestamp(at(120))
    assert shown["scheduled_until"] == sp.timestamp(at(180))
    assert shown["shortlink"] == SITE.url
    assert shown["components"] == [listed["s-docs"]]
    assert shown["resolved_at"] is None
    (update,) = shown["incident_updates"]
    assert (update["id"], update["status"], update["incident_id"]) == ("m1-1", "scheduled", "m1")


def test_a_completed_window_has_its_updates_numbered_from_the_oldest() -> None:
    shown = sp.maintenance(SITE, window(status=MaintenanceStatus.COMPLETED, starts=60), {})
    assert shown is not None
    assert shown["status"] == "completed"
    assert shown["resolved_at"] == sp.timestamp(at(60))
    assert [(u["id"], u["status"]) for u in shown["incident_updates"]] == [
        ("m1-2", "completed"),
        ("m1-1", "scheduled"),
    ]
    assert shown["created_at"] == sp.timestamp(at(0))


def test_a_cancelled_window_is_left_out_as_statuspage_has_no_such_status() -> None:
    cancelled = window("m9", MaintenanceStatus.CANCELLED)
    assert sp.maintenance(SITE, cancelled, {}) is None
    document = sp.maintenances_document(SITE, page(past_maintenances=(cancelled,)))
    assert document["scheduled_maintenances"] == []


def test_maintenance_documents_split_by_status() -> None:
    upcoming = window("m1", MaintenanceStatus.SCHEDULED, starts=120)
    active = window("m2", MaintenanceStatus.IN_PROGRESS, starts=10)
    done = window("m3", MaintenanceStatus.COMPLETED, starts=1)
    shown = page(maintenances=(active, upcoming), past_maintenances=(done,))

    def ids(document: sp.Json) -> list[str]:
        return [m["id"] for m in document["scheduled_maintenances"]]

    assert ids(sp.upcoming_document(SITE, shown)) == ["m1"]
    assert ids(sp.active_document(SITE, shown)) == ["m2"]
    assert ids(sp.maintenances_document(SITE, shown)) == ["m1", "m2", "m3"]
    summary = sp.summary(SITE, shown)
    assert [m["id"] for m in summary["scheduled_maintenances"]] == ["m2", "m1"]
    assert sp.active_document(SITE, shown)["scheduled_maintenances"][0]["status"] == "in_progress"


def test_the_summary_has_every_part() -> None:
    summary = sp.summary(SITE, page(active_incidents=(incident(),)))
    assert list(summary) == ["page", "components", "incidents", "scheduled_maintenances", "status"]
    assert [i["id"] for i in summary["incidents"]] == ["INC-12"]
    assert summary["status"]["indicator"] == "critical"


def test_every_document_has_its_page_and_a_path() -> None:
    assert set(sp.DOCUMENTS) == {
        "summary.json",
        "status.json",
        "components.json",
        "incidents.json",
        "incidents/unresolved.json",
        "scheduled-maintenances.json",
        "scheduled-maintenances/upcoming.json",
        "scheduled-maintenances/active.json",
    }
    for build in sp.DOCUMENTS.values():
        assert build(SITE, page())["page"]["id"] == SITE.id


def test_a_published_postmortem_is_statuspages_postmortem_status() -> None:
    reviewed = replace(
        incident(status=PublicStatus.RESOLVED, resolved=30),
        postmortem=PublicPostmortem("What happened", None, None, at(40)),
    )
    listed = {c["id"]: c for c in sp.components(SITE, [API])}
    assert sp.incident(SITE, reviewed, listed)["status"] == "postmortem"
    assert sp.incident(SITE, incident(), listed)["status"] == "identified"
