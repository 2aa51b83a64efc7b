"""Where the public pages live, as the JSON API and the feeds name and link them.

`STATUS_PAGE_URL` is the page's public address; without it the page is the
address the request came to plus `/status`. An incident's page is below it,
`<page>/incidents/<key>`, so a proxy that maps a host to `/status` keeps
every link working.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

#: Statuspage ids are 12 lower-case characters; ours are hex digests cut to that.
ID_LENGTH = 12


def short_id(*parts: str) -> str:
    """A stable id of `parts`: the same text gives the same id in every process."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True)
class Site:
    """The public status page as documents refer to it."""

    #: Stable, from the settings only (never the request), so clients may key on it.
    id: str
    name: str
    #: The page's address, without a trailing slash.
    url: str

    def incident_url(self, key: str) -> str:
        return f"{self.url}/incidents/{quote(key, safe='')}"


def site(title: str, configured_url: str, base_url: str) -> Site:
    """The page for one request: `base_url` (the request's) counts only without a setting."""
    url = configured_url or f"{base_url.rstrip('/')}/status"
    return Site(id=short_id("page", title, configured_url), name=title, url=url.rstrip("/"))
