"""Scheduled maintenance: a window on some components, SCHEDULED -> IN_PROGRESS -> COMPLETED.

A window starts and ends at its times by itself (the store's timed jobs call
`start` and `complete` when they are due); people may end it early, move it,
or cancel it before it starts. While IN_PROGRESS its components are
UNDER_MAINTENANCE unless something worse holds them (domain/service.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from incident_service.domain import validation
from incident_service.domain.enums import MaintenanceStatus, UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid

S = MaintenanceStatus
MAX_SERVICES = 100


@dataclass(frozen=True)
class MaintenanceUpdate:
    body: str
    status: MaintenanceStatus
    at: datetime


@dataclass(frozen=True)
class Maintenance:
    id: str
    title: str
    service_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    status: MaintenanceStatus
    #: Shown on the public page, JSON API and feeds (public services only).
    published: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    description: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updates: tuple[MaintenanceUpdate, ...] = ()
    version: int = 1

    @property
    def active(self) -> bool:
        """Not finished: SCHEDULED or IN_PROGRESS."""
        return self.status in (S.SCHEDULED, S.IN_PROGRESS)


@dataclass(frozen=True)
class Schedule:
    title: str
    starts_at: datetime
    ends_at: datetime
    service_ids: Sequence[str] = ()
    description: str | None = None
    publish: bool = True


@dataclass(frozen=True)
class Changes:
    """Fields to change; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    service_ids: Sequence[str] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    publish: bool | None = None


def _check_window(starts_at: datetime, ends_at: datetime, max_window: timedelta) -> None:
    if ends_at <= starts_at:
        raise invalid("endsAt", "endsAt must be after startsAt")
    if ends_at - starts_at > max_window:
        hours = max_window.total_seconds() / 3600
        raise invalid("endsAt", f"a maintenance window may last at most {hours:g} hours")


def _check_services(service_ids: Sequence[str]) -> tuple[str, ...]:
    if len(service_ids) > MAX_SERVICES:
        raise invalid("serviceIds", f"at most {MAX_SERVICES} services per window")
    return tuple(dict.fromkeys(service_ids))


def schedule(
    cmd: Schedule, *, id: str, now: datetime, actor: str, max_window: timedelta
) -> Maintenance:
    _check_window(cmd.starts_at, cmd.ends_at, max_window)
    if cmd.ends_at <= now:
        raise invalid("endsAt", "endsAt must be in the future")
    title = validation.title(cmd.title)
    return Maintenance(
        id=id,
        title=title,
        description=validation.text(cmd.description, "description"),
        service_ids=_check_services(cmd.service_ids),
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        status=S.SCHEDULED,
        published=cmd.publish,
        created_at=now,
        updated_at=now,
        created_by=actor,
        updates=(MaintenanceUpdate(f"Scheduled: {title}", S.SCHEDULED, now),),
    )


def change(m: Maintenance, cmd: Changes, *, now: datetime, max_window: timedelta) -> Maintenance:
    if not m.active:
        raise _finished(m)
    if m.status is S.IN_PROGRESS and cmd.starts_at is not None and cmd.starts_at != m.starts_at:
        raise invalid("startsAt", "the window has started; only its end can move")
    starts_at = cmd.starts_at or m.starts_at
    ends_at = cmd.ends_at or m.ends_at
    _check_window(starts_at, ends_at, max_window)
    if cmd.ends_at is not None and cmd.ends_at <= now:
        raise invalid("endsAt", "endsAt must be in the future; use completeMaintenance to end now")
    new = replace(
        m,
        title=validation.title(cmd.title) if cmd.title is not None else m.title,
        description=(
            validation.text(cmd.description, "description")
            if cmd.description is not None
            else m.description
        ),
        service_ids=(
            _check_services(cmd.service_ids) if cmd.service_ids is not None else m.service_ids
        ),
        starts_at=starts_at,
        ends_at=ends_at,
        published=cmd.publish if cmd.publish is not None else m.published,
    )
    if new == m:
        return m
    return _bump(new, now)


def start(m: Maintenance, now: datetime) -> Maintenance:
    if m.status is not S.SCHEDULED:
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            f"the window is {m.status.value}, not SCHEDULED",
            ("input", "id"),
        )
    update = MaintenanceUpdate("Maintenance started", S.IN_PROGRESS, now)
    return _bump(
        replace(m, status=S.IN_PROGRESS, started_at=now, updates=(*m.updates, update)), now
    )


def complete(m: Maintenance, now: datetime, message: str | None = None) -> Maintenance:
    """End the window now (early, or at its end time)."""
    return _end(m, now, message, S.IN_PROGRESS, S.COMPLETED, "cancel it instead")


def cancel(m: Maintenance, now: datetime, message: str | None = None) -> Maintenance:
    """Call off a window that has not started."""
    return _end(m, now, message, S.SCHEDULED, S.CANCELLED, "complete it instead")


def _end(
    m: Maintenance,
    now: datetime,
    message: str | None,
    source: MaintenanceStatus,
    target: MaintenanceStatus,
    otherwise: str,
) -> Maintenance:
    if m.status is not source:
        hint = f"; {otherwise}" if m.active else ""
        was = m.status.value
        raise DomainError(
            UserErrorCode.INVALID_TRANSITION,
            f"only a window {source.value} can become {target.value} (it is {was}){hint}",
            ("input", "id"),
        )
    body = validation.text(message, "message") or f"Maintenance {target.value.lower()}"
    update = MaintenanceUpdate(body, target, now)
    return _bump(replace(m, status=target, ended_at=now, updates=(*m.updates, update)), now)


def due(m: Maintenance, now: datetime) -> MaintenanceStatus | None:
    """The transition the clock calls for now, if any."""
    if m.status is S.SCHEDULED and now >= m.starts_at:
        return S.IN_PROGRESS
    if m.status is S.IN_PROGRESS and now >= m.ends_at:
        return S.COMPLETED
    return None


def next_due_at(m: Maintenance) -> datetime | None:
    """When the clock next moves this window: its start, then its end."""
    if m.status is S.SCHEDULED:
        return m.starts_at
    if m.status is S.IN_PROGRESS:
        return m.ends_at
    return None


def _bump(m: Maintenance, now: datetime) -> Maintenance:
    return replace(m, updated_at=now, version=m.version + 1)


def _finished(m: Maintenance) -> DomainError:
    return DomainError(
        UserErrorCode.INVALID_TRANSITION,
        f"the window is {m.status.value} and can no longer change",
        ("input", "id"),
    )
