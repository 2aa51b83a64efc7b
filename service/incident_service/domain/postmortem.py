"""The postmortem of an incident: the review written once it is over. No I/O.

A postmortem goes DRAFT -> IN_REVIEW -> PUBLISHED. It has its own `version`
(every write is guarded by it) and lives beside its incident, not in it: the
review happens after the incident is CLOSED, whose own fields stay frozen.
Each change is also an INTERNAL event on the incident's timeline (see
`review_events`), recorded without raising the incident's version.

A published postmortem may be `public`: then its public fields (`PUBLIC_FIELDS`)
are shown on the status page, and nothing else of it ever is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_service.domain import validation
from incident_service.domain.enums import IncidentStatus, Priority, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid
from incident_service.domain.incident import (
    Event,
    Incident,
    field_name,
    recorder,
    require_publishable,
)

#: Picked timeline events at most; contributing factors and reviewers at most.
MAX_TIMELINE = 500
MAX_FACTORS = 50
MAX_REVIEWERS = 20

#: The events a postmortem's timeline shows when none were picked: the milestones and the
#: updates, not the notes, role changes or the review's own events.
KEY_EVENT_TYPES: tuple[str, ...] = (
    "DECLARED",
    "STATUS_CHANGED",
    "PRIORITY_CHANGED",
    "IMPACTS_CHANGED",
    "IMPACTS_ENDED",
    "IMPACTS_RESUMED",
    "ROOT_CAUSE_SET",
    "RESOLUTION_SET",
    "UPDATE_POSTED",
    "PUBLISHED",
)

#: The fields a public postmortem shows on the status page, written for customers.
PUBLIC_FIELDS = ("summary", "customer_impact", "resolution")


class PostmortemStatus(StrEnum):
    DRAFT = "DRAFT"
    IN_REVIEW = "IN_REVIEW"
    PUBLISHED = "PUBLISHED"


@dataclass(frozen=True)
class Postmortem:
    incident_id: str
    status: PostmortemStatus
    author: str
    created_at: datetime
    updated_at: datetime
    summary: str | None = None
    customer_impact: str | None = None
    #: None: the incident's recorded root cause stands (see `root_cause_of`).
    root_cause: str | None = None
    trigger: str | None = None
    detection: str | None = None
    resolution: str | None = None
    contributing_factors: tuple[str, ...] = ()
    what_went_well: str | None = None
    what_went_wrong: str | None = None
    lessons: str | None = None
    #: The timeline events picked by hand (seqs); empty: the key milestones and updates.
    timeline_seqs: tuple[int, ...] = ()
    reviewers: tuple[str, ...] = ()
    #: Shown on the status page once published.
    public: bool = False
    published_at: datetime | None = None
    published_by: str | None = None
    version: int = 1


@dataclass(frozen=True)
class PostmortemChange:
    """The postmortem after a command, and the events it adds to the incident's timeline
    (none: nothing changed, nothing to write)."""

    postmortem: Postmortem
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Draft:
    """Fields to write; None leaves a field as it is (a blank text clears it)."""

    summary: str | None = None
    customer_impact: str | None = None
    root_cause: str | None = None
    trigger: str | None = None
    detection: str | None = None
    resolution: str | None = None
    contributing_factors: Sequence[str] | None = None
    what_went_well: str | None = None
    what_went_wrong: str | None = None
    lessons: str | None = None
    #: [] returns to the automatic timeline.
    timeline_seqs: Sequence[int] | None = None
    reviewers: Sequence[str] | None = None


#: The postmortem's free-text fields.
TEXT_FIELDS = (
    "summary",
    "customer_impact",
    "root_cause",
    "trigger",
    "detection",
    "resolution",
    "what_went_well",
    "what_went_wrong",
    "lessons",
)


def root_cause_of(postmortem: Postmortem, incident: Incident) -> str | None:
    """The postmortem's root cause, else the incident's."""
    return postmortem.root_cause or incident.root_cause


def check_version(current: Postmortem | None, expected: int) -> None:
    actual = current.version if current else 0
    if expected != actual:
        raise DomainError(
            UserErrorCode.CONFLICT,
            f"expectedVersion {expected} is stale: the postmortem is at version {actual} "
            "(0: there is none yet); re-read it and retry",
            ("input", "expectedVersion"),
        )


def upsert(
    current: Postmortem | None,
    incident: Incident,
    draft: Draft,
    *,
    expected_version: int,
    now: datetime,
    actor: str,
) -> PostmortemChange:
    """Write the draft's fields (creating the postmortem, author `actor`, if there is none)."""
    check_version(current, expected_version)
    base = current or Postmortem(
        incident_id=incident.id,
        status=PostmortemStatus.DRAFT,
        author=actor,
        created_at=now,
        updated_at=now,
        version=0,
    )
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = getattr(draft, name)
        if value is not None:
            changes[name] = validation.text(value, field_name(name))
    if draft.contributing_factors is not None:
        changes["contributing_factors"] = _factors(draft.contributing_factors)
    if draft.reviewers is not None:
        changes["reviewers"] = _reviewers(draft.reviewers)
    if draft.timeline_seqs is not None:
        changes["timeline_seqs"] = _seqs(draft.timeline_seqs, incident.last_seq)
    diff = {k: v for k, v in changes.items() if getattr(base, k) != v}
    if base.status is PostmortemStatus.PUBLISHED and "summary" in diff and not diff["summary"]:
        raise invalid("summary", "a published postmortem keeps its summary")
    if not diff and current is not None:
        return PostmortemChange(current, ())
    updated = replace(base, **diff, updated_at=now, version=base.version + 1)
    names = [field_name(k) for k in diff]
    rec = recorder(incident, now, actor)
    if current is None:
        rec.add("POSTMORTEM_UPDATED", "Postmortem started", fields=names, version=1)
    else:
        message = "Postmortem updated: " + ", ".join(names)
        rec.add("POSTMORTEM_UPDATED", message, fields=names, version=updated.version)
    return PostmortemChange(updated, tuple(rec.events))


