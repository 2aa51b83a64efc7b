"""Email subscriptions from the status page: the form, the confirm link, the unsubscribe link.

* `POST /status/subscriptions`: the page's "Subscribe to updates" form (no
  script needed); the same rules as `subscribeToStatusPage`.
* `GET /status/subscriptions/confirm?token=`: the double opt-in link.
* `GET /status/subscriptions/unsubscribe?token=` only shows a button: mail
  scanners open links, and must not unsubscribe anybody by doing so.
* `POST /status/subscriptions/unsubscribe?token=`: the button, and the
  one-click unsubscribe of RFC 8058 (`List-Unsubscribe=One-Click`), which
  mail clients send to the `List-Unsubscribe` address; the token is in the
  address either way, so the body is not read.

A bad or used token gets a plain page with a 4xx, never an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from incident_service import clock
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.store.subscribers import Confirmed, SubscriberStore
from incident_service.web import pages

#: (client IP, email, component ids): the rate-limited way in (access/subscribing.py).
Subscribe = Callable[[str, str, list[str]], Awaitable[None]]

PREFIX = "/status/subscriptions"
#: Longest form body read (an email address and a little more).
MAX_FORM_BYTES = 4096
_STATUS = {
    UserErrorCode.RATE_LIMITED: 429,
    UserErrorCode.UNAVAILABLE: 503,
}


def subscription_routes(
    title: str, subscribe: Subscribe, store: SubscriberStore, headers: dict[str, str]
) -> list[BaseRoute]:
    def page(status: int, base: str, heading: str, message: str, form: str = "") -> HTMLResponse:
        html = pages.notice(title, base, heading, message, form)
        return HTMLResponse(html, status_code=status, headers=headers)

    async def subscribe_form(request: Request) -> HTMLResponse:
        body = await request.body()
        fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
        email = (fields.get("email") or [""])[0]
        ip = request.client.host if request.client else "unknown"
        try:
            await subscribe(ip, email, [])
        except DomainError as error:
            status = _STATUS.get(error.code, 400)
            return page(status, "../", "Not subscribed", error.message)
        return page(
            200,
            "../",
            "Check your inbox",
            "If the address can receive email, a confirmation link is on its way. "
            "Follow it to start getting updates.",
        )

    async def confirm(request: Request) -> HTMLResponse:
        outcome = await store.confirm(request.query_params.get("token"), clock.now())
        if outcome is Confirmed.CONFIRMED:
            return page(200, "../../", "Subscribed", "You will get an email for every update.")
        if outcome is Confirmed.EXPIRED:
            return page(
                400,
                "../../",
                "Link expired",
                "This link has expired; subscribe again for a new one.",
            )
        return page(
            404,
            "../../",
            "Link not valid",
            "This confirmation link is not valid or was already used.",
        )

    async def unsubscribe_page(request: Request) -> HTMLResponse:
        token = request.query_params.get("token")
        subscriber = await store.by_unsubscribe_token(token)
        if subscriber is None or token is None:
            return _gone(page)
        form = (
            f'      <form method="post" action="unsubscribe?token={escape(quote(token, safe=""))}">'
            '<button class="subscribe__button" type="submit">Unsubscribe</button></form>'
        )
        message = f"Stop the status emails to {subscriber.email}?"
        return page(200, "../../", "Unsubscribe", message, form)

    async def unsubscribe(request: Request) -> HTMLResponse:
        if not await store.unsubscribe(request.query_params.get("token")):
            return _gone(page)
        return page(200, "../../", "Unsubscribed", "You will get no more status emails.")

    return [
        Route(PREFIX, subscribe_form, methods=["POST"]),
        Route(f"{PREFIX}/confirm", confirm, methods=["GET"]),
        Route(f"{PREFIX}/unsubscribe", unsubscribe_page, methods=["GET"]),
        Route(f"{PREFIX}/unsubscribe", unsubscribe, methods=["POST"]),
    ]


def _gone(page: Callable[..., HTMLResponse]) -> HTMLResponse:
    return page(
        404,
        "../../",
        "Not subscribed",
        "This link is not valid, or the address was already unsubscribed.",
    )
