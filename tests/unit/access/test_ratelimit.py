"""Rate limits count keys and IPs apart."""

from __future__ import annotations

from incident_service.access.ratelimit import RateLimiter
from incident_service.domain.principal import ANONYMOUS, Principal, Role


def test_rate_limiter_counts_keys_and_ips_apart() -> None:
    limiter = RateLimiter("2/minute", "1/minute")
    alice = Principal("alice", Role.VIEWER, "user", subject="idp/a")
    assert limiter.check_principal(alice).allowed and limiter.check_principal(alice).allowed
    refused = limiter.check_principal(alice)
    assert not refused.allowed and 1 <= refused.retry_after <= 60 and refused.limit
    assert limiter.check_principal(Principal("bob", Role.VIEWER, "user", subject="idp/b")).allowed
    assert limiter.check_ip("10.0.0.1").allowed and not limiter.check_ip("10.0.0.1").allowed
    assert limiter.check_ip("10.0.0.2").allowed
    # Actor ids, not names, are counted: two users called alice are two callers.
    other_alice = Principal("alice", Role.VIEWER, "user", subject="idp/a2")
    assert limiter.check_principal(other_alice).allowed
    off = RateLimiter("", "")
    assert all(off.check_principal(ANONYMOUS).allowed for _ in range(100))


def test_each_integration_has_its_own_intake_allowance() -> None:
    limiter = RateLimiter("", "", "1/minute")
    assert limiter.check_integration("a").allowed
    assert not limiter.check_integration("a").allowed
    assert limiter.check_integration("b").allowed
