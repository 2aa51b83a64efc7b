"""Typed, expected failures of domain commands (become GraphQL userErrors)."""

from __future__ import annotations

from dataclasses import dataclass

from incident_service.domain.enums import UserErrorCode


# Not frozen: Python must be able to set __traceback__ when the error passes
# through a running subscription's async generator.
@dataclass(eq=False)
class DomainError(Exception):
    code: UserErrorCode
    message: str
    field: tuple[str, ...] | None = None

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


def validation(field: str, message: str) -> DomainError:
    return DomainError(UserErrorCode.VALIDATION, message, ("input", field))


def not_found(what: str, field: str = "id") -> DomainError:
    return DomainError(UserErrorCode.NOT_FOUND, f"{what} not found", ("input", field))


def conflict(expected: int, actual: int, what: str = "incident") -> DomainError:
    return DomainError(
        UserErrorCode.CONFLICT,
        f"expectedVersion {expected} is stale: the {what} is at version {actual}; "
        "re-read it and retry",
        ("input", "expectedVersion"),
    )
