"""Small permission classes: one per minimum role. Errors carry extensions.code."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from incident_service.domain.principal import Role


class _RoleAtLeast(BasePermission):
    required: ClassVar[Role]

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal.role >= self.required:
            return True
        if principal.kind == "anonymous":
            self.message = "Authentication required: send Authorization: Bearer <api key>"
            self.error_extensions = {"code": "UNAUTHENTICATED"}
        elif principal.kind == "integration":
            self.message = "Forbidden: a routing key may only report alerts"
            self.error_extensions = {"code": "FORBIDDEN"}
        else:
            self.message = (
                f"Forbidden: this needs the {self.required.name} role"
                f" (you have {principal.role.name})"
            )
            self.error_extensions = {"code": "FORBIDDEN"}
        return False


class IsViewer(_RoleAtLeast):
    """Read internal data."""

    required = Role.VIEWER


class IsResponder(_RoleAtLeast):
    """Work incidents."""

    required = Role.RESPONDER


class IsAdmin(_RoleAtLeast):
    """Manage services, API keys and settings."""

    required = Role.ADMIN


class IsAlertSender(BasePermission):
    """Report alerts: a routing key as the bearer token, or one in `input.integrationKey`
    (then checked by the resolver, as Events v2 checks `routing_key`)."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        given = getattr(kwargs.get("input"), "integration_key", None)
        if principal.kind == "integration" or given:
            return True
        if principal.kind == "anonymous":
            self.message = "Authentication required: send an integration's routing key"
            self.error_extensions = {"code": "UNAUTHENTICATED"}
        else:
            self.message = "Forbidden: only an integration's routing key may report alerts"
            self.error_extensions = {"code": "FORBIDDEN"}
        return False
