"""The HTML of the built-in pages, rendered from templates in `static/`.

Every value that reaches the markup goes through `html.escape`; templates
are filled in one pass, so a value that happens to look like a placeholder
(an incident titled "{{version}}") is never expanded. The incident page is
rendered in full on the server, so it reads without JavaScript and in link
previews; `status.js` then keeps it live with the same markup.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path

from incident_service.domain.enums import ComponentStatus, PublicStatus
from incident_service.domain.service import overall_status
from incident_service.domain.status_page import PublicComponent, PublicIncident

STATIC_DIR = Path(__file__).parent / "static"

#: The same words status.js uses.
COMPONENT_LABELS = {
    ComponentStatus.OPERATIONAL: ("Operational", "operational"),
    ComponentStatus.UNDER_MAINTENANCE: ("Under maintenance", "maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("Degraded performance", "degraded"),
    ComponentStatus.PARTIAL_OUTAGE: ("Partial outage", "partial"),
    ComponentStatus.MAJOR_OUTAGE: ("Major outage", "major"),
}
PUBLIC_LABELS = {
    PublicStatus.INVESTIGATING: "Investigating",
    PublicStatus.IDENTIFIED: "Identified",
    PublicStatus.MONITORING: "Monitoring",
    PublicStatus.RESOLVED: "Resolved",
}

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@cache
def asset_version() -> str:
    """A hash of the page's CSS and JS: their URLs change when their content does."""
    digest = hashlib.sha256()
    for name in ("status.css", "status.js"):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}` by `values[name]`, escaped unless the name ends in `_html`."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        text = values[name]
        return text if name.endswith("_html") else escape(text)

    return _PLACEHOLDER.sub(value, template)


@cache
def _template(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _layout(
    *, page: str, base: str, site_title: str, document_title: str, main_html: str, **extra: str
) -> str:
    return fill(
        _template("layout.html"),
        {
            "page": page,
            "base": base,
            "site_title": site_title,
            "document_title": document_title,
            "main_html": main_html,
            "version": asset_version(),
            "history_days": extra.get("history_days", ""),
            "updated_html": extra.get("updated_html", "—"),
            "description": extra.get(
                "description", "Current status of our services and incidents, updated live."
            ),
        },
    )


def status_page(title: str, history_days: int, subscribe: bool = False) -> str:
    """`/status`: the shell the script fills from the `statusPage` subscription, with the
    "Subscribe to updates" form when email updates are set up."""
    main = _template("status.html") + (_template("subscribe.html") if subscribe else "")
    return _layout(
        page="status",
        base="",
        site_title=title,
        document_title=title,
        main_html=main,
        history_days=str(history_days),
    )


def notice(title: str, base: str, heading: str, message: str, form_html: str = "") -> str:
    """A page that says one thing (not found, check your inbox, unsubscribed); `base`
    leads from its address back to the root, as in the layout."""
    values = {"site_title": title, "base": base, "heading": heading, "message": message}
    values.update(form_html=form_html, version=asset_version())
    return fill(_template("notice.html"), values)


def not_found(title: str) -> str:
    """The one answer for an incident page that is not public: unknown and internal alike."""
    return notice(title, "../../", "Page not found", "There is no public incident at this address.")


def _time(at: datetime) -> str:
    utc = at.astimezone(UTC)
    iso = utc.isoformat().replace("+00:00", "Z")
    return f'<time datetime="{escape(iso)}">{escape(utc.strftime("%Y-%m-%d %H:%M UTC"))}</time>'


def _status_class(status: ComponentStatus | None) -> str:
    return COMPONENT_LABELS[status][1] if status in COMPONENT_LABELS else "unknown"


def _affected(components: tuple[PublicComponent, ...]) -> str:
    if not components:
        return ""
    items = "".join(
        f'<li class="affected__item status--{_status_class(c.status)}" '
        f'data-component="{escape(c.name)}" data-status="{escape(c.status.value)}">'
        f'<span class="status-icon" aria-hidden="true"></span>'
        f"<span>{escape(c.name)} — {escape(COMPONENT_LABELS[c.status][0])}</span></li>"
        for c in components
    )
    return (
        '<div class="incident__affected"><span class="incident__affected-label">Affected:</span>'
        f'<ul class="affected">{items}</ul></div>'
    )


def _updates(incident: PublicIncident) -> str:
    if not incident.updates:
        return '<p class="updates__none">We are aware of this and will post an update shortly.</p>'
    items = "".join(
        f'<li class="update" data-public-status="{escape(u.public_status.value)}">'
        f'<p class="update__text"><strong class="update__status">'
        f"{escape(PUBLIC_LABELS[u.public_status])}</strong> — "
        f'<span class="update__body">{escape(u.body)}</span></p>'
        f'<p class="update__time">{_time(u.at)}</p></li>'
        for u in sorted(incident.updates, key=lambda u: u.at, reverse=True)
    )
    return f'<ol class="updates" aria-label="Updates, newest first">{items}</ol>'


def _postmortem(incident: PublicIncident) -> str:
    """Its public postmortem (the same markup status.js renders), or nothing."""
    pm = incident.postmortem
    if pm is None:
        return ""
    parts = [
        '<section class="postmortem" aria-label="Postmortem">'
        '<h3 class="postmortem__title">Postmortem</h3>'
        f'<p class="postmortem__time">Published {_time(pm.published_at)}</p>'
        f'<p class="postmortem__text postmortem__summary">{escape(pm.summary)}</p>'
    ]
    for heading, text in (("Customer impact", pm.customer_impact), ("Resolution", pm.resolution)):
        if text:
            parts.append(
                f'<h4 class="postmortem__heading">{heading}</h4>'
                f'<p class="postmortem__text">{escape(text)}</p>'
            )
    return "".join(parts) + "</section>"


def incident_article(incident: PublicIncident) -> str:
    """The incident as status.js renders it on its own page (same classes, same order)."""
    resolved = incident.public_status is PublicStatus.RESOLVED
    severity = (
        ComponentStatus.OPERATIONAL
        if resolved
        else overall_status(c.status for c in incident.components)
        if incident.components
        else None
    )
    phase = incident.public_status.value.lower()
    meta = (
        f'<span class="incident__key">{escape(incident.key)}</span>'
        f" · Declared {_time(incident.declared_at)}"
    )
    if incident.resolved_at:
        meta += f" · Resolved {_time(incident.resolved_at)}"
    return (
        f'<article class="incident incident--page status--{_status_class(severity)}" '
        f'id="incident" data-incident="{escape(incident.key)}" '
        f'data-public-status="{escape(incident.public_status.value)}" '
        'aria-labelledby="incident-title">'
        '<header class="incident__header">'
        f'<h2 class="incident__title" id="incident-title">{escape(incident.title)}</h2>'
        f'<span class="phase phase--{phase}">{escape(PUBLIC_LABELS[incident.public_status])}</span>'
        f'</header><p class="incident__meta">{meta}</p>'
        f"{_affected(incident.components)}{_postmortem(incident)}{_updates(incident)}</article>"
    )


def incident_page(title: str, incident: PublicIncident) -> str:
    """`/status/incidents/{key}`: the whole incident, server-rendered, then kept live."""
    main = (
        '<p class="back"><a class="back__link" href="../../status">← Current status</a></p>'
        f"{incident_article(incident)}"
    )
    return _layout(
        page="incident",
        base="../../",
        site_title=title,
        document_title=f"{incident.title} · {title}",
        main_html=main,
        description=f"{incident.key}: {incident.title} ({PUBLIC_LABELS[incident.public_status]})",
        updated_html=_time(incident.updated_at),
    )
