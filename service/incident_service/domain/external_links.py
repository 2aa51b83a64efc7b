"""Links from an incident to the world outside: runbooks, tickets, dashboards, evidence.

A responder pastes the ticket, the pull request with the fix, the dashboard
that shows the outage or where the forensic images are kept. Links live on
the incident (like its tasks) and are internal. Only http(s) URLs are
accepted: a `javascript:` or `file:` link in a tool that renders them is an
attack on whoever clicks it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from incident_service.domain import validation
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.domain.errors import validation as invalid
from incident_service.domain.incident import Change, Incident, Recorder, require_not_closed

URL_MAX = 2048
#: Links one incident may hold.
LINKS_MAX = 100


class ExternalLinkKind(StrEnum):
    RUNBOOK = "RUNBOOK"
    TICKET = "TICKET"
    PULL_REQUEST = "PULL_REQUEST"
    DASHBOARD = "DASHBOARD"
    EVIDENCE = "EVIDENCE"
    CHAT = "CHAT"
    OTHER = "OTHER"


@dataclass(frozen=True)
class ExternalLink:
    id: str
    url: str
    title: str
    kind: ExternalLinkKind
    added_at: datetime
    added_by: str


def checked_url(value: str, field: str = "url") -> str:
    """An absolute http(s) URL with a host, at most URL_MAX characters."""
    url = value.strip()
    if len(url) > URL_MAX:
        raise invalid(field, f"{field} must be at most {URL_MAX} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise invalid(field, f"{field} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise invalid(field, f"{field} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise invalid(field, f"{field} must be an http or https URL")
    if not host:
        raise invalid(field, f"{field} must name a host")
    return url


def add_link(
    incident: Incident,
    link_id: str,
    url: str,
    title: str | None,
    kind: ExternalLinkKind,
    *,
    now: datetime,
    actor: str,
) -> Change:
    require_not_closed(incident)
    url = checked_url(url)
    name = validation.title(title, "title") if title and title.strip() else url[:200]
    if len(incident.external_links) >= LINKS_MAX:
        raise invalid("url", f"an incident holds at most {LINKS_MAX} links")
    if any(x.url == url and x.kind is kind for x in incident.external_links):
        return Change(incident, ())
    link = ExternalLink(link_id, url, name, kind, now, actor)
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add(
        "LINK_ADDED", f"{kind.value.replace('_', ' ').title()} linked: {name}",
        linkId=link_id, url=url, kind=kind.value,
    )  # fmt: skip
    return rec.commit(replace(incident, external_links=(*incident.external_links, link)))


def remove_link(incident: Incident, link_id: str, *, now: datetime, actor: str) -> Change:
    require_not_closed(incident)
    found = next((x for x in incident.external_links if x.id == link_id), None)
    if found is None:
        raise DomainError(UserErrorCode.NOT_FOUND, "link not found", ("input", "id"))
    kept = tuple(x for x in incident.external_links if x.id != link_id)
    rec = Recorder(incident.id, incident.last_seq, now, actor)
    rec.add("LINK_REMOVED", f"Link removed: {found.title}", linkId=link_id, url=found.url)
    return rec.commit(replace(incident, external_links=kept))
