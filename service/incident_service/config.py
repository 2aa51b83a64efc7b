"""All configuration, read from the environment in this one module.

Every setting is an environment variable (12-factor). A bad value stops
start-up with one line naming the variable; see `load_settings`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from incident_service.domain.enums import Priority
from incident_service.domain.priority import DEFAULT_SLA, SlaTarget, sla_targets_from_seconds
from incident_service.domain.subscribers import SmtpServer, parse_smtp_url
from incident_service.domain.webhooks import parse_schedule


class Profile(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def _ack(p: Priority) -> int:
    return int(DEFAULT_SLA[p].acknowledge.total_seconds())


def _resolve(p: Priority) -> int:
    return int(DEFAULT_SLA[p].resolve.total_seconds())


class SlaTargets(BaseSettings):
    """Per-priority SLA targets in seconds (ack, resolve); defaults from the domain's table."""

    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    p1_ack: int = Field(_ack(Priority.P1), gt=0)
    p1_resolve: int = Field(_resolve(Priority.P1), gt=0)
    p2_ack: int = Field(_ack(Priority.P2), gt=0)
    p2_resolve: int = Field(_resolve(Priority.P2), gt=0)
    p3_ack: int = Field(_ack(Priority.P3), gt=0)
    p3_resolve: int = Field(_resolve(Priority.P3), gt=0)
    p4_ack: int = Field(_ack(Priority.P4), gt=0)
    p4_resolve: int = Field(_resolve(Priority.P4), gt=0)
    p5_ack: int = Field(_ack(Priority.P5), gt=0)
    p5_resolve: int = Field(_resolve(Priority.P5), gt=0)
    # An SLA_AT_RISK event is written at this fraction of each target.
    at_risk_fraction: float = Field(0.8, gt=0, le=1)

    def targets(self) -> dict[Priority, SlaTarget]:
        return sla_targets_from_seconds(self.model_dump(exclude={"at_risk_fraction"}))


