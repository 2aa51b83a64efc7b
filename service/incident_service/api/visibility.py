"""The incident store as one caller sees it: restricted incidents they do not take part
in do not exist for them.

Every resolver reads and changes incidents through `Context.incidents`,
which is this view of the store for the request's principal: a lookup
answers None, a list and its count leave the incident out, and a change
answers NOT_FOUND, exactly as for an incident that was never declared
(domain/restriction.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from incident_service.domain.errors import not_found
from incident_service.domain.incident import Change, Declaration, Event, Incident
from incident_service.domain.principal import Principal, Role
from incident_service.domain.query import IncidentOrder, IncidentQuery
from incident_service.domain.restriction import can_see
from incident_service.store.incidents import IncidentStore, Page


class VisibleIncidents:
    def __init__(self, store: IncidentStore, principal: Principal) -> None:
        self._store = store
        self._principal = principal

    def sees(self, incident: Incident) -> bool:
        return can_see(incident, self._principal)

    def _shown(self, incident: Incident | None) -> Incident | None:
        return incident if incident is not None and self.sees(incident) else None

    def scoped(self, query: IncidentQuery) -> IncidentQuery:
        """`query`, narrowed to what the caller may see."""
        if self._principal.role >= Role.ADMIN:
            return query
        return replace(query, viewer=self._principal.actor)

    async def get(self, incident_id: str) -> Incident | None:
        return self._shown(await self._store.get(incident_id))

    async def get_by_key(self, key: str) -> Incident | None:
        return self._shown(await self._store.get_by_key(key))

    async def get_many(self, ids: list[str]) -> list[Incident]:
        return [i for i in await self._store.get_many(ids) if self.sees(i)]

    async def page(
        self, query: IncidentQuery, order_by: IncidentOrder, first: int, after: str | None
    ) -> Page:
        return await self._store.page(self.scoped(query), order_by, first, after)

    async def count(self, query: IncidentQuery) -> int:
        return await self._store.count(self.scoped(query))

    async def events(self, incident_id: str, after_seq: int, limit: int) -> list[Event]:
        """The timeline of an incident the caller was found to see."""
        return await self._store.events(incident_id, after_seq, limit)

    async def events_of_many(
        self, incident_ids: list[str], after_seq: int, limit: int
    ) -> dict[str, list[Event]]:
        """The timelines of incidents the caller was found to see, in one round trip."""
        return await self._store.events_of_many(incident_ids, after_seq, limit)

    async def declare(
        self,
        cmd: Declaration,
        *,
        now: datetime,
        actor: str,
        then: Callable[[Change], Change] | None = None,
    ) -> tuple[Incident, bool]:
        incident, created = await self._store.declare(cmd, now=now, actor=actor, then=then)
        if not created and not self.sees(incident):
            # Keys are the caller's own, and a declarer always sees its incident; this
            # holds should an ADMIN-made key ever outlive the declarer's participation.
            raise not_found("incident", "idempotencyKey")
        return incident, created

    def _guard(self, command: Callable[[Incident], Change]) -> Callable[[Incident], Change]:
        def run(incident: Incident) -> Change:
            if not self.sees(incident):
                raise not_found("incident")
            return command(incident)

        return run

    async def apply(
        self,
        incident_id: str,
        command: Callable[[Incident], Change],
        expected_version: int | None = None,
    ) -> Change:
        if expected_version is not None and await self.get(incident_id) is None:
            # Before the store's version check, whose CONFLICT would tell it exists.
            raise not_found("incident")
        return await self._store.apply(incident_id, self._guard(command), expected_version)

    async def apply_together(
        self,
        first_id: str,
        second_id: str,
        command: Callable[[Incident, Incident], tuple[Change, Change]],
        fields: tuple[str, str] = ("id", "relatedId"),
    ) -> tuple[Change, Change]:
        def run(first: Incident, second: Incident) -> tuple[Change, Change]:
            for incident, field in zip((first, second), fields, strict=True):
                if not self.sees(incident):
                    raise not_found("incident", field)
            return command(first, second)

        return await self._store.apply_together(first_id, second_id, run, fields)
