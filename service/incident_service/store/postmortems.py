"""Postmortems: one document per incident (`_id` = the incident's id), beside it.

Each write runs the pure domain command in one transaction with the incident
as it is there, writes the postmortem guarded by its version, and puts the
command's events on the incident's timeline (see `IncidentStore.beside`); a
publication also writes its outbox message there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pymongo.asynchronous.client_session import AsyncClientSession

from incident_service.domain import notifications
from incident_service.domain import postmortem as domain
from incident_service.domain.incident import Event, Incident, field_name
from incident_service.domain.postmortem import Postmortem, PostmortemChange, PostmortemStatus
from incident_service.store import codec
from incident_service.store.codec import Doc
from incident_service.store.database import Database
from incident_service.store.incidents import IncidentStore, Stale
from incident_service.store.outbox import Outbox

#: A postmortem command: (current postmortem or None, incident) -> change.
Command = Callable[[Postmortem | None, Incident], PostmortemChange]


def to_doc(p: Postmortem) -> Doc:
    return {
        "_id": p.incident_id,
        "status": p.status.value,
        "author": p.author,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
        **{field_name(k): getattr(p, k) for k in domain.TEXT_FIELDS},
        "contributingFactors": list(p.contributing_factors),
        "timelineSeqs": list(p.timeline_seqs),
        "reviewers": list(p.reviewers),
        "public": p.public,
        "publishedAt": p.published_at,
        "publishedBy": p.published_by,
        "version": p.version,
    }


def from_doc(d: Doc) -> Postmortem:
    return Postmortem(
        incident_id=d["_id"],
        status=PostmortemStatus(d["status"]),
        author=d["author"],
        created_at=d["createdAt"],
        updated_at=d["updatedAt"],
        **{k: d.get(field_name(k)) for k in domain.TEXT_FIELDS},
        contributing_factors=tuple(d.get("contributingFactors", ())),
        timeline_seqs=tuple(d.get("timelineSeqs", ())),
        reviewers=tuple(d.get("reviewers", ())),
        public=bool(d.get("public", False)),
        published_at=d.get("publishedAt"),
        published_by=d.get("publishedBy"),
        version=d["version"],
    )


async def public_for(database: Database, incident_ids: Sequence[str]) -> dict[str, Postmortem]:
    """The public, published postmortems of these incidents (for the status page)."""
    if not incident_ids:
        return {}
    docs = (
        await database.collection("postmortems")
        .find(
            {
                "_id": {"$in": list(incident_ids)},
                "status": PostmortemStatus.PUBLISHED.value,
                "public": True,
            }
        )
        .to_list()
    )
    return {d["_id"]: from_doc(d) for d in docs}


class PostmortemStore:
    def __init__(self, database: Database, incidents: IncidentStore, outbox: Outbox) -> None:
        self._db = database
        self._incidents = incidents
        self._outbox = outbox
        self._postmortems = database.collection("postmortems")

    async def get(self, incident_id: str) -> Postmortem | None:
        doc = await self._postmortems.find_one({"_id": incident_id})
        return from_doc(doc) if doc else None

    async def is_published(self, incident_id: str) -> bool:
        found = await self._postmortems.find_one(
            {"_id": incident_id, "status": PostmortemStatus.PUBLISHED.value}, projection={"_id": 1}
        )
        return found is not None

    async def timeline(self, postmortem: Postmortem | None, incident: Incident) -> list[Event]:
        """The postmortem's timeline (picked events, else the key milestones and updates)."""
        query: Doc = {"incidentId": incident.id}
        if postmortem is not None and postmortem.timeline_seqs:
            query["seq"] = {"$in": list(postmortem.timeline_seqs)}
        else:
            query["type"] = {"$in": list(domain.KEY_EVENT_TYPES)}
        # Served by the `timeline` index (incidentId, seq).
        docs = await (
            self._db.incident_events.find(query).sort("seq", 1).limit(domain.MAX_TIMELINE)
        ).to_list()
        return domain.timeline(postmortem, [codec.event_from_doc(d) for d in docs])

    async def change(self, incident_id: str, command: Command) -> Postmortem:
        """Run `command` on the postmortem as stored (None if there is none yet) and write
        the result, its timeline events and, when published, its outbox message."""
        done: list[Postmortem] = []

        async def body(incident: Incident, session: AsyncClientSession) -> tuple[Event, ...]:
            done.clear()
            doc = await self._postmortems.find_one({"_id": incident.id}, session=session)
            current = from_doc(doc) if doc else None
            change = command(current, incident)
            done.append(change.postmortem)
            if not change.events:
                return ()
            new = to_doc(change.postmortem)
            if current is None:
                await self._postmortems.insert_one(new, session=session)
            else:
                result = await self._postmortems.replace_one(
                    {"_id": incident.id, "version": current.version}, new, session=session
                )
                if result.matched_count == 0:
                    raise Stale
            if not incident.restricted and any(
                e.type == "POSTMORTEM_PUBLISHED" for e in change.events
            ):
                message = notifications.for_postmortem(incident, change.postmortem)
                await self._outbox.record([message], session)
            return change.events

        await self._incidents.beside(incident_id, body)
        return done[0]
