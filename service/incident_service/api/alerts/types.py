"""GraphQL types of integrations and alerts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from incident_service.api.common import (
    AlertAction,
    AlertStatus,
    Impact,
    IncidentCategory,
    IntegrationKind,
    PageInfo,
    Severity,
    Urgency,
    UserError,
)
from incident_service.api.context import Info
from incident_service.api.permissions import IsViewer
from incident_service.domain import alerts as domain
from incident_service.domain import integrations
from incident_service.domain.alerts import Signal
from incident_service.domain.errors import validation
from incident_service.domain.validation import object_id
from incident_service.store.alerts import AlertQuery

if TYPE_CHECKING:
    from incident_service.api.incidents.types import Incident


@strawberry.type(description="What incidents opened by an integration start with.")
class IntegrationDefaults:
    category: IncidentCategory = strawberry.field(description="Category of its incidents.")
    impact: Impact | None = strawberry.field(
        description="Overrides the impact the alert's severity maps to."
    )
    urgency: Urgency | None = strawberry.field(
        description="Overrides the urgency the alert's severity maps to."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        description="Services every incident of this integration affects."
    )
    labels: list[str] = strawberry.field(description="Labels every incident of it carries.")


@strawberry.type(description="A monitoring source that may post alerts with its routing key.")
class Integration:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(
        description="Unique among enabled integrations; the timeline shows integration:<name>."
    )
    kind: IntegrationKind = strawberry.field(description="The sender it is for.")
    prefix: str = strawberry.field(
        description="The first characters of the routing key, to recognise it; not a credential."
    )
    defaults: IntegrationDefaults = strawberry.field(description="What its incidents start with.")
    auto_resolve: bool = strawberry.field(
        description="Resolve the incident when its last alert resolves (unless a person moved "
        "it past ACKNOWLEDGED)."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    created_by: str = strawberry.field(description="Actor who created it.")
    rotated_at: datetime | None = strawberry.field(description="When its key was last rotated.")
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled; a disabled integration's key is refused."
    )

    @classmethod
    def from_domain(cls, i: integrations.Integration) -> Integration:
        d = i.defaults
        return cls(
            id=strawberry.ID(i.id),
            name=i.name,
            kind=i.kind,
            prefix=i.prefix,
            defaults=IntegrationDefaults(
                category=d.category,
                impact=d.impact,
                urgency=d.urgency,
                service_ids=[strawberry.ID(s) for s in d.service_ids],
                labels=list(d.labels),
            ),
            auto_resolve=i.auto_resolve,
            created_at=i.created_at,
            created_by=i.created_by,
            rotated_at=i.rotated_at,
            disabled_at=i.disabled_at,
        )


@strawberry.type(description="One label of an alert, as the sender gave it.")
class AlertLabel:
    name: str = strawberry.field(description="Label name.")
    value: str = strawberry.field(description="Label value.")


@strawberry.type(
    description="An alert from monitoring: one per open (integration, dedup key); repeats "
    "raise `count` and `lastSeenAt`."
)
class Alert:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    dedup_key: str = strawberry.field(
        description="Alertmanager fingerprint or Events v2 dedup_key (or a hash of the payload)."
    )
    status: AlertStatus = strawberry.field(description="TRIGGERED, ACKNOWLEDGED or RESOLVED.")
    summary: str = strawberry.field(description="What is wrong, as the sender said it.")
    source: str = strawberry.field(description="Where it is wrong (host, job, URL).")
    severity: Severity = strawberry.field(description="The sender's severity.")
    labels: list[AlertLabel] = strawberry.field(description="The sender's labels, as given.")
    details: JSON = strawberry.field(
        description="Annotations, custom details and links, as given (bounded, never queried)."
    )
    count: int = strawberry.field(description="How many times it was triggered while open.")
    first_seen_at: datetime = strawberry.field(
        description="When monitoring first saw it (the sender's start time, never later than "
        "its arrival)."
    )
    last_seen_at: datetime = strawberry.field(description="Its latest trigger.")
    resolved_at: datetime | None = strawberry.field(description="When it resolved.")
    suppressed: bool = strawberry.field(
        description="It arrived for a service under maintenance: stored, opened nothing."
    )
    integration_id: strawberry.Private[str]
    incident_id: strawberry.Private[str | None]

    @classmethod
    def from_domain(cls, a: domain.Alert) -> Alert:
        return cls(
            id=strawberry.ID(a.id),
            dedup_key=a.dedup_key,
            status=a.status,
            summary=a.summary,
            source=a.source,
            severity=a.severity,
            labels=[AlertLabel(name=k, value=v) for k, v in a.labels.items()],
            details=cast(JSON, dict(a.details)),
            count=a.count,
            first_seen_at=a.first_seen_at,
            last_seen_at=a.last_seen_at,
            resolved_at=a.resolved_at,
            suppressed=a.suppressed,
            integration_id=a.integration_id,
            incident_id=a.incident_id,
        )

    @strawberry.field(description="The integration it came from.", permission_classes=[IsViewer])
    async def integration(self, info: Info) -> Integration | None:
        found = await info.context.integrations.get(self.integration_id)
        return Integration.from_domain(found) if found else None

    @strawberry.field(
        description="The incident it opened or joined (null when suppressed).",
        permission_classes=[IsViewer],
    )
    async def incident(
        self, info: Info
    ) -> Annotated[Incident, strawberry.lazy("incident_service.api.incidents.types")] | None:
        from incident_service.api.incidents.types import Incident

        if self.incident_id is None:
            return None
        found = await info.context.incidents.get(self.incident_id)
        return Incident.from_domain(found) if found else None


@strawberry.type(description="An alert and its cursor.")
class AlertEdge:
    cursor: str = strawberry.field(description="Opaque cursor; pass as `after`.")
    node: Alert = strawberry.field(description="The alert.")


@strawberry.type(description="A page of alerts, newest first.")
class AlertConnection:
    edges: list[AlertEdge] = strawberry.field(description="The alerts on this page.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of alerts matching the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input(description="Which alerts to list; all given conditions must hold.")
class AlertFilter:
    status: AlertStatus | None = strawberry.field(default=None, description="Only this status.")
    integration_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only from this integration."
    )
    incident_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only those of this incident."
    )
    severity: Severity | None = strawberry.field(default=None, description="Only this severity.")

    def to_query(self) -> AlertQuery:
        return AlertQuery(
            status=self.status,
            integration_id=object_id(self.integration_id, "integrationId")
            if self.integration_id
            else None,
            incident_id=object_id(self.incident_id, "incidentId") if self.incident_id else None,
            severity=self.severity,
        )


@strawberry.input(description="What incidents opened by an integration start with.")
class IntegrationDefaultsInput:
    category: IncidentCategory = strawberry.field(
        default=IncidentCategory.OTHER, description="Category of its incidents."
    )
    impact: Impact | None = strawberry.field(
        default=None, description="Overrides the impact the severity maps to."
    )
    urgency: Urgency | None = strawberry.field(
        default=None, description="Overrides the urgency the severity maps to."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Services every incident of it affects."
    )
    labels: list[str] = strawberry.field(
        default_factory=list, description="Labels every incident of it carries."
    )

    def to_domain(self) -> integrations.Defaults:
        return integrations.Defaults(
            category=self.category,
            impact=self.impact,
            urgency=self.urgency,
            service_ids=tuple(object_id(s, "defaults.serviceIds") for s in self.service_ids),
            labels=tuple(self.labels),
        )


@strawberry.input(description="Create an integration for one monitoring source.")
class CreateIntegrationInput:
    name: str = strawberry.field(description="1..100 characters; unique among enabled ones.")
    kind: IntegrationKind = strawberry.field(description="The sender it is for.")
    defaults: IntegrationDefaultsInput | None = strawberry.field(
        default=None, description="What its incidents start with."
    )
    auto_resolve: bool = strawberry.field(
        default=True, description="Resolve the incident when its last alert resolves."
    )


@strawberry.input(description="Identify an integration.")
class IntegrationIdInput:
    id: strawberry.ID = strawberry.field(description="The integration's id (not its key).")


@strawberry.input(description="One alert event, as Events v2 would carry it.")
class ReportAlertInput:
    integration_key: str | None = strawberry.field(
        default=None,
        description="The routing key; omit it when sending the key as the bearer token.",
    )
    dedup_key: str = strawberry.field(description="The alert's identity, 1..255 characters.")
    action: AlertAction = strawberry.field(
        default=AlertAction.TRIGGER, description="TRIGGER, ACKNOWLEDGE or RESOLVE."
    )
    summary: str = strawberry.field(default="", description="Required to trigger.")
    source: str = strawberry.field(default="", description="Required to trigger.")
    severity: Severity = strawberry.field(
        default=Severity.WARNING, description="Maps to impact x urgency."
    )
    component: str | None = strawberry.field(
        default=None, description="A service's name: the alert attaches and impacts it."
    )
    labels: JSON | None = strawberry.field(
        default=None, description="An object of string labels (at most 64)."
    )
    details: JSON | None = strawberry.field(
        default=None, description="Any JSON object, at most 16 KB."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When monitoring saw it; the incident's detectedAt."
    )

    def to_domain(self) -> Signal:
        labels: Any = self.labels if self.labels is not None else {}
        details: Any = self.details if self.details is not None else {}
        if not isinstance(labels, dict):
            raise validation("labels", "labels must be an object of strings")
        if not isinstance(details, dict):
            raise validation("details", "details must be a JSON object")
        return Signal(
            action=self.action,
            dedup_key=self.dedup_key,
            summary=self.summary,
            source=self.source,
            severity=self.severity,
            component=self.component,
            labels=labels,
            details=details,
            occurred_at=self.occurred_at,
        )


@strawberry.type(description="Result of createIntegration and rotateIntegrationKey.")
class IntegrationKeyPayload:
    integration: Integration | None = strawberry.field(description="The integration.")
    routing_key: str | None = strawberry.field(
        description="The routing key, for the sender's configuration. Shown only now."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, created: tuple[integrations.Integration, str]) -> IntegrationKeyPayload:
        integration, key = created
        return cls(
            integration=Integration.from_domain(integration), routing_key=key, user_errors=[]
        )

    @classmethod
    def failed(cls, errors: list[UserError]) -> IntegrationKeyPayload:
        return cls(integration=None, routing_key=None, user_errors=errors)


@strawberry.type(description="Result of disableIntegration.")
class IntegrationPayload:
    integration: Integration | None = strawberry.field(description="The integration now.")
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, integration: integrations.Integration) -> IntegrationPayload:
        return cls(integration=Integration.from_domain(integration), user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> IntegrationPayload:
        return cls(integration=None, user_errors=errors)


@strawberry.type(description="Result of reportAlert.")
class AlertPayload:
    alert: Alert | None = strawberry.field(
        description="The alert as it is now (null: nothing open to acknowledge or resolve)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Expected failures; when non-empty nothing was written."
    )

    @classmethod
    def ok(cls, alert: domain.Alert | None) -> AlertPayload:
        return cls(alert=Alert.from_domain(alert) if alert else None, user_errors=[])

    @classmethod
    def failed(cls, errors: list[UserError]) -> AlertPayload:
        return cls(alert=None, user_errors=errors)
