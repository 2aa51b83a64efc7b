"""OIDC/JWT: roles and actors from claims, HS256 verification."""

from __future__ import annotations

import time

import jwt

from incident_service.access.oidc import (
    OidcVerifier,
    issuer_host,
    looks_like_jwt,
    principal_from_claims,
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


ISSUER = "https://idp.example.com/realms/ops"


def _user(**claims: object) -> Principal | None:
    return principal_from_claims(claims, ISSUER, Role.VIEWER)


def test_the_actor_id_is_the_issuer_host_and_sub_and_the_name_is_for_reading() -> None:
    alice = _user(sub="u1", preferred_username="alice")
    assert alice is not None and alice.actor == "oidc:idp.example.com/u1"
    assert alice.name == "alice"
    unnamed = _user(sub="u1", preferred_username=" ")
    assert unnamed is not None and unnamed.name == "u1"
    assert _user(sub=5, preferred_username="alice") is None
    assert _user(preferred_username="alice") is None
    assert issuer_host("not a url") == "not a url"


def _verifier() -> OidcVerifier:
    return OidcVerifier.create("https://idp", "svc", "role", 0, None, "k" * 40)


def _token(**claims: object) -> str:
    base = {"iss": "https://idp", "aud": "svc", "sub": "u1", "exp": int(time.time()) + 60}
    return jwt.encode({**base, **claims}, "k" * 40, algorithm="HS256")


def test_oidc_hs256_verification() -> None:
    verifier = _verifier()
    assert looks_like_jwt(_token())
    assert verifier.verify(_token(role="responder")) == Principal(
        "u1", Role.RESPONDER, "user", subject="idp/u1"
    )
    assert verifier.verify(_token(aud="other")) is None
    assert verifier.verify(_token(iss="https://other")) is None
    assert verifier.verify(_token(exp=int(time.time()) - 10)) is None
    assert verifier.verify(_token() + "x") is None
    assert verifier.verify("not.a.jwt") is None


def test_no_user_name_can_take_another_identitys_actor_id() -> None:
    # A token's user name is chosen by the user: "key:admin" must not act as the
    # bootstrap key, and two users called alice must not be one actor.
    forged = _user(sub="u9", preferred_username="key:admin")
    assert forged is not None and forged.actor == "oidc:idp.example.com/u9"
    assert forged.name == "key:admin"
    one, other = (
        _user(sub="u1", preferred_username="alice"),
        _user(sub="u2", preferred_username="alice"),
    )
    assert one is not None and other is not None and one.actor != other.actor
