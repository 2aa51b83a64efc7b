"""Integrations as values: one per monitoring source, with its routing key and defaults. No I/O.

A routing key is minted and stored like an API key (see `apikeys.py` for why a
plain SHA-256 is right for a 256-bit secret), with its own prefix so that the
authenticator tells the two apart before any lookup.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from incident_service.domain import validation
from incident_service.domain.apikeys import check_name
from incident_service.domain.enums import Impact, IncidentCategory, IntegrationKind, Urgency
from incident_service.domain.principal import Principal, Role

#: Every routing key starts with this; API keys start with `isk_`.
PREFIX = "irk_"
SHOWN_CHARS = len(PREFIX) + 6


@dataclass(frozen=True)
class Defaults:
    """What an incident opened by this integration starts with; impact and urgency,
    when set, override the ones the alert's severity maps to."""

    category: IncidentCategory = IncidentCategory.OTHER
    impact: Impact | None = None
    urgency: Urgency | None = None
    service_ids: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    kind: IntegrationKind
    prefix: str
    created_at: datetime
    created_by: str
    defaults: Defaults = field(default_factory=Defaults)
    auto_resolve: bool = True
    rotated_at: datetime | None = None
    disabled_at: datetime | None = None
    disabled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def principal(self) -> Principal:
        """A routing key's caller: below every role, so it reaches no role-guarded field."""
        return Principal(self.name, Role.ANONYMOUS, "integration", subject=self.name)


def mint_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def check_defaults(defaults: Defaults) -> Defaults:
    labels = validation.labels(list(defaults.labels), "defaults.labels")
    return Defaults(
        category=defaults.category,
        impact=defaults.impact,
        urgency=defaults.urgency,
        service_ids=tuple(dict.fromkeys(defaults.service_ids)),
        labels=tuple(labels),
    )


def new_integration(
    name: str,
    kind: IntegrationKind,
    defaults: Defaults,
    auto_resolve: bool,
    *,
    integration_id: str,
    now: datetime,
    actor: str,
) -> tuple[Integration, str]:
    """A new integration and its routing key; the key is returned once and never stored."""
    key = mint_key()
    integration = Integration(
        id=integration_id,
        name=check_name(name),
        kind=kind,
        prefix=key[:SHOWN_CHARS],
        created_at=now,
        created_by=actor,
        defaults=check_defaults(defaults),
        auto_resolve=auto_resolve,
    )
    return integration, key


def service_ids(defaults: Defaults, extra: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*defaults.service_ids, *extra]))
