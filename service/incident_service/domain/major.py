"""Major incidents: one incident that gathers others (a disaster hitting many sites).

The parent holds a PARENT_OF link to each child and each child names its
parent (`parent_id`), one level deep: a parent has no parent, a child no
children. Both sides change in one transaction (store.apply_together). A
child's resolution is an event on the parent, and the parent cannot be
resolved while a child is open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from incident_service.domain.enums import IncidentStatus, LinkKind, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import (
    Change,
    Incident,
    IncidentLink,
    Recorder,
    require_not_closed,
)

#: Incidents one major incident may gather.
CHILDREN_MAX = 200


def children_ids(incident: Incident) -> list[str]:
    return [x.incident_id for x in incident.links if x.kind is LinkKind.PARENT_OF]


def adopt(parent: Incident, child: Incident, *, now: datetime, actor: str) -> tuple[Change, Change]:
    """Make `child` one of the incidents `parent` gathers; both changes, or an error."""
    require_not_closed(parent)
    require_not_closed(child)
    if child.id == parent.id:
        raise _invalid("an incident cannot be its own parent", "relatedId")
    if child.parent_id == parent.id:
        return Change(parent, ()), Change(child, ())
    if parent.parent_id is not None:
        raise _invalid(
            f"{parent.key} is itself part of a major incident: major incidents are one level deep",
            "id",
        )
    if child.parent_id is not None:
        raise _invalid(f"{child.key} already belongs to another major incident", "relatedId")
    if children_ids(child):
        raise _invalid(
            f"{child.key} gathers incidents of its own: major incidents are one level deep",
            "relatedId",
        )
    if len(children_ids(parent)) >= CHILDREN_MAX:
        raise _invalid(f"a major incident gathers at most {CHILDREN_MAX} incidents", "relatedId")
    rec = Recorder(parent.id, parent.last_seq, now, actor)
    rec.add(
        "INCIDENT_LINKED", f"Now gathers {child.key}",
        kind=LinkKind.PARENT_OF.value, incidentId=child.id, key=child.key,
    )  # fmt: skip
    parent_change = rec.commit(
        replace(parent, links=(*parent.links, IncidentLink(LinkKind.PARENT_OF, child.id, now)))
    )
    child_rec = Recorder(child.id, child.last_seq, now, actor)
    child_rec.add(
        "PARENT_LINKED", f"Part of major incident {parent.key}", incidentId=parent.id,
        key=parent.key,
    )  # fmt: skip
    return parent_change, child_rec.commit(replace(child, parent_id=parent.id))


def child_resolved(parent: Incident, child: Incident, *, now: datetime, actor: str) -> Change:
    """The event a child's resolution puts on its parent. A restricted child is not named:
    the parent's readers need not be the child's participants."""
    rec = Recorder(parent.id, parent.last_seq, now, actor)
    if child.restricted:
        rec.add("CHILD_RESOLVED", "A restricted incident it gathers is resolved")
    else:
        rec.add(
            "CHILD_RESOLVED", f"{child.key} is resolved: {child.title}",
            incidentId=child.id, key=child.key,
        )  # fmt: skip
    # The parent's own fields do not change: its version neither (no guard is broken).
    return rec.commit(parent, bump=False)


def require_children_resolved(
    parent: Incident, children: Sequence[Incident], to: IncidentStatus
) -> None:
    """A parent moves to RESOLVED or CLOSED only once every child is resolved."""
    if to not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        return
    named = sorted(c.key for c in children if c.is_open and not c.restricted)
    hidden = sum(1 for c in children if c.is_open and c.restricted)
    if named or hidden:
        listed = named + ([f"{hidden} restricted"] if hidden else [])
        raise DomainError(
            UserErrorCode.CHILDREN_OPEN,
            f"{parent.key} gathers incidents that are still open: {', '.join(listed)}",
            ("input", "to"),
        )


def guarded(
    command: Callable[[Incident, datetime, str], Change],
    children: Sequence[Incident],
    to: IncidentStatus,
) -> Callable[[Incident, datetime, str], Change]:
    """`command`, refused with CHILDREN_OPEN when it would resolve or close a major
    incident whose `children` are not all resolved."""

    def run(incident: Incident, now: datetime, actor: str) -> Change:
        require_children_resolved(incident, children, to)
        return command(incident, now, actor)

    return run


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(UserErrorCode.VALIDATION, message, ("input", field))