class Settings(BaseSettings):
    """Service settings. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    profile: Profile = Field(Profile.DEVELOPMENT, alias="APP_PROFILE")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    # Database. Empty MONGODB_URI means: start the embedded SecantusDB.
    mongodb_uri: str = ""
    # Or read it from a mounted secret file (Kubernetes Secret volume).
    mongodb_uri_file: Path | None = None
    mongodb_database: str = "incident_service"
    data_dir: Path = Path(".data")
    embedded_start_timeout: float = Field(30.0, gt=0)

    # Authentication.
    admin_api_key: str = ""
    admin_api_key_file: Path | None = None
    # lastUsedAt of an API key is written at most once per this many seconds.
    api_key_touch_interval: float = Field(60.0, ge=0)
    # Seconds a replica answers a stored API key from memory (0: ask every time); every
    # replica forgets a key at once when its document changes (revoked), through the
    # change stream, so this bounds only how long a missed change could last.
    api_key_cache_seconds: float = Field(5.0, ge=0, le=60)
    # Optional OIDC/JWT bearer tokens: on when OIDC_ISSUER is set.
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_file: Path | None = None
    oidc_hs256_secret: str = ""
    oidc_role_claim: str = "role"
    oidc_leeway_seconds: float = Field(30.0, ge=0)

    # Rate limits ("N/second|minute|hour", empty = off): authenticated
    # callers count per key or user, anonymous and bad-credential requests per IP.
    rate_limit_per_key: str = "1200/minute"
    rate_limit_per_ip: str = "600/minute"
    # Alert intake: requests per integration (a storm from one source cannot
    # starve the others), and the largest alert body taken (PagerDuty's is 512 KB).
    integration_rate_limit: str = "6000/minute"
    alert_max_body_bytes: int = Field(524_288, ge=1024)
    # Seconds a replica answers a routing key from memory (0: ask the database
    # every time); a disabled or rotated key may work that long on other replicas.
    integration_key_cache_seconds: float = Field(5.0, ge=0, le=300)
    # Alert transactions (new alerts, acknowledge, resolve) one process runs at once;
    # more only conflict and retry on the embedded database.
    alert_max_transactions: int = Field(4, ge=1, le=256)

    # GraphQL surface limits.
    max_query_depth: int = Field(12, ge=1)
    max_aliases: int = Field(30, ge=1)
    max_tokens: int = Field(2000, ge=10)
    # Document text kept parsed and validated, in bytes (api/documents.py); as much again
    # of automatic persisted queries registered by clients (api/persisted.py).
    document_cache_bytes: int = Field(262_144, ge=0)
    # Run only the operations of the published manifest (schema/operations/).
    trusted_documents_only: bool = False
    # How far before an incident's detection a note's occurredAt may go.
    backdate_window_hours: float = Field(24.0, ge=0, le=24 * 366)
    # Objects one operation may ask for (page sizes multiplied through nested lists).
    max_query_cost: int = Field(100_000, ge=100)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    introspection: bool | None = None
    field_suggestions: bool | None = None
    graphiql: bool | None = None
    cors_allow_origins: str = ""

    # When set, /metrics answers only `Authorization: Bearer <this>` (401 otherwise).
    metrics_bearer_token: str = ""

    # Websockets.
    ws_max_subscriptions: int = Field(20, ge=1)
    ws_connection_init_timeout: float = Field(10.0, gt=0)
    ws_ping_interval: float = Field(20.0, gt=0)
    # permessage-deflate for clients that offer it (browsers do): about 40 KiB of
    # compressor state per connection, against several times smaller status messages.
    ws_per_message_deflate: bool = True
    # Frames one connection may send a minute (pings, operations, everything).
    ws_messages_per_minute: int = Field(600, ge=10)
    # Open websockets one client IP may hold on this replica.
    ws_max_connections_per_ip: int = Field(256, ge=1)
    # How often a socket opened with a credential checks that it is still valid.
    ws_credential_check_seconds: float = Field(5.0, gt=0, le=300)
    subscriber_queue_size: int = Field(1000, ge=1)

    # The built-in public status page at /status.
    status_page_title: str = Field("Service status", min_length=1, max_length=200)
    # Resolved incidents and ended maintenance stay on the page this many days.
    status_page_history_days: int = Field(14, ge=1, le=90)
    # The page's public address, for links in feeds and the JSON API (empty: the
    # address the request came to).
    status_page_url: str = Field("", pattern=r"^(https?://[^\s]+)?$")

    # Scheduled maintenance: the longest window.
    maintenance_max_days: float = Field(7.0, gt=0, le=366)
    # Timed work (maintenance start/end): how often each replica looks for due
    # jobs, and how long a claimed job is its own before another may take it.
    jobs_poll_interval: float = Field(1.0, gt=0, le=60)
    jobs_lease_seconds: float = Field(30.0, ge=1, le=3600)
    # Jobs one replica runs at once (webhook and email deliveries wait on the network).
    jobs_concurrency: int = Field(16, ge=1, le=1000)

    # Outbound webhooks. Private, loopback and link-local targets (the cloud metadata
    # address among them) are refused unless allowed; unset: allowed in development only.
    webhook_allow_private_networks: bool | None = None
    # Seconds one delivery attempt may take, connect to last byte read.
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # Waits between attempts, in seconds; one attempt more than waits listed.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000"
    # Messages in a row that fail every attempt before an endpoint is disabled.
    webhook_max_failures: int = Field(10, ge=1, le=10_000)
    # Deliveries to one endpoint a replica sends at once.
    webhook_endpoint_concurrency: int = Field(2, ge=1, le=100)

    # Email subscribers of the status page (docs/subscribers.md). SMTP_URL:
    # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465; empty:
    # in development emails are logged, in production subscribing is off.
    smtp_url: str = ""
    smtp_url_file: Path | None = None
    email_from: str = ""
    # Subscribe requests per client IP ("N/minute|hour", empty: off), and the shortest
    # time between two confirmation emails to one address.
    subscribe_rate_limit_per_ip: str = "10/hour"
    subscribe_address_interval_seconds: int = Field(3600, ge=0, le=7 * 86400)
    # How long a confirmation link works (an address nobody confirms is then forgotten).
    subscribe_confirm_hours: int = Field(24, ge=1, le=168)
    # Post-incident review: incidents of these priorities (comma-separated, empty: none)
    # move to CLOSED only once their postmortem is PUBLISHED.
    require_postmortem_for: str = "P1,P2"
    # Reports (incidentStats): the longest range, and the most incidents one report
    # reads (a report's memory where the database cannot compute it: docs/reports.md).
    stats_max_range_days: int = Field(400, ge=1, le=3660)
    stats_max_incidents: int = Field(250_000, ge=1, le=10_000_000)

    # Shutdown.
    shutdown_grace_seconds: float = Field(20.0, ge=0)

    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # json: one object per line for log collectors; text: for a terminal.
    # Unset: text in development, json in production.
    log_format: str | None = Field(None, pattern=r"^(json|text)$")

    @model_validator(mode="after")
    def _read_mongodb_uri_file(self) -> Settings:
        if self.mongodb_uri_file and not self.mongodb_uri:
            try:
                self.mongodb_uri = self.mongodb_uri_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"MONGODB_URI_FILE: cannot read: {exc.strerror}") from exc
        if self.is_production and not self.mongodb_uri:
            # The embedded database is for development; production needs a replica set.
            raise ValueError("MONGODB_URI: required when APP_PROFILE=production")
        return self

    @model_validator(mode="after")
    def _read_key_file(self) -> Settings:
        if self.admin_api_key_file and not self.admin_api_key:
            try:
                self.admin_api_key = self.admin_api_key_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"ADMIN_API_KEY_FILE: cannot read: {exc.strerror}") from exc
        return self

    @model_validator(mode="after")
    def _check_email_settings(self) -> Settings:
        # The Secret behind SMTP_URL_FILE is optional: no file, no email.
        if self.smtp_url_file and not self.smtp_url and self.smtp_url_file.exists():
            try:
                self.smtp_url = self.smtp_url_file.read_text().strip()
            except OSError as exc:
                raise ValueError(f"SMTP_URL_FILE: cannot read: {exc.strerror}") from exc
        if not self.smtp_url:
            return self
        try:
            parse_smtp_url(self.smtp_url)
        except ValueError as exc:
            raise ValueError(f"SMTP_URL: {exc}") from None
        if "@" not in self.email_from:
            raise ValueError("EMAIL_FROM: required with SMTP_URL, e.g. Status <status@example.com>")
        # Links in emails must be absolute, and never taken from a request's Host header
        # (anyone could then have us mail a link to their own site).
        if not self.status_page_url:
            raise ValueError("STATUS_PAGE_URL: required with SMTP_URL (links in emails)")
        return self

    @model_validator(mode="after")
    def _check_auth_settings(self) -> Settings:
        from limits import parse  # the rate-limit syntax is the library's

        for name in (
            "rate_limit_per_key",
            "rate_limit_per_ip",
            "integration_rate_limit",
            "subscribe_rate_limit_per_ip",
        ):
            value = getattr(self, name)
            try:
                if value.strip():
                    parse(value)
            except ValueError:
                raise ValueError(
                    f"{name.upper()}: {value!r} is not a rate like 600/minute (empty: off)"
                ) from None
        try:
            parse_schedule(self.webhook_retry_schedule)
        except ValueError as exc:
            raise ValueError(f"WEBHOOK_RETRY_SCHEDULE: {exc}") from None
        try:
            _ = self.postmortem_required_for
        except ValueError as exc:
            raise ValueError(f"REQUIRE_POSTMORTEM_FOR: {exc}") from None
        if self.oidc_issuer and not (self.oidc_jwks_file or self.oidc_hs256_secret):
            raise ValueError("OIDC_ISSUER: also set OIDC_JWKS_FILE or OIDC_HS256_SECRET")
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("OIDC_AUDIENCE: required when OIDC_ISSUER is set")
        if self.admin_api_key and len(self.admin_api_key) < ADMIN_KEY_MIN:
            raise ValueError(
                f"ADMIN_API_KEY: at least {ADMIN_KEY_MIN} characters (it is a password for "
                "everything; e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if self.oidc_hs256_secret and len(self.oidc_hs256_secret.encode()) < HS256_SECRET_MIN:
            raise ValueError(
                f"OIDC_HS256_SECRET: at least {HS256_SECRET_MIN} bytes (RFC 7518: an HS256 key "
                "is as long as the hash, 256 bits)"
            )
        if self.metrics_bearer_token and len(self.metrics_bearer_token) < ADMIN_KEY_MIN:
            raise ValueError(f"METRICS_BEARER_TOKEN: at least {ADMIN_KEY_MIN} characters")
        return self

    @property
    def backdate_window(self) -> timedelta:
        return timedelta(hours=self.backdate_window_hours)

    @property
    def webhook_private_targets_allowed(self) -> bool:
        if self.webhook_allow_private_networks is not None:
            return self.webhook_allow_private_networks
        return not self.is_production

    @property
    def webhook_retries(self) -> tuple[float, ...]:
        return parse_schedule(self.webhook_retry_schedule)

    @property
    def smtp_server(self) -> SmtpServer | None:
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def email_enabled(self) -> bool:
        """Subscribing works: with SMTP, or in development (emails logged, not sent)."""
        return bool(self.smtp_url) or not self.is_production

    @property
    def email_page_url(self) -> str:
        """The status page's address in emails (development without it: this process)."""
        return (self.status_page_url or f"http://{self.host}:{self.port}/status").rstrip("/")

    @property
    def postmortem_required_for(self) -> frozenset[Priority]:
        names = [p.strip().upper() for p in self.require_postmortem_for.split(",") if p.strip()]
        unknown = [n for n in names if n not in Priority.__members__]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a priority (P1..P5, comma-separated)")
        return frozenset(Priority(n) for n in names)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def field_suggestions_enabled(self) -> bool:
        if self.field_suggestions is not None:
            return self.field_suggestions
        return not self.is_production

    @property
    def is_production(self) -> bool:
        return self.profile is Profile.PRODUCTION

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def log_format_effective(self) -> str:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "text"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]

    @property
    def sla(self) -> SlaTargets:
        return SlaTargets()


#: Shortest ADMIN_API_KEY accepted: guessable keys are refused at start.
ADMIN_KEY_MIN = 24
#: Shortest OIDC_HS256_SECRET accepted, in bytes.
HS256_SECRET_MIN = 32


class ConfigError(Exception):
    """A setting has a bad value; the message is one line naming it."""


def _env_name(loc: tuple[str | int, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    field = Settings.model_fields.get(name)
    if field is not None and field.alias:
        return field.alias
    return name.upper()


def load_settings() -> Settings:
    """Read and validate the settings, or raise ConfigError with one line."""
    try:
        settings = Settings()
        _ = settings.sla
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:
            # A cross-field check: its message already starts with the variable.
            raise ConfigError(
                f"invalid setting {err['msg'].removeprefix('Value error, ')}"
            ) from None
        prefix = "SLA_" if exc.title == "SlaTargets" else ""
        name = prefix + _env_name(err["loc"])
        raise ConfigError(f"invalid setting {name}: {err['msg']}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid setting {exc}") from None
    return settings
