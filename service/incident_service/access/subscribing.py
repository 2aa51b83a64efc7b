"""The one way in for anonymous subscribers, shared by the GraphQL mutation and the form.

Subscribing writes to the database and sends an email on a stranger's word,
so it has a limit of its own per client IP, far below the general
anonymous one; the per-address limit is kept in the database
(store/subscribers.py), so it holds across replicas.
"""

from __future__ import annotations

from incident_service import clock
from incident_service.access.ratelimit import RateLimiter
from incident_service.domain.enums import UserErrorCode
from incident_service.domain.errors import DomainError
from incident_service.store.subscribers import SubscriberStore


class SubscribeGate:
    def __init__(self, store: SubscriberStore, per_ip: str, *, enabled: bool) -> None:
        self._store = store
        # A limiter of its own: these counts must not eat into the IP's general allowance.
        self._limiter = RateLimiter("", per_ip)
        self.enabled = enabled

    async def subscribe(self, client_ip: str, email: str, service_ids: list[str]) -> None:
        """Raises DomainError: UNAVAILABLE without email, RATE_LIMITED, VALIDATION."""
        if not self.enabled:
            raise DomainError(
                UserErrorCode.UNAVAILABLE, "email updates are not set up on this service"
            )
        verdict = self._limiter.check_ip(client_ip)
        if not verdict.allowed:
            raise DomainError(
                UserErrorCode.RATE_LIMITED,
                f"too many subscriptions from this address; try again in {verdict.retry_after}s",
            )
        await self._store.subscribe(email, service_ids, clock.now())
