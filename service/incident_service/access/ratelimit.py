"""Per-API-key and per-IP request rate limits (in-memory moving window, per process).

Authenticated callers are counted by their key or user, so many users
behind one NAT do not starve each other; anonymous requests and requests
with a bad credential are counted by client IP, which also slows down
guessing keys. Limits are per process: with N replicas the cluster-wide
allowance is N times the setting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from incident_service.domain.principal import Principal


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    limit: str = ""


ALLOWED = Verdict(True)


class RateLimiter:
    def __init__(self, per_key: str, per_ip: str, per_integration: str = "") -> None:
        self._per_key = _item(per_key)
        self._per_ip = _item(per_ip)
        self._per_integration = _item(per_integration)
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def check_principal(self, principal: Principal) -> Verdict:
        return self._hit(self._per_key, principal.actor)

    def check_integration(self, integration_id: str) -> Verdict:
        """Alert intake of one integration: a storm from one source cannot starve the others."""
        return self._hit(self._per_integration, f"intake:{integration_id}")

    def check_ip(self, ip: str) -> Verdict:
        return self._hit(self._per_ip, f"ip:{ip}")

    def _hit(self, item: RateLimitItem | None, who: str) -> Verdict:
        if item is None or self._window.hit(item, who):
            return ALLOWED
        reset_at, _ = self._window.get_window_stats(item, who)
        return Verdict(False, max(1, math.ceil(reset_at - time.time())), str(item))


def _item(rate: str) -> RateLimitItem | None:
    return parse(rate) if rate.strip() else None
