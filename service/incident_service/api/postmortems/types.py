"""GraphQL types and inputs of the post-incident review: postmortems and action items."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from incident_service import clock
from incident_service.api.common import PageInfo, Priority, UserError
from incident_service.api.context import Info
from incident_service.api.incidents.types import IncidentEvent
from incident_service.domain import action_items, postmortem

if TYPE_CHECKING:
    from incident_service.api.incidents.types import Incident

C = TypeVar("C")


def copy_fields(source: Any, command: type[C]) -> C:
    """A domain command from an input whose fields have the same names (the input may have
    more, such as ids and versions, which the command does not take)."""
    names = [f.name for f in dataclasses.fields(command)]  # type: ignore[arg-type]
    return command(**{n: getattr(source, n) for n in names})


PostmortemStatus = postmortem.PostmortemStatus
strawberry.enum(
    PostmortemStatus,
    description="DRAFT -> IN_REVIEW (submitPostmortemForReview) -> PUBLISHED (publishPostmortem).",
)
ActionItemStatus = action_items.ActionItemStatus
strawberry.enum(
    ActionItemStatus,
    description="OPEN and IN_PROGRESS are work still to do (and can be overdue); DONE and "
    "WONT_DO are finished.",
)


@strawberry.type(
    description="The postmortem of an incident: the review written once it is over. It has "
    "its own version, and works after the incident is CLOSED."
)
class Postmortem:
    incident_id: strawberry.ID = strawberry.field(description="The incident it reviews.")
    status: PostmortemStatus = strawberry.field(description="Where the review is.")
    summary: str | None = strawberry.field(
        description="What happened, in a few sentences. Needed to publish; public when the "
        "postmortem is published with public: true."
    )
    customer_impact: str | None = strawberry.field(
        description="What customers experienced; public when published with public: true."
    )
    root_cause: str | None = strawberry.field(
        description="Why it happened: the postmortem's own text, else the incident's recorded "
        "root cause. Never public."
    )
    trigger: str | None = strawberry.field(description="What set it off. Never public.")
    detection: str | None = strawberry.field(
        description="How and when it was noticed. Never public."
    )
    resolution: str | None = strawberry.field(
        description="How it was fixed, written for customers: public when published with "
        "public: true (the incident's own resolution is not copied here)."
    )
    contributing_factors: list[str] = strawberry.field(
        description="What made it possible or worse. Never public."
    )
    what_went_well: str | None = strawberry.field(
        description="What went well in the response. Never public."
    )
    what_went_wrong: str | None = strawberry.field(
        description="What went wrong or slowed the response. Never public."
    )
    lessons: str | None = strawberry.field(
        description="Lessons learned for next time. Never public."
    )
    timeline_seqs: list[int] = strawberry.field(
        description="The timeline events picked by hand (their seq); empty: the timeline is "
        "the incident's key milestones and updates."
    )
    author: str = strawberry.field(description="Who started the postmortem.")
    reviewers: list[str] = strawberry.field(description="Who reviews the postmortem.")
    public: bool = strawberry.field(
        description="Shown on the status page (summary, customerImpact, resolution only) "
        "once published."
    )
    published_at: datetime | None = strawberry.field(description="When it was published.")
    published_by: str | None = strawberry.field(description="Who published it.")
    created_at: datetime = strawberry.field(description="When it was started.")
    updated_at: datetime = strawberry.field(description="Its last change.")
    version: int = strawberry.field(
        description="Increases by one on every change; pass as expectedVersion to "
        "upsertPostmortem (0 before there is one)."
    )
    domain: strawberry.Private[postmortem.Postmortem]

    @classmethod
    def from_domain(cls, p: postmortem.Postmortem, incident_root_cause: str | None) -> Postmortem:
        return cls(
            incident_id=strawberry.ID(p.incident_id),
            status=p.status,
            summary=p.summary,
            customer_impact=p.customer_impact,
            root_cause=p.root_cause or incident_root_cause,
            trigger=p.trigger,
            detection=p.detection,
            resolution=p.resolution,
            contributing_factors=list(p.contributing_factors),
            what_went_well=p.what_went_well,
            what_went_wrong=p.what_went_wrong,
            lessons=p.lessons,
            timeline_seqs=list(p.timeline_seqs),
            author=p.author,
            reviewers=list(p.reviewers),
            public=p.public,
            published_at=p.published_at,
            published_by=p.published_by,
            created_at=p.created_at,
            updated_at=p.updated_at,
            version=p.version,
            domain=p,
        )

    @strawberry.field(
        description="The key milestones and updates of the incident, oldest first, or the "
        "events picked in timelineSeqs (at most 500)."
    )
    async def timeline(self, info: Info) -> list[IncidentEvent]:
        incident = await info.context.incidents.get(self.domain.incident_id)
        if incident is None:
            return []
        events = await info.context.postmortems.timeline(self.domain, incident)
        return [IncidentEvent.from_domain(e) for e in events]


@strawberry.type(description="Follow-up work decided by a review: owned, due, tracked.")
class ActionItem:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    incident_id: strawberry.ID = strawberry.field(description="The incident it follows up.")
    title: str = strawberry.field(description="What is to be done.")
    description: str | None = strawberry.field(description="Details of the work.")
    owner: str = strawberry.field(description="Who does the work.")
    due_at: datetime | None = strawberry.field(description="Due by then (null: no due date).")
    priority: Priority = strawberry.field(description="How much it matters, P1 most.")
    status: ActionItemStatus = strawberry.field(description="Where the work is.")
    url: str | None = strawberry.field(description="A link to the work (a ticket, a change).")
    created_at: datetime = strawberry.field(description="When it was added.")
    created_by: str = strawberry.field(description="Who added it.")
    updated_at: datetime = strawberry.field(description="Its last change.")
    completed_at: datetime | None = strawberry.field(
        description="When it became DONE or WONT_DO (null while still to do)."
    )
    version: int = strawberry.field(
        description="Increases by one on every change; pass as expectedVersion to updateActionItem."
    )
    domain: strawberry.Private[action_items.ActionItem]

    @classmethod
    def from_domain(cls, a: action_items.ActionItem) -> ActionItem:
        return cls(
            id=strawberry.ID(a.id),
            incident_id=strawberry.ID(a.incident_id),
            title=a.title,
            description=a.description,
            owner=a.owner,
            due_at=a.due_at,
            priority=a.priority,
            status=a.status,
            url=a.url,
            created_at=a.created_at,
            created_by=a.created_by,
            updated_at=a.updated_at,
            completed_at=a.completed_at,
            version=a.version,
            domain=a,
        )

    @strawberry.field(description="Still to do (OPEN or IN_PROGRESS) and past its due date.")
    def overdue(self) -> bool:
        return self.domain.overdue(clock.now())

    @strawberry.field(description="The incident it follows up.")
    async def incident(
        self, info: Info
    ) -> Annotated[Incident, strawberry.lazy("incident_service.api.incidents.types")] | None:
        from incident_service.api.incidents.types import Incident

        found = await info.context.incidents.get(self.domain.incident_id)
        return Incident.from_domain(found) if found else None


@strawberry.type(description="An edge of the action item list.")
class ActionItemEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass as `after`.")
    node: ActionItem = strawberry.field(description="The action item.")


@strawberry.type(
    description="A page of action items: soonest due first, those without a due date last."
)
class ActionItemConnection:
    edges: list[ActionItemEdge] = strawberry.field(description="The action items on this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of action items matching the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="Result of a postmortem mutation.")
class PostmortemPayload:
    postmortem: Postmortem | None = strawberry.field(
        description="The postmortem after the change (null when nothing could be done)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )


@strawberry.type(description="Result of an action item mutation.")
class ActionItemPayload:
    action_item: ActionItem | None = strawberry.field(
        description="The action item after the change (null when nothing could be done)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, a: action_items.ActionItem) -> ActionItemPayload:
        return cls(action_item=ActionItem.from_domain(a), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> ActionItemPayload:
        return cls(action_item=None, user_errors=errors)


@strawberry.input(
    description="Write a postmortem's fields, creating it if the incident has none. Omitted "
    "fields stay as they are; a blank text clears a field."
)
class UpsertPostmortemInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    expected_version: int = strawberry.field(
        description="The postmortem's version as last read (0 to create it); a stale one is a "
        "CONFLICT and nothing is written."
    )
    summary: str | None = strawberry.field(default=None, description="What happened (public).")
    customer_impact: str | None = strawberry.field(
        default=None, description="What customers experienced (public)."
    )
    root_cause: str | None = strawberry.field(
        default=None, description="Why it happened; blank: the incident's root cause."
    )
    trigger: str | None = strawberry.field(default=None, description="What set it off.")
    detection: str | None = strawberry.field(default=None, description="How it was noticed.")
    resolution: str | None = strawberry.field(
        default=None, description="How it was fixed, for customers (public)."
    )
    contributing_factors: list[str] | None = strawberry.field(
        default=None, description="Replace the contributing factors (at most 50)."
    )
    what_went_well: str | None = strawberry.field(default=None, description="What went well.")
    what_went_wrong: str | None = strawberry.field(default=None, description="What went wrong.")
    lessons: str | None = strawberry.field(default=None, description="Lessons learned.")
    timeline_seqs: list[int] | None = strawberry.field(
        default=None,
        description="Pick the timeline's events by seq (at most 500); [] returns to the key "
        "milestones and updates.",
    )
    reviewers: list[str] | None = strawberry.field(
        default=None, description="Replace the reviewers (at most 20)."
    )


@strawberry.input(description="Submit a DRAFT postmortem for review.")
class SubmitPostmortemInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    expected_version: int | None = strawberry.field(
        default=None, description="Guard: the postmortem's version as last read."
    )


@strawberry.input(description="Publish a postmortem IN_REVIEW (it needs a summary).")
class PublishPostmortemInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident.")
    public: bool = strawberry.field(
        default=False,
        description="Also show its public fields (summary, customerImpact, resolution) on the "
        "status page, for a published incident. On a published postmortem only this changes.",
    )
    expected_version: int | None = strawberry.field(
        default=None, description="Guard: the postmortem's version as last read."
    )


@strawberry.input(description="Add an action item to an incident (also after it is CLOSED).")
class AddActionItemInput:
    incident_id: strawberry.ID = strawberry.field(description="The incident it follows up.")
    title: str = strawberry.field(description="What is to be done, 1..200 characters.")
    owner: str = strawberry.field(description="Who does it.")
    description: str | None = strawberry.field(default=None, description="Details.")
    due_at: datetime | None = strawberry.field(default=None, description="Due by then.")
    priority: Priority = strawberry.field(default=Priority.P3, description="P1 matters most.")
    url: str | None = strawberry.field(default=None, description="An http(s) link to the work.")


@strawberry.input(description="Change an action item; omitted fields stay as they are.")
class UpdateActionItemInput:
    id: strawberry.ID = strawberry.field(description="The action item.")
    expected_version: int = strawberry.field(
        description="Its version as last read; a stale one is a CONFLICT and nothing is written."
    )
    title: str | None = strawberry.field(default=None, description="New title.")
    description: str | None = strawberry.field(
        default=None, description="New details (blank clears them)."
    )
    owner: str | None = strawberry.field(default=None, description="New owner.")
    due_at: datetime | None = strawberry.field(default=None, description="New due date.")
    priority: Priority | None = strawberry.field(default=None, description="New priority.")
    status: ActionItemStatus | None = strawberry.field(
        default=None, description="New status; DONE records ACTION_ITEM_COMPLETED."
    )
    url: str | None = strawberry.field(default=None, description="New link (blank clears it).")


@strawberry.input(description="Filter for the action item list; all given conditions hold.")
class ActionItemFilter:
    owner: str | None = strawberry.field(default=None, description="Owned by exactly this name.")
    status: list[ActionItemStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: still to do and past due; false: not overdue; omitted: either.",
    )
    incident_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this incident."
    )
