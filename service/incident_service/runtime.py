"""Everything one process holds while it runs: settings, database, stores, realtime.

Built once at start-up by the app's lifespan; the API sees it as the
`Resources` of its context, never as this object.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from incident_service import clock
from incident_service.access.authenticator import Authenticator
from incident_service.access.oidc import OidcVerifier
from incident_service.access.ratelimit import RateLimiter
from incident_service.access.subscribing import SubscribeGate
from incident_service.api.context import Resources
from incident_service.config import Settings
from incident_service.domain import sla
from incident_service.domain.enums import Priority
from incident_service.jobs.email import EmailSender, LogMailer, Mailer, SmtpMailer
from incident_service.jobs.fanout import FanOut
from incident_service.jobs.sla import SlaTimer
from incident_service.jobs.transport import WebhookClient, refused_reason
from incident_service.jobs.webhooks import WebhookDispatcher
from incident_service.jobs.worker import Worker
from incident_service.observability import metrics
from incident_service.realtime.broker import Broker
from incident_service.realtime.changestream import ChangeStream
from incident_service.realtime.connections import Connections
from incident_service.store import migrations
from incident_service.store.action_items import ActionItemStore
from incident_service.store.actors import ActorNames
from incident_service.store.alerts import AlertStore
from incident_service.store.apikeys import ApiKeyStore
from incident_service.store.codec import Doc
from incident_service.store.components import ComponentStatuses
from incident_service.store.database import Database
from incident_service.store.delivery_batches import DeliveryBatches
from incident_service.store.incidents import SLA_KIND as SLA_JOB
from incident_service.store.incidents import IncidentStore
from incident_service.store.integrations import IntegrationStore
from incident_service.store.jobs import JobStore, Leases
from incident_service.store.listeners import Listeners
from incident_service.store.maintenances import KIND as MAINTENANCE_JOB
from incident_service.store.maintenances import MaintenanceStore
from incident_service.store.outbox import KIND as OUTBOX_JOB
from incident_service.store.outbox import Outbox, fan_out_job, leased_fan_out
from incident_service.store.postmortems import PostmortemStore
from incident_service.store.services import ServiceStore
from incident_service.store.stats import StatsStore
from incident_service.store.status_page import StatusPageStore
from incident_service.store.subscribers import KIND as EMAIL_JOB
from incident_service.store.subscribers import SubscriberStore
from incident_service.store.templates import TemplateStore
from incident_service.store.webhooks import KIND as WEBHOOK_JOB
from incident_service.store.webhooks import WebhookStore

#: Longest a readiness probe waits for the database to answer.
READY_PING_TIMEOUT = 2.0
#: The open-incident gauge is counted at most this often (seconds), at scrape time.
OPEN_INCIDENTS_CACHE_SECONDS = 10.0

log = logging.getLogger("incident_service.runtime")


def _mailer(s: Settings) -> Mailer:
    server = s.smtp_server
    return SmtpMailer(server) if server is not None else LogMailer()


def _oidc(s: Settings) -> OidcVerifier | None:
    if not s.oidc_enabled:
        return None
    return OidcVerifier.create(
        s.oidc_issuer,
        s.oidc_audience,
        s.oidc_role_claim,
        s.oidc_leeway_seconds,
        s.oidc_jwks_file,
        s.oidc_hs256_secret,
    )


@dataclass
class Runtime:
    settings: Settings
    database: Database
    resources: Resources = field(init=False)
    # Realtime: open websockets, the broker and the one change stream feeding it.
    connections: Connections = field(init=False)
    broker: Broker = field(init=False)
    change_stream: ChangeStream = field(init=False)
    # Timed work: this replica's share of the jobs every replica polls for.
    worker: Worker = field(init=False)
    outbox: Outbox = field(init=False)
    # Whether anyone may hear of an outbox message (store/listeners.py).
    listeners: Listeners = field(init=False)
    dispatcher: WebhookDispatcher = field(init=False)
    webhook_client: WebhookClient = field(init=False)
    # The open-incident gauge: when it was last counted, one count at a time.
    _open_counted_at: float = field(init=False, default=float("-inf"))
    _open_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        s, db = self.settings, self.database
        jobs = JobStore(db)
        leases = Leases(s.jobs_lease_seconds)
        listeners = Listeners(db)
        outbox = Outbox(db, jobs, leases, listeners)
        statuses = ComponentStatuses(db, outbox)
        maintenances = MaintenanceStore(db, statuses, jobs, outbox)
        sla_policy = sla.Policy(
            {p.value: t for p, t in s.sla.targets().items()}, s.sla.at_risk_fraction
        )
        incidents = IncidentStore(db, statuses, outbox, jobs, sla_policy)
        api_keys = ApiKeyStore(db)
        actor_names = ActorNames(db)
        integrations = IntegrationStore(db)
        # A fan-out waiting for its batch holds a worker slot: the batch goes out once
        # half of them wait.
        batches = DeliveryBatches(db, flush_at=max(1, s.jobs_concurrency // 2))
        webhooks = WebhookStore(db, jobs, outbox, batches)
        subscribers = SubscriberStore(
            db,
            jobs,
            outbox,
            confirm_lifetime=timedelta(hours=s.subscribe_confirm_hours),
            address_interval=timedelta(seconds=s.subscribe_address_interval_seconds),
        )
        emails = EmailSender(
            subscribers,
            _mailer(s),
            sender=s.email_from or "status@localhost",
            site=s.status_page_title,
            page_url=s.email_page_url,
        )
        status_pages = StatusPageStore(db, maintenances, s.status_page_history_days)
        self.webhook_client = WebhookClient(
            allow_private=s.webhook_private_targets_allowed,
            timeout=s.webhook_timeout_seconds,
            # An endpoint's first attempts (fan-out) and its retries (delivery jobs).
            per_endpoint=2 * s.webhook_endpoint_concurrency,
        )
        dispatcher = WebhookDispatcher(
            webhooks,
            self.webhook_client,
            retry_schedule=s.webhook_retries,
            max_failures=s.webhook_max_failures,
            status_url=s.status_page_url or None,
            endpoint_concurrency=s.webhook_endpoint_concurrency,
            timeout=s.webhook_timeout_seconds,
        )
        self.outbox = outbox
        self.listeners = listeners
        self.dispatcher = dispatcher
        self.worker = Worker(
            jobs,
            {
                MAINTENANCE_JOB: maintenances.advance,
                OUTBOX_JOB: FanOut(outbox, dispatcher),
                WEBHOOK_JOB: dispatcher.deliver,
                EMAIL_JOB: emails.send,
                SLA_JOB: SlaTimer(incidents).check,
            },
            now=clock.now,
            poll_interval=s.jobs_poll_interval,
            lease=s.jobs_lease_seconds,
            concurrency=s.jobs_concurrency,
            group_limit=s.webhook_endpoint_concurrency,
            leases=leases,
        )
        self.connections = Connections()
        self.broker = Broker(s.subscriber_queue_size, incidents, status_pages)
        self.change_stream = ChangeStream(
            db,
            self.broker,
            on_outbox=self._outbox_written,
            on_api_key=lambda key_id: self.resources.authenticator.forget_key(key_id),
        )
        self.resources = Resources(
            settings=s,
            incidents=incidents,
            services=ServiceStore(db, statuses),
            maintenances=maintenances,
            webhooks=webhooks,
            api_keys=api_keys,
            integrations=integrations,
            alerts=AlertStore(db, incidents, s.alert_max_transactions),
            status_pages=status_pages,
            stats=StatsStore(db, s.sla.targets(), s.stats_max_incidents),
            sla_targets=s.sla.targets(),
            authenticator=Authenticator(
                s.admin_api_key,
                api_keys,
                integrations,
                _oidc(s),
                s.api_key_touch_interval,
                RateLimiter(s.rate_limit_per_key, s.rate_limit_per_ip, s.integration_rate_limit),
                s.integration_key_cache_seconds,
                names=actor_names,
                key_cache_seconds=s.api_key_cache_seconds,
            ),
            actor_names=actor_names,
            broker=self.broker,
            connections=self.connections,
            subscribers=subscribers,
            subscribe=SubscribeGate(
                subscribers, s.subscribe_rate_limit_per_ip, enabled=s.email_enabled
            ),
            webhook_target_refusal=functools.partial(
                refused_reason, allow_private=s.webhook_private_targets_allowed
            ),
            postmortems=PostmortemStore(db, incidents, outbox),
            action_items=ActionItemStore(db, incidents),
            templates=TemplateStore(db),
        )

    def _outbox_written(self, message: Doc) -> None:
        """A message committed: its fan-out job is due now. The replica that wrote it
        holds the job's lease and runs it; one written without a lease (by a replica of
        an earlier version) is claimed by id. If the writer dies first, its lease runs
        out and any replica's search for due jobs finds it."""
        self.outbox.remember(message)
        leased = leased_fan_out(message)
        if leased is None:
            self.worker.hint(fan_out_job(message["_id"]))
        elif self.worker.owns(leased):
            self.worker.run_leased(leased)

    @classmethod
    def create(cls, settings: Settings, mongodb_uri: str) -> Runtime:
        return cls(settings, Database(mongodb_uri, settings.mongodb_database))

    @property
    def draining(self) -> bool:
        return self.connections.draining

    async def readiness(self) -> tuple[bool, dict[str, bool]]:
        """Ready to take traffic: not draining, the database answers ping, the change stream
        runs (without it, subscribers here would silently miss events)."""
        checks: dict[str, bool] = {"draining": self.draining}
        try:
            checks["database"] = await asyncio.wait_for(
                self.database.ping(), timeout=READY_PING_TIMEOUT
            )
        except TimeoutError:
            checks["database"] = False
        checks["changeStream"] = self.change_stream.running
        ready = checks["database"] and checks["changeStream"] and not self.draining
        return ready, checks

    async def refresh_open_incidents(self) -> None:
        """Set `incidents_open{priority}` from the database, at most every 10 s; on a
        database error the last values stay (the scrape itself never fails)."""
        async with self._open_lock:
            if time.monotonic() - self._open_counted_at < OPEN_INCIDENTS_CACHE_SECONDS:
                return
            try:
                counts = await asyncio.wait_for(
                    self.resources.stats.open_by_priority(), timeout=READY_PING_TIMEOUT
                )
            except Exception as exc:  # the database is away: readiness reports it
                log.warning("open incidents not counted: %r", exc)
                return
            self._open_counted_at = time.monotonic()
            for priority in Priority:
                metrics.INCIDENTS_OPEN.labels(priority.value).set(counts.get(priority, 0))

    async def start(self) -> None:
        await self.database.ensure_indexes()
        await self.resources.api_keys.ensure_indexes()
        await self.resources.integrations.ensure_indexes()
        await self.resources.action_items.ensure_indexes()
        await self.resources.templates.ensure_builtin(clock.now())
        await migrations.run(self.database, clock.now())
        await self.listeners.take_stock()
        await self.broker.start()
        await self.change_stream.start()
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        await self.dispatcher.close()
        await self.resources.webhooks.batches.close()
        await self.webhook_client.close()
        await self.change_stream.stop()
        await self.broker.stop()
        await self.database.close()
