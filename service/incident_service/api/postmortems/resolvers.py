"""Post-incident review over GraphQL: postmortem and action item mutations, the action item
list. Each change is also an INTERNAL event on its incident's timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from incident_service import clock
from incident_service.api.common import PageInfo, no_count, payload
from incident_service.api.context import Info
from incident_service.api.permissions import IsResponder, IsViewer
from incident_service.api.postmortems.types import (
    ActionItem,
    ActionItemConnection,
    ActionItemEdge,
    ActionItemFilter,
    ActionItemPayload,
    AddActionItemInput,
    Postmortem,
    PostmortemPayload,
    PublishPostmortemInput,
    SubmitPostmortemInput,
    UpdateActionItemInput,
    UpsertPostmortemInput,
    copy_fields,
)
from incident_service.domain import action_items as items
from incident_service.domain import postmortem as domain
from incident_service.domain.errors import not_found
from incident_service.domain.incident import Incident
from incident_service.domain.validation import object_id, page_size
from incident_service.store.action_items import ActionItemQuery
from incident_service.store.postmortems import Command


async def _postmortem(
    info: Info, raw_id: str, command: Command
) -> tuple[domain.Postmortem, Incident | None]:
    incident_id = await _visible(info, raw_id)
    written = await info.context.postmortems.change(incident_id, command)
    return written, await info.context.incidents.get(incident_id)


async def _visible(info: Info, raw_id: str) -> str:
    """The incident's id, if the caller may see it (a restricted incident they do not take
    part in answers as an unknown one)."""
    incident_id = object_id(raw_id, "incidentId")
    if await info.context.incidents.get(incident_id) is None:
        raise not_found("incident", "incidentId")
    return incident_id


async def _pm_payload(
    work: Callable[[], Awaitable[tuple[domain.Postmortem, Incident | None]]],
) -> PostmortemPayload:
    def ok(result: tuple[domain.Postmortem, Incident | None]) -> PostmortemPayload:
        pm, incident = result
        root_cause = incident.root_cause if incident else None
        return PostmortemPayload(postmortem=Postmortem.from_domain(pm, root_cause), user_errors=[])

    return await payload(
        work, ok, lambda errors: PostmortemPayload(postmortem=None, user_errors=errors)
    )


def _guard(current: domain.Postmortem | None, expected: int | None) -> None:
    if expected is not None:
        domain.check_version(current, expected)


@strawberry.type
class PostmortemQueries:
    @strawberry.field(
        description="Action items across incidents, soonest due first (Relay connection): "
        "the weekly review's list.",
        permission_classes=[IsViewer],
    )
    async def action_items(
        self,
        info: Info,
        filter: ActionItemFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ActionItemConnection:
        f = filter or ActionItemFilter()
        query = ActionItemQuery(
            owner=f.owner,
            statuses=tuple(f.status or ()),
            overdue=f.overdue,
            incident_id=object_id(f.incident_id, "incidentId") if f.incident_id else None,
        )
        now, store = clock.now(), info.context.action_items
        if query.incident_id and await info.context.incidents.get(query.incident_id) is None:
            # A restricted incident the caller does not take part in: as an unknown id.
            empty = PageInfo.forward([], False)
            return ActionItemConnection(edges=[], page_info=empty, count=no_count)
        found, has_next = await store.page(query, now, page_size(first), after)
        # Items of a restricted incident the caller does not take part in are left out.
        seen = await info.context.incidents.get_many(list({a.incident_id for a, _ in found}))
        visible = {i.id for i in seen}
        edges = [
            ActionItemEdge(cursor=c, node=ActionItem.from_domain(a))
            for a, c in found
            if a.incident_id in visible
        ]
        return ActionItemConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], has_next),
            count=lambda: store.count(query, now),
        )


@strawberry.type
class PostmortemMutations:
    @strawberry.mutation(
        description="Write a postmortem's fields (creating it), guarded by its version. Works "
        "in any incident status, CLOSED included; the incident's own fields do not change.",
        permission_classes=[IsResponder],
    )
    async def upsert_postmortem(
        self, info: Info, input: UpsertPostmortemInput
    ) -> PostmortemPayload:
        draft = copy_fields(input, domain.Draft)
        now, actor = clock.now(), info.context.principal.actor
        return await _pm_payload(
            lambda: _postmortem(
                info,
                input.incident_id,
                lambda current, incident: domain.upsert(
                    current,
                    incident,
                    draft,
                    expected_version=input.expected_version,
                    now=now,
                    actor=actor,
                ),
            )
        )

    @strawberry.mutation(
        description="Submit a DRAFT postmortem for review: DRAFT -> IN_REVIEW.",
        permission_classes=[IsResponder],
    )
    async def submit_postmortem_for_review(
        self, info: Info, input: SubmitPostmortemInput
    ) -> PostmortemPayload:
        now, actor = clock.now(), info.context.principal.actor

        def command(
            current: domain.Postmortem | None, incident: Incident
        ) -> domain.PostmortemChange:
            _guard(current, input.expected_version)
            return domain.submit(current, incident, now=now, actor=actor)

        return await _pm_payload(lambda: _postmortem(info, input.incident_id, command))

    @strawberry.mutation(
        description="Publish a postmortem IN_REVIEW (it needs a summary). With public: true "
        "its public fields are shown on the status page and the Statuspage API reports the "
        "incident as `postmortem`. Sends the postmortem.published webhook.",
        permission_classes=[IsResponder],
    )
    async def publish_postmortem(
        self, info: Info, input: PublishPostmortemInput
    ) -> PostmortemPayload:
        now, actor = clock.now(), info.context.principal.actor

        def command(
            current: domain.Postmortem | None, incident: Incident
        ) -> domain.PostmortemChange:
            _guard(current, input.expected_version)
            return domain.publish(current, incident, input.public, now=now, actor=actor)

        return await _pm_payload(lambda: _postmortem(info, input.incident_id, command))

    @strawberry.mutation(
        description="Add an action item to an incident (also after it is CLOSED).",
        permission_classes=[IsResponder],
    )
    async def add_action_item(self, info: Info, input: AddActionItemInput) -> ActionItemPayload:
        cmd = copy_fields(input, items.NewActionItem)

        async def work() -> items.ActionItem:
            incident_id = await _visible(info, input.incident_id)
            return await info.context.action_items.add(
                incident_id, cmd, now=clock.now(), actor=info.context.principal.actor
            )

        return await payload(work, ActionItemPayload.ok, ActionItemPayload.failed)

    @strawberry.mutation(
        description="Change an action item, guarded by its version. Setting status DONE "
        "records ACTION_ITEM_COMPLETED on the incident's timeline.",
        permission_classes=[IsResponder],
    )
    async def update_action_item(
        self, info: Info, input: UpdateActionItemInput
    ) -> ActionItemPayload:
        cmd = copy_fields(input, items.ActionItemUpdate)
        now, actor = clock.now(), info.context.principal.actor
        sees = info.context.incidents.sees

        def command(item: items.ActionItem, incident: Incident) -> items.ActionItemChange:
            if not sees(incident):
                raise not_found("action item")
            return items.update(
                item,
                cmd,
                incident,
                expected_version=input.expected_version,
                now=now,
                actor=actor,
            )

        return await payload(
            lambda: info.context.action_items.update(object_id(input.id), command),
            ActionItemPayload.ok,
            ActionItemPayload.failed,
        )
