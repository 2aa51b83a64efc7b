"""OIDC/JWT bearer tokens: HS256 and RS256 with a JWKS file, minted here; role from a claim."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.api import error_codes
from tests.support.processes import GraphQLClient, ServiceProcess
from tests.support.websocket import WsClient

ISSUER = "https://idp.example.test/realms/ops"
AUDIENCE = "incident-service"
SECRET = "hs256-shared-secret-for-tests-0123456789abcdef"
KID = "test-key-1"
ME = "{ me { name role kind actor } }"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def oidc_service(
    service: ServiceProcess, rsa_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwks_file = Path(tmp_path_factory.mktemp("oidc")) / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}))
    env = {
        **service.env,
        "OIDC_ISSUER": ISSUER,
        "OIDC_AUDIENCE": AUDIENCE,
        "OIDC_JWKS_FILE": str(jwks_file),
        "OIDC_HS256_SECRET": SECRET,
        "OIDC_ROLE_CLAIM": "realm_access.roles",
    }
    proc = ServiceProcess(env).start()
    try:
        yield proc
    finally:
        proc.stop()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, "sub": "u-123"}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


def rs256(key: rsa.RSAPrivateKey, kid: str = KID, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers={"kid": kid})


def roles(*names: str) -> dict[str, Any]:
    return {"realm_access": {"roles": list(names)}}


HOST = "idp.example.test"
TIMELINE = """query($id: ID!) { incident(id: $id) {
  timeline { edges { node { actor actorName } } } } }"""
DECLARE = """mutation($t: String!, $restricted: Boolean) {
  declareIncident(input: {title: $t, restricted: $restricted}) { incident { id } } }"""


def test_hs256_token_acts_as_its_user(oidc_service: ServiceProcess) -> None:
    token = hs256(preferred_username="alice", **roles("offline_access", "responder"))
    client = GraphQLClient(oidc_service.url, key=token)
    assert client(ME)["me"] == {
        "name": "alice",
        "role": "RESPONDER",
        "kind": "user",
        "actor": f"oidc:{HOST}/u-123",
    }
    incident = client(DECLARE, {"t": "by alice"})["declareIncident"]["incident"]
    events = client(TIMELINE, {"id": incident["id"]})["incident"]["timeline"]["edges"]
    assert [e["node"] for e in events] == [{"actor": f"oidc:{HOST}/u-123", "actorName": "alice"}]


def test_no_user_name_takes_another_identitys_actor_id(oidc_service: ServiceProcess) -> None:
    # The review's finding: preferred_username "key:admin" was recorded as key:admin, the
    # bootstrap key's actor; and two users with one name were one participant.
    sub = f"u-{uuid.uuid4().hex[:8]}"
    forger = GraphQLClient(
        oidc_service.url, key=hs256(sub=sub, preferred_username="key:admin", **roles("responder"))
    )
    assert forger(ME)["me"]["actor"] == f"oidc:{HOST}/{sub}"
    admin = GraphQLClient(oidc_service.url, key=oidc_service.env["ADMIN_API_KEY"])
    restricted = admin(DECLARE, {"t": "admin only", "restricted": True})
    incident_id = restricted["declareIncident"]["incident"]["id"]
    # The admin's restricted incident does not exist for the forger.
    assert forger(TIMELINE, {"id": incident_id})["incident"] is None
    alice = hs256(sub=f"{sub}-a", preferred_username="alice", **roles("responder"))
    other_alice = hs256(sub=f"{sub}-b", preferred_username="alice", **roles("responder"))
    declared = GraphQLClient(oidc_service.url, key=alice)(
        DECLARE, {"t": "alice's", "restricted": True}
    )
    mine = declared["declareIncident"]["incident"]["id"]
    assert GraphQLClient(oidc_service.url, key=alice)(TIMELINE, {"id": mine})["incident"]
    assert GraphQLClient(oidc_service.url, key=other_alice)(TIMELINE, {"id": mine}) == {
        "incident": None
    }
    names = admin(
        "query($ids: [String!]!) { actors(ids: $ids) { id name kind } }",
        {"ids": [f"oidc:{HOST}/{sub}", "key:admin", f"oidc:{HOST}/nobody"]},
    )["actors"]
    # A user may call themselves after a key: the kind tells them apart.
    assert names == [
        {"id": f"oidc:{HOST}/{sub}", "name": "key:admin", "kind": "user"},
        {"id": "key:admin", "name": "admin", "kind": "api_key"},
        {"id": f"oidc:{HOST}/nobody", "name": f"oidc:{HOST}/nobody", "kind": "user"},
    ]


def test_rs256_token_from_the_jwks_file(
    oidc_service: ServiceProcess, rsa_key: rsa.RSAPrivateKey
) -> None:
    # No preferred_username: the name is `sub`; the highest listed role wins.
    token = rs256(rsa_key, sub="svc-42", **roles("VIEWER", "admin"))
    me = GraphQLClient(oidc_service.url, key=token)(ME)["me"]
    assert me == {"name": "svc-42", "role": "ADMIN", "kind": "user", "actor": f"oidc:{HOST}/svc-42"}


def test_token_without_a_known_role_is_forbidden_not_anonymous(
    oidc_service: ServiceProcess,
) -> None:
    client = GraphQLClient(oidc_service.url, key=hs256(**roles("offline_access")))
    assert error_codes(client.post(ME).json()) == ["FORBIDDEN"]
    assert client("{ statusPage { overallStatus } }")["statusPage"]["overallStatus"]


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _alg_confusion(key: rsa.RSAPrivateKey) -> str:
    # Signing HS256 with the public key's PEM must not pass as that key.
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": KID}).encode())
    body = jwt.utils.base64url_encode(json.dumps(claims(**roles("admin"))).encode())
    signature = hmac.new(pem, header + b"." + body, hashlib.sha256).digest()
    return b".".join([header, body, jwt.utils.base64url_encode(signature)]).decode()


BAD_TOKENS = {
    "wrong audience": lambda k: hs256(aud="someone-else", **roles("admin")),
    "wrong issuer": lambda k: hs256(iss="https://evil.test", **roles("admin")),
    "expired": lambda k: hs256(exp=int(time.time()) - 3600, **roles("admin")),
    "no exp": lambda k: hs256(exp=None, **roles("admin")),
    "no subject": lambda k: hs256(sub=None, **roles("admin")),
    "wrong HS256 secret": lambda k: jwt.encode(claims(**roles("admin")), "x" * 40, "HS256"),
    "unknown signing key": lambda k: rs256(_other_key(), **roles("admin")),
    "unknown kid": lambda k: rs256(k, kid="other", **roles("admin")),
    "alg none": lambda k: jwt.encode(claims(**roles("admin")), None, algorithm="none"),
    "alg confusion": _alg_confusion,
    "garbage": lambda k: "eyJhbGciOiJIUzI1NiJ9.not-json.sig",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_invalid_tokens_are_401(
    oidc_service: ServiceProcess, rsa_key: rsa.RSAPrivateKey, case: str
) -> None:
    token = BAD_TOKENS[case](rsa_key)
    response = GraphQLClient(oidc_service.url, key=token).post(ME)
    assert response.status_code == 401, response.text
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_token_over_websocket(oidc_service: ServiceProcess) -> None:
    token = hs256(preferred_username=f"bob-{uuid.uuid4().hex[:6]}", **roles("viewer"))
    with WsClient.initialised(oidc_service.ws_url, key=token) as conn:
        conn.subscribe("1", "subscription { statusPage { overallStatus } }")
        assert conn.recv()["type"] == "next"


def test_oidc_is_off_by_default(gql: GraphQLClient) -> None:
    response = gql.post(ME, key=hs256(**roles("admin")))
    assert response.status_code == 401
