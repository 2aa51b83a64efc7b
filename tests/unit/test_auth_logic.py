"""Pure access-control logic: keys, roles, tokens, error codes, frames, rate verdicts."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from graphql import GraphQLError

from incident_service import requestid
from incident_service.api.errors import clear_message, code_for, strip_suggestions
from incident_service.api.wsframes import frame_problem
from incident_service.apikeys import domain
from incident_service.auth import ANONYMOUS, Principal, Role, bearer_token, match_admin_key
from incident_service.config import ConfigError, load_settings
from incident_service.domain.errors import DomainError
from incident_service.oidc import OidcVerifier, actor_from_claims, looks_like_jwt, role_from_claims
from incident_service.ratelimit import RateLimiter

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_minted_keys_are_random_prefixed_and_hashed_with_sha256() -> None:
    key, secret = domain.new_key(" ci bot ", Role.VIEWER, key_id="k1", now=NOW, actor="key:admin")
    other = domain.mint_secret()
    assert secret.startswith("isk_") and other.startswith("isk_") and secret != other
    assert len(secret) >= 4 + 43  # 32 random bytes, base64url
    assert key.name == "ci bot" and key.prefix == secret[: domain.SHOWN_CHARS]
    assert domain.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert key.principal() == Principal("ci bot", Role.VIEWER, "api_key")
    assert key.principal().actor == "key:ci bot"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\nname", "nul\x00"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(DomainError) as err:
        domain.check_name(name)
    assert err.value.field == ("input", "name")


def test_anonymous_is_not_grantable() -> None:
    with pytest.raises(DomainError):
        domain.check_role(Role.ANONYMOUS)


def test_last_used_is_written_at_most_once_per_interval() -> None:
    assert domain.needs_touch(None, NOW, 60)
    assert not domain.needs_touch(NOW - timedelta(seconds=59), NOW, 60)
    assert domain.needs_touch(NOW - timedelta(seconds=60), NOW, 60)


def test_admin_key_match() -> None:
    assert match_admin_key("s3cret-key", "s3cret-key") == Principal("admin", Role.ADMIN, "api_key")
    assert match_admin_key("s3cret-kez", "s3cret-key") is None
    assert match_admin_key("s3cret-key-longer", "s3cret-key") is None
    assert match_admin_key("", "") is None  # no configured key matches nothing


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


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


def test_error_codes_of_pre_execution_errors() -> None:
    assert code_for(GraphQLError("Syntax Error: Unexpected Name")) == "GRAPHQL_PARSE_FAILED"
    assert (
        code_for(GraphQLError("Syntax Error: Document contains more than 10 tokens."))
        == "TOO_MANY_TOKENS"
    )
    assert code_for(GraphQLError("'q' exceeds maximum operation depth of 3")) == "QUERY_TOO_DEEP"
    assert code_for(GraphQLError("31 aliases found. Allowed: 30")) == "TOO_MANY_ALIASES"
    assert code_for(GraphQLError("Variable '$x' got invalid value 1")) == "BAD_USER_INPUT"
    assert code_for(GraphQLError("Cannot query field 'x'")) == "GRAPHQL_VALIDATION_FAILED"
    assert code_for(GraphQLError("boom", path=["a"])) is None
    assert clear_message("QUERY_TOO_DEEP", "'anonymous' exceeds maximum operation depth of 3") == (
        "The query is too deep: the maximum depth is 3"
    )


def test_suggestions_are_stripped() -> None:
    assert strip_suggestions(
        "Cannot query field 'titel' on type 'Incident'. Did you mean 'title'?"
    ) == ("Cannot query field 'titel' on type 'Incident'.")
    assert (
        strip_suggestions(
            "Value 'HIGHH' does not exist in 'Impact' enum. Did you mean the enum value 'HIGH'?"
        )
        == "Value 'HIGHH' does not exist in 'Impact' enum."
    )


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"type": "connection_init", "payload": {}}, None),
        ({"type": "ping"}, None),
        ({"id": "1", "type": "subscribe", "payload": {"query": "{ a }", "variables": None}}, None),
        ([1], "a message must be a JSON object"),
        ("x", "a message must be a JSON object"),
        ({"type": 1}, "a message needs a string `type`"),
        ({"id": 1, "type": "complete"}, "`id` must be a string"),
        ({"id": "1", "type": "subscribe", "payload": []}, "`payload` must be an object"),
        ({"id": "1", "type": "start", "payload": {"query": 1}}, "`payload.query` must be a string"),
        (
            {"id": "1", "type": "subscribe", "payload": {"query": "{a}", "variables": [1]}},
            "`payload.variables` has the wrong type",
        ),
    ],
)
def test_websocket_frame_shapes(frame: object, problem: str | None) -> None:
    assert frame_problem(frame) == problem


def test_rate_limiter_counts_keys_and_ips_apart() -> None:
    limiter = RateLimiter("2/minute", "1/minute")
    alice = Principal("alice", Role.VIEWER, "user")
    assert limiter.check_principal(alice).allowed and limiter.check_principal(alice).allowed
    refused = limiter.check_principal(alice)
    assert not refused.allowed and 1 <= refused.retry_after <= 60 and refused.limit
    assert limiter.check_principal(Principal("bob", Role.VIEWER, "user")).allowed
    assert limiter.check_ip("10.0.0.1").allowed and not limiter.check_ip("10.0.0.1").allowed
    assert limiter.check_ip("10.0.0.2").allowed
    off = RateLimiter("", "")
    assert all(off.check_principal(ANONYMOUS).allowed for _ in range(100))


def test_request_ids() -> None:
    assert requestid.accept("abc-123_X.y:z") == "abc-123_X.y:z"
    for bad in (None, "", "has space", "x" * 129, "new\nline"):
        fresh = requestid.accept(bad)
        assert fresh != bad and len(fresh) == 32


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RATE_LIMIT_PER_KEY": "lots"}, "RATE_LIMIT_PER_KEY"),
        ({"OIDC_ISSUER": "https://idp"}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "https://idp", "OIDC_HS256_SECRET": "s"}, "OIDC_AUDIENCE"),
    ],
)
def test_bad_auth_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PROFILE", "production")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/?replicaSet=rs0")
    settings = load_settings()
    assert not settings.introspection_enabled and not settings.field_suggestions_enabled
    assert settings.rate_limit_per_key and settings.rate_limit_per_ip
    assert not settings.oidc_enabled
