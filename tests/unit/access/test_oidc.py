"""OIDC/JWT: roles and actors from claims, HS256 verification."""

from __future__ import annotations

import time

import jwt

from incident_service.access.oidc import (
    OidcVerifier,
    actor_from_claims,
    looks_like_jwt,
    role_from_claims,
)
from incident_service.domain.principal import Principal, Role


def test_roles_from_claims() -> None:
    assert role_from_claims({"role": "viewer"}, "role") is Role.VIEWER
    assert role_from_claims({"roles": ["viewer", "ADMIN", "x"]}, "roles") is Role.ADMIN
    assert role_from_claims({"a": {"b": ["Responder"]}}, "a.b") is Role.RESPONDER
    assert role_from_claims({"role": "anonymous"}, "role") is Role.ANONYMOUS
    assert role_from_claims({"role": 3}, "role") is Role.ANONYMOUS
    assert role_from_claims({}, "a.b.c") is Role.ANONYMOUS


def test_actor_from_claims() -> None:
    assert actor_from_claims({"sub": "u1", "preferred_username": "alice"}) == "alice"
    assert actor_from_claims({"sub": "u1", "preferred_username": " "}) == "u1"
    assert actor_from_claims({"sub": 5}) is None


def _verifier() -> OidcVerifier:
    return OidcVerifier.create("https://idp", "svc", "role", 0, None, "k" * 40)


def _token(**claims: object) -> str:
    base = {"iss": "https://idp", "aud": "svc", "sub": "u1", "exp": int(time.time()) + 60}
    return jwt.encode({**base, **claims}, "k" * 40, algorithm="HS256")


def test_oidc_hs256_verification() -> None:
    verifier = _verifier()
    assert looks_like_jwt(_token())
    assert verifier.verify(_token(role="responder")) == Principal("u1", Role.RESPONDER, "user")
    assert verifier.verify(_token(aud="other")) is None
    assert verifier.verify(_token(iss="https://other")) is None
    assert verifier.verify(_token(exp=int(time.time()) - 10)) is None
    assert verifier.verify(_token() + "x") is None
    assert verifier.verify("not.a.jwt") is None


def test_a_user_name_that_looks_like_a_key_is_kept_apart() -> None:
    # Otherwise a token with preferred_username "key:alice" would act as the API key
    # alice, and see the restricted incidents alice takes part in.
    assert actor_from_claims({"preferred_username": "key:alice"}) == "user:key:alice"
    assert actor_from_claims({"preferred_username": "Integration:grafana"}) == (
        "user:Integration:grafana"
    )
    assert actor_from_claims({"preferred_username": "alice"}) == "alice"
