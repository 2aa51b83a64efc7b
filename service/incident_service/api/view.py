"""The /graphql endpoint: Strawberry's ASGI view, following GraphQL-over-HTTP.

Over Strawberry's defaults it adds: media-type negotiation with
`application/graphql-response+json`, 4xx (and no `data` entry) for requests
that fail before execution, 415 for a body that is not JSON, JSON error
bodies for transport errors, and the caller's principal in the context.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from incident_service.access.authenticator import RateLimited, Unauthenticated, bearer_token
from incident_service.api.context import Context, Resources
from incident_service.api.encoding import dumps
from incident_service.api.persisted import PersistedDocuments, PersistedQueryError
from incident_service.api.subscriptions.broadcast import Broadcast
from incident_service.api.subscriptions.shared_execution import SharedEventSchema
from incident_service.api.wsframes import CheckedWebSocketAdapter
from incident_service.api.wsguard import (
    TOO_MANY,
    Credential,
    CredentialChecks,
    Refusal,
    SocketGuard,
    SocketLimits,
    token_expiry,
)
from incident_service.api.wshandler import TransportWSHandler
from incident_service.domain.principal import ANONYMOUS
from incident_service.realtime.subscribers import SHUTDOWN

GRAPHQL_RESPONSE = "application/graphql-response+json"
#: Answers that depend on this replica's memory or the caller are not for shared caches.
NOT_STORED = {"Cache-Control": "no-store"}
#: Seconds a shared cache may serve an anonymous GET answer (as /api/v2 documents).
PUBLIC_MAX_AGE = 10
JSON = "application/json"


def negotiate(accept: str | None) -> str | None:
    """Pick the response media type from Accept; None means nothing acceptable.

    Preference follows the q-values (RFC 9110), then a named type before a
    wildcard, then the client's order;
    q=0 means "not this one". No Accept, or a wildcard, gets application/json
    (GraphQL over HTTP: a client that did not ask for the new media type may
    not know it, and every client knows JSON).
    """
    if not accept:
        return JSON
    ranked: list[tuple[float, bool, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *params = (p.strip().lower() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, media.endswith("*"), index, media))
    for *_, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def error_body(message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    return {"errors": [error]}


#: extensions.code of errors raised before GraphQL runs, by HTTP status.
_TRANSPORT_CODES = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


_OPERATION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription)\b")


def _require_operation_name(request_data: Any) -> None:
    """A document with several operations needs operationName (GraphQL spec).

    Strawberry would silently run the first one. The regex keeps the extra
    parse to the rare documents that may hold more than one operation.
    """
    query = getattr(request_data, "query", None)
    if getattr(request_data, "operation_name", None) is not None or not isinstance(query, str):
        return
    if len(_OPERATION_KEYWORD.findall(query)) < 2:
        return
    try:
        document = parse(query)
    except GraphQLError:
        return  # answered as a syntax error by the normal path
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > 1:
        raise HTTPException(
            400, "Must provide operationName: the document contains several operations"
        )


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = CheckedWebSocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        resources: Resources,
        schema: SharedEventSchema,
        socket_limits: SocketLimits,
        persisted: PersistedDocuments,
        **kwargs: Any,
    ) -> None:
        self.resources = resources
        # Status page subscribers after their first page (api/wshandler.py).
        self.broadcast = Broadcast(schema.shared_events, resources.broker.status_page)
        self.persisted = persisted
        self.shared_events = schema.shared_events
        self.socket_limits = socket_limits
        self.credential_checks = CredentialChecks(
            resources.authenticator, socket_limits.credential_check
        )
        super().__init__(schema=schema, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(WebSocket(scope, receive=receive, send=send))
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as e:
            status, headers = e.status_code, None
            if request.method == "GET" and isinstance(e.__cause__, InvalidOperationTypeError):
                # GraphQL-over-HTTP: a mutation over GET is 405 Method Not Allowed.
                status, headers = 405, {"Allow": "POST"}
            response = JSONResponse(
                error_body(e.reason, _TRANSPORT_CODES.get(status)),
                status_code=status,
                headers={**NOT_STORED, **(headers or {})},
            )
        except Unauthenticated as e:
            response = JSONResponse(
                error_body(str(e), "UNAUTHENTICATED"),
                status_code=401,
                headers={"WWW-Authenticate": "Bearer", **NOT_STORED},
            )
        except RateLimited as e:
            response = JSONResponse(
                error_body(str(e), "RATE_LIMITED"),
                status_code=429,
                headers={"Retry-After": str(e.retry_after), **NOT_STORED},
            )
        except PersistedQueryError as e:
            response = JSONResponse(
                error_body(e.message, e.code),
                status_code=_persisted_status(e, request.headers.get("accept")),
                headers=NOT_STORED,
            )
        except RecursionError:
            # JSON nested thousands deep (in the body or GET variables) fits in a
            # small request but overflows the decoder: refuse it, not a 500.
            response = JSONResponse(
                error_body("The request is nested too deeply", "BAD_REQUEST"),
                status_code=400,
                headers=NOT_STORED,
            )
        await response(scope, receive, send)

    async def _websocket(self, websocket: WebSocket) -> None:
        """Serve one websocket, registered so that shutdown and the broker can close it."""
        connections = self.resources.connections
        subprotocol = await self.pick_websocket_subprotocol(websocket)
        if connections.draining:
            # Shutting down: send the client elsewhere, with the same 1001 the
            # open connections got, before it subscribes here.
            await websocket.accept(subprotocol)
            await websocket.close(*SHUTDOWN)
            return
        client_ip = _client_ip(websocket)
        refusal = self._refuse_open(client_ip)
        if refusal is not None:
            await websocket.accept(subprotocol)
            await websocket.close(code=refusal.code, reason=refusal.reason)
            return
        guard = SocketGuard(
            self.socket_limits,
            self.resources.authenticator,
            self.credential_checks,
            websocket,
            legacy=subprotocol == GRAPHQL_WS_PROTOCOL,
            client_ip=client_ip,
        )
        websocket.state.guard = guard
        guard.start()
        try:
            with connections.track(websocket, client_ip):
                await self.run(websocket)
        finally:
            guard.stop()

    def _refuse_open(self, client_ip: str) -> Refusal | None:
        """A new socket counts as a request of its IP; an IP holds a bounded number."""
        try:
            self.resources.authenticator.check_ip(client_ip)
        except RateLimited as exc:
            return Refusal(TOO_MANY, f"Rate limit exceeded: retry in {exc.retry_after}s")
        if self.resources.connections.open_from(client_ip) >= self.socket_limits.per_ip:
            return Refusal(TOO_MANY, "Too many open connections from this address")
        return None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        principal = ANONYMOUS
        if isinstance(request, Request):
            principal = await self.resources.authenticator.principal_for(
                request.headers.get("authorization"), _client_ip(request)
            )
            media = negotiate(request.headers.get("accept"))
            adapter = self.request_adapter_class(request)
            if media is None and self.should_render_graphql_ide(adapter):
                media = JSON  # a browser asking for GraphiQL (text/html) gets the page
            if media is None:
                raise HTTPException(406, f"Not acceptable: send Accept: {GRAPHQL_RESPONSE}")
            request.state.media_type = media
            if isinstance(response, Response):
                # Carried to create_response, which sets the one real header.
                response.headers["content-type"] = media
        context = Context(
            request=request, response=response, resources=self.resources, principal=principal
        )
        request.state.context = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from its `connection_init` payload (both subprotocols).

        The payload may carry `{"authorization": "Bearer <key>"}` (or
        `Authorization`); none at all means anonymous (status page only).
        """
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        if header is not None and not isinstance(header, str):
            raise ConnectionRejectionError({"message": "authorization must be a string"})
        try:
            context.principal = await self.resources.authenticator.principal_for(
                header, _client_ip(context.request)
            )
            token = bearer_token(header) if header else None
            guard: SocketGuard | None = getattr(context.request.state, "guard", None)
            if token and guard is not None and context.principal is not ANONYMOUS:
                guard.opened_with(Credential(token, context.principal, token_expiry(token)))
        except Unauthenticated as exc:
            raise ConnectionRejectionError(
                {"message": str(exc), "code": "UNAUTHENTICATED"}
            ) from None
        except RateLimited as exc:
            raise ConnectionRejectionError({"message": str(exc), "code": "RATE_LIMITED"}) from None
        # UNSET: acknowledge without a payload (Strawberry types the constant as Any).
        return cast(UnsetType, UNSET)

    def encode_json(self, data: object) -> str | bytes:
        # A broadcast result (the status page) is encoded once, not per subscriber.
        return self.shared_events.encode_message(data) or dumps(data)

    async def parse_http_body(self, request: Any) -> Any:
        if request.method == "POST":
            content_type = (request.content_type or "").split(";")[0].strip().lower()
            if content_type != JSON:
                raise HTTPException(415, f"Unsupported content type: send {JSON}")
            body = await request.get_body()
            try:
                data = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise HTTPException(400, "The request body is not valid JSON") from None
            if not isinstance(data, dict):
                raise HTTPException(400, "The request body must be a JSON object (batching is off)")
            if not isinstance(data.get("operationName"), str | None):
                raise HTTPException(400, "operationName must be a string or null")
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, GraphQLRequestData):
            parsed.query = cast(str | None, self.persisted.text(parsed.query, parsed.extensions))
        _require_operation_name(parsed)
        return parsed

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if request.method == "GET":
            _cache_headers(request.state.context, result)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            # The request failed before execution (parse, validate, coerce).
            processed.pop("data", None)
            if request.state.media_type == GRAPHQL_RESPONSE:
                request.state.context.response.status_code = 400
        return processed

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        media = sub_response.headers.get("content-type", GRAPHQL_RESPONSE)
        if "content-type" in sub_response.headers:
            del sub_response.headers["content-type"]
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = f"{media}; charset=utf-8"
        return response


def _cache_headers(context: Context, result: ExecutionResult) -> None:
    """GET answers to anonymous callers are the public status: a CDN may keep them for a
    few seconds (a persisted query's URL is short and stable). Anything a credential or
    an error shaped is kept out of shared caches."""
    headers = cast(Response, context.response).headers
    if context.principal is ANONYMOUS and not result.errors:
        headers["cache-control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    else:
        headers["cache-control"] = "private, no-store"
    headers["vary"] = "Accept, Authorization"


def _persisted_status(error: PersistedQueryError, accept: str | None) -> int:
    """A hash the service does not know is a GraphQL answer the client acts on (it sends
    the text): 200 under application/json, as Apollo clients expect, 400 under the
    GraphQL response media type; a malformed extension is a bad request either way."""
    if error.code == "BAD_REQUEST" or negotiate(accept) == GRAPHQL_RESPONSE:
        return 400
    return 200


def _client_ip(request: Request | WebSocket) -> str:
    # uvicorn has already applied X-Forwarded-For from FORWARDED_ALLOW_IPS.
    return request.client.host if request.client else "unknown"
