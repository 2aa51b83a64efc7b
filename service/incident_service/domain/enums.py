"""The vocabularies of the incident process; values are the GraphQL enum names."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    TRIGGERED = "TRIGGERED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    INVESTIGATING = "INVESTIGATING"
    IDENTIFIED = "IDENTIFIED"
    MONITORING = "MONITORING"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class PublicStatus(StrEnum):
    INVESTIGATING = "INVESTIGATING"
    IDENTIFIED = "IDENTIFIED"
    MONITORING = "MONITORING"
    RESOLVED = "RESOLVED"


class Impact(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Urgency(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


class IncidentCategory(StrEnum):
    OUTAGE = "OUTAGE"
    SECURITY = "SECURITY"
    NETWORK = "NETWORK"
    PERFORMANCE = "PERFORMANCE"
    SOFTWARE_BUG = "SOFTWARE_BUG"
    HARDWARE = "HARDWARE"
    DISASTER = "DISASTER"
    OTHER = "OTHER"


class IncidentRole(StrEnum):
    COMMANDER = "COMMANDER"
    COMMUNICATIONS_LEAD = "COMMUNICATIONS_LEAD"
    SCRIBE = "SCRIBE"
    RESPONDER = "RESPONDER"


class Visibility(StrEnum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"


class ComponentStatus(StrEnum):
    OPERATIONAL = "OPERATIONAL"
    DEGRADED_PERFORMANCE = "DEGRADED_PERFORMANCE"
    PARTIAL_OUTAGE = "PARTIAL_OUTAGE"
    MAJOR_OUTAGE = "MAJOR_OUTAGE"
    UNDER_MAINTENANCE = "UNDER_MAINTENANCE"


class TaskStatus(StrEnum):
    TODO = "TODO"
    DOING = "DOING"
    DONE = "DONE"
    SKIPPED = "SKIPPED"


class LinkKind(StrEnum):
    RELATED = "RELATED"
    DUPLICATE_OF = "DUPLICATE_OF"
    #: A major incident and one of the incidents it gathers (one level deep).
    PARENT_OF = "PARENT_OF"


class UserErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    #: REQUIRE_POSTMORTEM_FOR: the incident closes only once its postmortem is published.
    POSTMORTEM_REQUIRED = "POSTMORTEM_REQUIRED"
    #: A major incident resolves only once every incident it gathers is resolved.
    CHILDREN_OPEN = "CHILDREN_OPEN"
    #: An idempotency key sent again with a different declaration.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


class MaintenanceStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class IntegrationKind(StrEnum):
    ALERTMANAGER = "ALERTMANAGER"
    EVENTS_V2 = "EVENTS_V2"


class AlertStatus(StrEnum):
    TRIGGERED = "TRIGGERED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


class AlertAction(StrEnum):
    TRIGGER = "TRIGGER"
    ACKNOWLEDGE = "ACKNOWLEDGE"
    RESOLVE = "RESOLVE"


class Severity(StrEnum):
    """The Events v2 vocabulary; Alertmanager's `severity` label is read in it."""

    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"
