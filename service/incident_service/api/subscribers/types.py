"""GraphQL types of status page email subscribers."""

from __future__ import annotations

from datetime import datetime

import strawberry

from incident_service.api.common import PageInfo, UserError
from incident_service.domain.subscribers import Subscriber


@strawberry.input(description="Ask for email updates from the status page.")
class SubscribeToStatusPageInput:
    email: str = strawberry.field(description="Where to send them; a confirmation goes first.")
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only updates about these public components (service ids); none or "
        "empty: every update.",
    )


@strawberry.type(
    description="The same answer for a new, pending or already confirmed address, so it tells "
    "nobody who is subscribed."
)
class SubscribeToStatusPagePayload:
    accepted: bool = strawberry.field(
        description="True when the request was taken (see `message`); false with userErrors."
    )
    message: str | None = strawberry.field(description="What happens next, for the visitor.")
    user_errors: list[UserError] = strawberry.field(
        description="VALIDATION (field `email` or `serviceIds`), RATE_LIMITED, or UNAVAILABLE "
        "(email is not set up); nothing was written."
    )

    @classmethod
    def ok(cls, _: None) -> SubscribeToStatusPagePayload:
        return cls(
            accepted=True,
            message="If the address can receive email, a confirmation link is on its way. "
            "Follow it to start getting updates.",
            user_errors=[],
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> SubscribeToStatusPagePayload:
        return cls(accepted=False, message=None, user_errors=errors)


@strawberry.type(description="An email subscriber of the status page (ADMIN).")
class StatusPageSubscriber:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    email: str = strawberry.field(description="The address.")
    service_ids: list[strawberry.ID] = strawberry.field(
        description="The components chosen; empty: every public update."
    )
    confirmed: bool = strawberry.field(
        description="False until the confirmation link is followed; only confirmed "
        "subscribers get updates (unconfirmed ones are forgotten when the link expires)."
    )
    created_at: datetime = strawberry.field(description="When the address first subscribed.")
    confirmed_at: datetime | None = strawberry.field(description="When it was confirmed.")

    @classmethod
    def from_domain(cls, s: Subscriber) -> StatusPageSubscriber:
        return cls(
            id=strawberry.ID(s.id),
            email=s.email,
            service_ids=[strawberry.ID(i) for i in s.service_ids],
            confirmed=s.confirmed,
            created_at=s.created_at,
            confirmed_at=s.confirmed_at,
        )


@strawberry.type(description="An edge of the subscriber list.")
class StatusPageSubscriberEdge:
    cursor: str = strawberry.field(description="Opaque cursor.")
    node: StatusPageSubscriber = strawberry.field(description="The subscriber.")


@strawberry.type(description="Email subscribers, newest first.")
class StatusPageSubscriberConnection:
    edges: list[StatusPageSubscriberEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Paging.")
    total_count: int = strawberry.field(description="Every subscriber, confirmed or not.")


@strawberry.type(description="The result of removeStatusPageSubscriber.")
class StatusPageSubscriberPayload:
    subscriber: StatusPageSubscriber | None = strawberry.field(
        description="The subscriber removed."
    )
    user_errors: list[UserError] = strawberry.field(description="Expected failures.")

    @classmethod
    def ok(cls, s: Subscriber) -> StatusPageSubscriberPayload:
        return cls(subscriber=StatusPageSubscriber.from_domain(s), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> StatusPageSubscriberPayload:
        return cls(subscriber=None, user_errors=errors)