def submit(
    current: Postmortem | None, incident: Incident, *, now: datetime, actor: str
) -> PostmortemChange:
    """DRAFT -> IN_REVIEW."""
    pm = _existing(current)
    if pm.status is not PostmortemStatus.DRAFT:
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            f"only a DRAFT postmortem can be submitted for review (it is {pm.status.value})",
            ("input", "incidentId"),
        )
    updated = replace(pm, status=PostmortemStatus.IN_REVIEW, updated_at=now, version=pm.version + 1)
    rec = recorder(incident, now, actor)
    who = f" (reviewers: {', '.join(pm.reviewers)})" if pm.reviewers else ""
    rec.add(
        "POSTMORTEM_SUBMITTED",
        f"Postmortem submitted for review{who}",
        reviewers=list(pm.reviewers),
        version=updated.version,
    )
    return PostmortemChange(updated, tuple(rec.events))


def publish(
    current: Postmortem | None, incident: Incident, public: bool, *, now: datetime, actor: str
) -> PostmortemChange:
    """IN_REVIEW -> PUBLISHED. On a published one only `public` may change (same: no-op)."""
    if public:
        require_publishable(incident.restricted, "public")
    pm = _existing(current)
    if pm.status is PostmortemStatus.PUBLISHED:
        if pm.public == public:
            return PostmortemChange(pm, ())
        updated = replace(pm, public=public, updated_at=now, version=pm.version + 1)
    elif pm.status is not PostmortemStatus.IN_REVIEW:
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            "a postmortem is published after review: submit it for review first",
            ("input", "incidentId"),
        )
    elif not pm.summary:
        raise DomainError(
            UserErrorCode.VALIDATION,
            "a postmortem needs a summary to be published: set it with upsertPostmortem",
            ("postmortem", "summary"),
        )
    else:
        updated = replace(
            pm,
            status=PostmortemStatus.PUBLISHED,
            public=public,
            published_at=now,
            published_by=actor,
            updated_at=now,
            version=pm.version + 1,
        )
    rec = recorder(incident, now, actor)
    where = "on the status page" if public else "internally"
    rec.add(
        "POSTMORTEM_PUBLISHED",
        f"Postmortem published {where}",
        public=public,
        version=updated.version,
    )
    return PostmortemChange(updated, tuple(rec.events))


def require_for_close(
    incident: Incident,
    to: IncidentStatus,
    published: bool,
    required_for: Iterable[Priority],
) -> None:
    """The REQUIRE_POSTMORTEM_FOR policy: these priorities close only once it is published."""
    if to is not IncidentStatus.CLOSED or published:
        return
    if incident.priority in set(required_for):
        raise DomainError(
            UserErrorCode.POSTMORTEM_REQUIRED,
            f"{incident.key} is {incident.priority.value}: publish its postmortem before "
            "closing it",
            ("input", "to"),
        )


def timeline(postmortem: Postmortem | None, events: Iterable[Event]) -> list[Event]:
    """The postmortem's timeline from the incident's events, oldest first: the picked ones,
    else the key milestones and updates."""
    picked = set(postmortem.timeline_seqs) if postmortem else set()
    chosen = (
        (e for e in events if e.seq in picked)
        if picked
        else (e for e in events if e.type in KEY_EVENT_TYPES)
    )
    return sorted(chosen, key=lambda e: e.seq)


def _existing(current: Postmortem | None) -> Postmortem:
    if current is None:
        raise DomainError(
            UserErrorCode.NOT_FOUND,
            "the incident has no postmortem yet: write one with upsertPostmortem",
            ("input", "incidentId"),
        )
    return current


def _factors(values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_FACTORS:
        raise invalid("contributingFactors", f"at most {MAX_FACTORS} contributing factors")
    cleaned = [validation.text(v, "contributingFactors") for v in values]
    return tuple(dict.fromkeys(c for c in cleaned if c))


def _reviewers(values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_REVIEWERS:
        raise invalid("reviewers", f"at most {MAX_REVIEWERS} reviewers")
    return tuple(dict.fromkeys(validation.name(v, "reviewers") for v in values))


def _seqs(values: Sequence[int], last_seq: int) -> tuple[int, ...]:
    if len(values) > MAX_TIMELINE:
        raise invalid("timelineSeqs", f"at most {MAX_TIMELINE} timeline events")
    bad = [v for v in values if v < 1 or v > last_seq]
    if bad:
        raise invalid("timelineSeqs", f"no event {bad[0]} in the incident's timeline")
    return tuple(sorted(set(values)))
