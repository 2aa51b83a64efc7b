"""The Markdown export against its golden file: a fixed incident, postmortem and clock.

To accept an intended change of the document: `UPDATE_GOLDEN=1 pytest <this file>`,
then read the diff of the golden file before committing it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from incident_service.domain import action_items, postmortem
from incident_service.domain import incident as incidents
from incident_service.domain.action_items import ActionItemStatus, ActionItemUpdate, NewActionItem
from incident_service.domain.enums import Impact, IncidentStatus, Priority, Urgency, Visibility
from incident_service.domain.postmortem import Draft
from incident_service.domain.postmortem_markdown import render
from tests.unit.helpers import at

GOLDEN = Path(__file__).parent / "golden" / "postmortem.md"


def story() -> str:
    declared = incidents.declare(
        incidents.Declaration(
            title="Checkout | payments failing",
            impact=Impact.HIGH,
            urgency=Urgency.HIGH,
            impact_started_at=at(-4),
        ),
        id="0" * 24,
        number=42,
        now=at(0),
        actor="alertmanager",
    )
    events = list(declared.events)
    incident = declared.incident

    def step(change: incidents.Change) -> None:
        nonlocal incident
        events.extend(change.events)
        incident = change.incident

    step(incidents.transition(incident, IncidentStatus.ACKNOWLEDGED, now=at(3), actor="ann"))
    step(incidents.add_note(incident, "Paging the payments team", now=at(5), actor="ann"))
    step(incidents.set_root_cause(incident, "Expired TLS certificate", now=at(20), actor="ann"))
    step(
        incidents.post_update(
            incident, "We are fixing it.", Visibility.PUBLIC, now=at(25), actor="ann"
        )
    )
    step(
        incidents.transition(
            incident,
            IncidentStatus.RESOLVED,
            resolution="Certificate renewed",
            now=at(47),
            actor="ann",
        )
    )
    incident = replace(incident, status=IncidentStatus.CLOSED, closed_at=at(600))
    draft = Draft(
        summary="Card payments failed for 51 minutes.",
        customer_impact="Customers could not pay by card.",
        trigger="The payment provider's certificate expired at 12:00.",
        detection="An Alertmanager alert on the error rate.",
        resolution="We renewed the certificate.",
        contributing_factors=["No expiry alert", "Manual renewal"],
        what_went_well="Fast acknowledgement.",
        what_went_wrong="The runbook was out of date.",
        lessons="Automate renewals.\n\nAlert 30 days before expiry.",
        reviewers=["bob", "carol"],
    )
    pm = postmortem.upsert(None, incident, draft, expected_version=0, now=at(700), actor="ann")
    pm = postmortem.submit(pm.postmortem, incident, now=at(710), actor="ann")
    pm = postmortem.publish(pm.postmortem, incident, True, now=at(720), actor="bob")
    item = action_items.add(
        NewActionItem(
            title="Alert on certificate expiry",
            owner="dana",
            due_at=at(10_000),
            priority=Priority.P2,
            url="https://tickets.example/OPS-7",
        ),
        incident,
        id="1" * 24,
        now=at(730),
        actor="ann",
    ).item
    done = action_items.add(
        NewActionItem(title="Update the runbook", owner="eve"),
        incident,
        id="2" * 24,
        now=at(731),
        actor="ann",
    ).item
    done = action_items.update(
        done,
        ActionItemUpdate(status=ActionItemStatus.DONE),
        incident,
        expected_version=1,
        now=at(800),
        actor="eve",
    ).item
    timeline = postmortem.timeline(pm.postmortem, events)
    return render(incident, pm.postmortem, timeline, [item, done])


def test_markdown_matches_the_golden_file() -> None:
    text = story()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_an_incident_without_a_postmortem_renders_placeholders() -> None:
    incident = incidents.declare(
        incidents.Declaration(title="Slow API"), id="0" * 24, number=3, now=at(0), actor="a"
    ).incident
    text = render(incident, None, [], [])
    assert text.startswith("# Postmortem: INC-3 — Slow API\n")
    assert "| Postmortem | not started |" in text
    assert text.count("_Not written yet._") == 10
    assert "_No events._" in text and "_None._" in text
