"""Alert documents and intake outcomes, without a database."""

from __future__ import annotations

from dataclasses import replace

from incident_service.domain.alerts import Alert
from incident_service.domain.enums import AlertAction, AlertStatus, Severity
from incident_service.store.alerts import AlertQuery, Outcome, alert_from_doc, alert_to_doc
from tests.unit.helpers import T0

ALERT = Alert(
    id="a" * 24,
    integration_id="1" * 24,
    dedup_key="k",
    group="g",
    status=AlertStatus.TRIGGERED,
    summary="Disk full",
    source="db-1",
    severity=Severity.ERROR,
    first_seen_at=T0,
    last_seen_at=T0,
    labels={"$where": "sleep(1000)", "a.b": "c"},
    details={"$gt": {"nested": [1, 2]}},
)


def test_a_senders_keys_are_data_never_field_names() -> None:
    doc = alert_to_doc(ALERT)
    assert doc["labels"] == [["$where", "sleep(1000)"], ["a.b", "c"]]
    assert isinstance(doc["details"], str)
    assert alert_from_doc(doc) == ALERT


def test_open_follows_the_status() -> None:
    assert alert_to_doc(ALERT)["open"] is True
    resolved = replace(ALERT, status=AlertStatus.RESOLVED)
    assert alert_to_doc(resolved)["open"] is False


def test_outcome_results() -> None:
    assert Outcome(None, repeated=True).result(AlertAction.TRIGGER) == "repeat"
    assert Outcome(ALERT, created=True).result(AlertAction.TRIGGER) == "new"
    assert Outcome(None).result(AlertAction.RESOLVE) == "ignored"
    assert Outcome(ALERT).result(AlertAction.ACKNOWLEDGE) == "acknowledged"
    assert (
        Outcome(replace(ALERT, suppressed=True), created=True).result(AlertAction.TRIGGER)
        == "suppressed"
    )


def test_the_list_filter_uses_only_given_conditions() -> None:
    assert AlertQuery().to_filter() == {}
    query = AlertQuery(status=AlertStatus.RESOLVED, severity=Severity.INFO, incident_id="i")
    assert query.to_filter() == {"status": "RESOLVED", "severity": "INFO", "incidentId": "i"}
