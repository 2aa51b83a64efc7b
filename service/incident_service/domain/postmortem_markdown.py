"""The whole postmortem as one Markdown document (pure: the same input, the same text).

Served as `Incident.postmortemMarkdown` and `GET /incidents/{key}/postmortem.md`,
for wikis, tickets and email. The authors' texts are Markdown already and go
in as written; values placed in table cells have their pipes escaped and
their line breaks folded, so a cell never breaks the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from incident_service.domain.action_items import ActionItem
from incident_service.domain.incident import Event, Incident
from incident_service.domain.postmortem import Postmortem, PostmortemStatus, root_cause_of

NOT_WRITTEN = "_Not written yet._"
#: Events whose message is bare text: what the text is, before it.
_LABELS = {
    "ROOT_CAUSE_SET": "Root cause",
    "RESOLUTION_SET": "Resolution",
    "NOTE_ADDED": "Note",
}


def render(
    incident: Incident,
    postmortem: Postmortem | None,
    timeline: Sequence[Event],
    action_items: Sequence[ActionItem],
) -> str:
    """`timeline`: the postmortem's events (postmortem.timeline), oldest first."""
    pm = postmortem
    lines = [f"# Postmortem: {incident.key} — {_cell(incident.title)}", ""]
    lines += _facts(incident, pm)
    sections: list[tuple[str, str | None]] = [
        ("Summary", pm.summary if pm else None),
        ("Customer impact", pm.customer_impact if pm else None),
        ("Root cause", root_cause_of(pm, incident) if pm else incident.root_cause),
        ("Trigger", pm.trigger if pm else None),
        ("Detection", pm.detection if pm else None),
        ("Resolution", pm.resolution if pm else None),
    ]
    for heading, text in sections:
        lines += _section(heading, text)
    factors = pm.contributing_factors if pm else ()
    lines += ["## Contributing factors", ""]
    lines += [f"- {_line(f)}" for f in factors] if factors else [NOT_WRITTEN]
    lines.append("")
    for heading, text in (
        ("What went well", pm.what_went_well if pm else None),
        ("What went wrong", pm.what_went_wrong if pm else None),
        ("Lessons learned", pm.lessons if pm else None),
    ):
        lines += _section(heading, text)
    lines += _timeline(timeline)
    lines += _action_items(action_items)
    return "\n".join(lines).rstrip("\n") + "\n"


def _facts(incident: Incident, pm: Postmortem | None) -> list[str]:
    status = "not started" if pm is None else pm.status.value
    if pm is not None and pm.status is PostmortemStatus.PUBLISHED:
        status += " (public)" if pm.public else " (internal)"
    rows = [
        ("Postmortem", status),
        (
            "Priority",
            f"{incident.priority.value} (impact {incident.impact.value}, "
            f"urgency {incident.urgency.value})",
        ),
        ("Category", incident.category.value),
        ("Incident status", incident.status.value),
        ("Impact started", _time(incident.impact_started_at)),
        ("Detected", _time(incident.detected_at)),
        ("Declared", _time(incident.declared_at)),
        ("Acknowledged", _time(incident.acknowledged_at)),
        ("Resolved", _time(incident.resolved_at)),
        (
            "Duration",
            _duration(incident.impact_started_at or incident.declared_at, incident.resolved_at),
        ),
        ("Author", pm.author if pm else "—"),
        ("Reviewers", ", ".join(pm.reviewers) if pm and pm.reviewers else "—"),
        ("Published", _time(pm.published_at if pm else None)),
    ]
    return ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in rows), ""]


def _section(heading: str, text: str | None) -> list[str]:
    return [f"## {heading}", "", text or NOT_WRITTEN, ""]


def _timeline(events: Sequence[Event]) -> list[str]:
    lines = ["## Timeline", ""]
    if not events:
        return [*lines, "_No events._", ""]
    lines += ["| Time (UTC) | Event | By |", "|---|---|---|"]
    lines += [f"| {_time(e.at)} | {_cell(_what(e))} | {_cell(e.actor)} |" for e in events]
    return [*lines, ""]


def _what(event: Event) -> str:
    text = event.message or event.type
    if event.type == "UPDATE_POSTED":
        return f"{event.visibility.value.title()} update: {text}"
    label = _LABELS.get(event.type)
    return f"{label}: {text}" if label else text


def _action_items(items: Sequence[ActionItem]) -> list[str]:
    lines = ["## Action items", ""]
    if not items:
        return [*lines, "_None._", ""]
    lines += ["| Action item | Owner | Priority | Due | Status |", "|---|---|---|---|---|"]
    for item in items:
        title = f"[{_cell(item.title)}]({item.url})" if item.url else _cell(item.title)
        lines.append(
            f"| {title} | {_cell(item.owner)} | {item.priority.value} | "
            f"{_time(item.due_at)} | {item.status.value} |"
        )
    return [*lines, ""]


def _time(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if at else "—"


def _duration(start: datetime, end: datetime | None) -> str:
    if end is None:
        return "—"
    minutes = max(0, int((end - start) / timedelta(minutes=1)))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(p for p in parts if p)


def _line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|")
