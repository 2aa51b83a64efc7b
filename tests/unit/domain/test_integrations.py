"""Integrations as values: routing keys and defaults."""

from __future__ import annotations

import pytest

from incident_service.domain import integrations
from incident_service.domain.apikeys import PREFIX as API_KEY_PREFIX
from incident_service.domain.enums import IntegrationKind
from incident_service.domain.errors import DomainError
from incident_service.domain.principal import Role
from tests.unit.helpers import T0


def make(name: str = " prom ", **defaults: object) -> tuple[integrations.Integration, str]:
    return integrations.new_integration(
        name,
        IntegrationKind.EVENTS_V2,
        integrations.Defaults(**defaults),  # type: ignore[arg-type]
        True,
        integration_id="1" * 24,
        now=T0,
        actor="admin",
    )


def test_a_routing_key_is_not_an_api_key_and_is_shown_by_prefix_only() -> None:
    integration, key = make()
    assert key.startswith(integrations.PREFIX) and not key.startswith(API_KEY_PREFIX)
    assert integration.prefix == key[: integrations.SHOWN_CHARS] and integration.name == "prom"


def test_its_principal_has_no_role_and_names_it_on_the_timeline() -> None:
    principal = make()[0].principal()
    assert principal.role is Role.ANONYMOUS and principal.kind == "integration"
    assert principal.actor == "integration:prom"


def test_defaults_are_checked() -> None:
    integration, _ = make(service_ids=("a", "a"), labels=(" x ", "x"))
    assert integration.defaults.service_ids == ("a",) and integration.defaults.labels == ("x",)
    with pytest.raises(DomainError):
        make(labels=("",))
    with pytest.raises(DomainError):
        make(name="")
