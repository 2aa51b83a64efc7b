"""Serving a public document rendered from the latest status page.

Shared by the JSON API and the feeds: read the page (the status page feed's
cached one), resolve the site for the request, render once per page change
and address, and answer with the cache headers (http_cache.py). A page that
cannot be read is the caller's 503, not a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from incident_service.domain.status_page import StatusPage
from incident_service.web import http_cache, links
from incident_service.web.links import Site

log = logging.getLogger(__name__)

Render = Callable[[Site, StatusPage], bytes]


class Documents:
    """The public documents of one process: the JSON API and the feeds."""

    def __init__(
        self, title: str, page_url: str, current: Callable[[], Awaitable[StatusPage]]
    ) -> None:
        """`title`, `page_url`: the STATUS_PAGE_TITLE and STATUS_PAGE_URL settings;
        `current`: the latest public page."""
        self._title = title
        self._page_url = page_url
        self._current = current
        self._rendered = http_cache.Rendered()

    async def respond(
        self,
        request: Request,
        name: str,
        render: Render,
        *,
        media_type: str,
        max_age: int,
        unavailable: Callable[[], Response],
    ) -> Response:
        """The document `name` (its path), or `unavailable()` when the page cannot be read."""
        try:
            page = await self._current()
        except Exception:
            log.warning("status page unavailable for %s", name, exc_info=True)
            return unavailable()
        site = links.site(self._title, self._page_url, str(request.base_url))
        try:
            body, tag = self._rendered.get(name, page, site, lambda: render(site, page))
        except Exception:
            log.exception("could not render %s", name)
            return unavailable()
        response = http_cache.document(request, body, tag, media_type, max_age)
        if not self._page_url:
            # Links come from the request's Host: a shared cache must not hand one
            # host's copy to another (STATUS_PAGE_URL avoids this altogether).
            response.headers["vary"] = "Host"
        return response
