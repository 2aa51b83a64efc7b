"""The ASGI application: routes, middleware and the process lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from incident_service.api.persisted import Manifest, PersistedDocuments
from incident_service.api.postmortems.export import postmortem_routes
from incident_service.api.schema import build_schema
from incident_service.api.view import GraphQLView
from incident_service.api.wsguard import SocketLimits
from incident_service.config import Settings
from incident_service.http import health
from incident_service.http.cors import CORSByPath
from incident_service.http.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from incident_service.http.request_metrics import HttpMetricsMiddleware
from incident_service.integrations.routes import Intake
from incident_service.observability import metrics
from incident_service.runtime import Runtime
from incident_service.web import status_feeds, statuspage_api
from incident_service.web.documents import Documents
from incident_service.web.routes import PAGE_HEADERS, status_routes
from incident_service.web.subscriptions import subscription_routes

#: Anonymous, read-only documents any origin may read (CORS `*`); the rest keeps the allow-list.
PUBLIC_PATHS = (
    statuspage_api.PREFIX,
    statuspage_api.PREFIX + "/",
    *status_feeds.FEEDS,
)


def create_app(settings: Settings, mongodb_uri: str) -> Starlette:
    runtime = Runtime.create(settings, mongodb_uri)
    manifest = Manifest.load()
    view = GraphQLView(
        runtime.resources,
        schema=build_schema(settings, manifest),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        socket_limits=SocketLimits(
            init_timeout=settings.ws_connection_init_timeout,
            messages_per_minute=settings.ws_messages_per_minute,
            per_ip=settings.ws_max_connections_per_ip,
            credential_check=settings.ws_credential_check_seconds,
        ),
        persisted=PersistedDocuments(
            manifest,
            trusted_only=settings.trusted_documents_only,
            max_bytes=settings.document_cache_bytes,
        ),
        # Strawberry pings only on the legacy graphql-ws protocol; graphql-transport-ws
        # connections are kept alive by uvicorn's websocket pings (cli.py).
        keep_alive=True,
        keep_alive_interval=settings.ws_ping_interval,
    )

    # The Statuspage-compatible JSON API and the feeds, from the cached public page.
    documents = Documents(
        settings.status_page_title,
        settings.status_page_url,
        runtime.broker.status_page.current,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await view.broadcast.stop()
            await runtime.stop()

    middleware = [
        # Outermost, so it times and counts every response, CORS rejections included.
        Middleware(HttpMetricsMiddleware),
        # Every response (even a 413) carries X-Request-ID, and every log line the id.
        Middleware(RequestIdMiddleware),
        Middleware(
            CORSByPath,
            public_paths=PUBLIC_PATHS,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "accept", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
            max_age=600,
        ),
        # Inside CORS, so a browser can read the 413 of an allowed origin.
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/readyz", health.readyz(runtime.readiness), methods=["GET"]),
            Route(
                "/metrics",
                metrics.metrics_endpoint_with(
                    runtime.refresh_open_incidents, token=settings.metrics_bearer_token
                ),
                methods=["GET"],
            ),
            *status_routes(
                settings.status_page_title,
                settings.status_page_history_days,
                runtime.resources.status_pages.incident,
                subscribe=settings.email_enabled,
            ),
            *subscription_routes(
                settings.status_page_title,
                runtime.resources.subscribe.subscribe,
                runtime.resources.subscribers,
                # Pages with a personal token in their address: kept by no cache.
                {**PAGE_HEADERS, "cache-control": "no-store"},
            ),
            *statuspage_api.statuspage_api_routes(documents),
            *status_feeds.feed_routes(documents),
            *postmortem_routes(runtime.resources),
            *Intake(
                runtime.resources.authenticator,
                runtime.resources.alerts,
                settings.alert_max_body_bytes,
            ).routes(),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
