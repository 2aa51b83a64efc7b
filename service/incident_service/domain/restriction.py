"""Restricted incidents: visible only to the people working on them.

A security incident (ransomware, a breach) must not be readable by every
VIEWER. A restricted incident exists only for its participants and for
ADMIN: the declarer, every role holder and the people added as
participants, named by the actor ids the timeline uses (`key:<id>` for an
API key, `oidc:<issuer host>/<sub>` for a signed-in user). For everyone
else it does not exist. It cannot be published to the status page until an ADMIN lifts the
restriction: telling the public about a breach is a deliberate decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from incident_service.domain.enums import IncidentRole, UserErrorCode, Visibility
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid
from incident_service.domain.incident import (
    Change,
    Incident,
    Recorder,
    require_not_closed,
    viewers,
)
from incident_service.domain.principal import Principal, Role

#: People one incident may add as participants (role holders come on top).
PARTICIPANTS_MAX = 100
ACTOR_MAX = 200


def can_see(incident: Incident, principal: Principal) -> bool:
    if not incident.restricted or principal.role >= Role.ADMIN:
        return True
    return principal.actor in viewers(incident)


def actor_id(value: str, field: str = "actor") -> str:
    """A participant's actor id: what the timeline shows for them (no spaces around)."""
    actor = value.strip()
    if not actor or len(actor) > ACTOR_MAX or any(c.isspace() or ord(c) < 32 for c in actor):
        raise invalid(
            field, f"{field} must be an actor id as the timeline shows it (e.g. key:<key id>)"
        )
    if actor.startswith("integration:"):
        raise invalid(field, "an integration cannot be a participant")
    return actor


def set_restricted(
    incident: Incident, restricted: bool, principal: Principal, *, now: datetime
) -> Change:
    """Restrict or lift: ADMIN, or the incident's COMMANDER (restricting only: lifting
    the restriction publishes nothing, but it is ADMIN's call)."""
    require_not_closed(incident)
    commander = any(
        r.role is IncidentRole.COMMANDER and r.user == principal.actor for r in incident.roles
    )
    if principal.role < Role.ADMIN and not (restricted and commander):
        who = "ADMIN or the incident's COMMANDER" if restricted else "ADMIN"
        raise DomainError(
            UserErrorCode.VALIDATION, f"only {who} may do this", ("input", "restricted")
        )
    if incident.restricted == restricted:
        return Change(incident, ())
    if restricted and incident.visibility is Visibility.PUBLIC:
        raise DomainError(
            UserErrorCode.VALIDATION,
            f"{incident.key} is on the public status page: a published incident cannot be "
            "restricted (declare the sensitive part as a new restricted incident)",
            ("input", "restricted"),
        )
    rec = Recorder(incident.id, incident.last_seq, now, principal.actor)
    if restricted:
        rec.add("RESTRICTED", "Restricted to its participants")
    else:
        rec.add("RESTRICTION_LIFTED", "Restriction lifted: every signed-in user can see it")
    return rec.commit(replace(incident, restricted=restricted))


def add_participant(
    incident: Incident, who: str, *, now: datetime, actor: str, admin: bool = False
) -> Change:
    """Add someone who may see the incident while restricted: by ADMIN or by one of the
    people who see it already (no one adds themselves from outside in advance)."""
    require_not_closed(incident)
    if not admin and actor not in viewers(incident):
        raise DomainError(
            UserErrorCode.VALIDATION,
            "only ADMIN or a participant (the declarer, a role holder or an added "
            "participant) may add participants",
            ("input", "actor"),
        )
    who = actor_id(who, "actor")
    if who in incident.participants:
        return Change(incident, ())
    if len(incident.participants) >= PARTICIPANTS_MAX:
        raise invalid("actor", f"an incident has at most {PARTICIPANTS_MAX} participants")
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("PARTICIPANT_ADDED", f"{who} added as a participant", actor=who)
    return rec.commit(replace(incident, participants=(*incident.participants, who)))


def remove_participant(incident: Incident, who: str, *, now: datetime, actor: str) -> Change:
    require_not_closed(incident)
    if who not in incident.participants:
        raise DomainError(
            UserErrorCode.NOT_FOUND, f"{who[:60]} is not a participant", ("input", "actor")
        )
    kept = tuple(p for p in incident.participants if p != who)
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("PARTICIPANT_REMOVED", f"{who} no longer a participant", actor=who)
    return rec.commit(replace(incident, participants=kept))
