"""API keys end to end: created once, stored hashed, used, recorded, revoked; CLI; bootstrap."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.support.api import CREATE_KEY, LIST_KEYS, REVOKE_KEY, create_key, error_codes
from tests.support.polling import wait_for
from tests.support.processes import ADMIN_KEY, SERVICE_BIN, GraphQLClient, ServiceProcess
from tests.support.websocket import LEGACY_WS, TRANSPORT_WS, WsClient, message_errors

DECLARE = """mutation($t: String!) {
  declareIncident(input: {title: $t}) { incident { id } userErrors { code } } }"""
NOTE = """mutation($id: ID!) {
  addNote(input: {id: $id, body: "looking"}) { userErrors { code } } }"""
TIMELINE = """query($id: ID!) {
  incident(id: $id) { timeline { edges { node { type actor actorName } } } } }"""
ME = "{ me { name role kind actor } }"


def stored_key(service: ServiceProcess, key_id: str) -> dict[str, object]:
    client: MongoClient[dict[str, object]] = MongoClient(service.env["MONGODB_URI"])
    try:
        doc = client[service.env["MONGODB_DATABASE"]]["api_keys"].find_one({"_id": key_id})
    finally:
        client.close()
    assert doc is not None
    return doc


def test_secret_is_shown_once_and_stored_only_as_hash(
    service: ServiceProcess, gql: GraphQLClient, tag: str
) -> None:
    secret, key = create_key(gql, f"once-{tag}", "VIEWER")
    assert secret.startswith("isk_") and len(secret) > 40
    assert secret.startswith(key["prefix"]) and len(key["prefix"]) < 16
    doc = stored_key(service, key["id"])
    assert doc["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(doc, default=str)
    listed = json.dumps(gql(LIST_KEYS, {"all": True}))
    assert f"once-{tag}" in listed and secret not in listed
    assert key["createdBy"] == "key:admin" and key["lastUsedAt"] is None


def test_key_acts_with_its_role_under_its_id_and_shows_its_name(
    gql: GraphQLClient, tag: str
) -> None:
    responder, key = create_key(gql, f"ops-bot-{tag}", "RESPONDER")
    viewer, _ = create_key(gql, f"reader-{tag}", "VIEWER")
    created = gql(DECLARE, {"t": f"by key {tag}"}, key=responder)["declareIncident"]["incident"]
    gql(NOTE, {"id": created["id"]}, key=responder)
    events = gql(TIMELINE, {"id": created["id"]}, key=viewer)["incident"]["timeline"]["edges"]
    assert len(events) >= 2
    assert {e["node"]["actor"] for e in events} == {f"key:{key['id']}"}
    assert {e["node"]["actorName"] for e in events} == {f"ops-bot-{tag}"}
    assert gql(ME, key=responder)["me"] == {
        "name": f"ops-bot-{tag}",
        "role": "RESPONDER",
        "kind": "api_key",
        "actor": f"key:{key['id']}",
    }
    denied = gql.post(DECLARE, {"t": "nope"}, key=viewer).json()
    assert error_codes(denied) == ["FORBIDDEN"]


def test_a_new_key_with_a_revoked_keys_name_is_someone_else(gql: GraphQLClient, tag: str) -> None:
    # Names are unique among active keys only: by name, the new key would inherit the
    # old one's restricted incidents and role assignments.
    old_secret, old = create_key(gql, f"rotating-{tag}", "RESPONDER")
    declared = gql(
        """mutation($t: String!) { declareIncident(input: {title: $t, restricted: true}) {
             incident { id } } }""",
        {"t": f"restricted {tag}"},
        key=old_secret,
    )["declareIncident"]["incident"]
    gql(REVOKE_KEY, {"id": old["id"]})
    new_secret, new = create_key(gql, f"rotating-{tag}", "RESPONDER")
    assert gql(ME, key=new_secret)["me"]["actor"] == f"key:{new['id']}" != f"key:{old['id']}"
    assert gql(TIMELINE, {"id": declared["id"]}, key=new_secret)["incident"] is None
    events = gql(TIMELINE, {"id": declared["id"]})["incident"]["timeline"]["edges"]
    assert events[0]["node"] == {
        "type": "DECLARED",
        "actor": f"key:{old['id']}",
        "actorName": f"rotating-{tag}",
    }


def test_a_revoked_key_stops_working_on_every_replica_at_once(
    service: ServiceProcess, gql: GraphQLClient, tag: str
) -> None:
    # The other replica remembers keys for a minute: only the change stream can tell
    # it in time.
    other = ServiceProcess({**service.env, "API_KEY_CACHE_SECONDS": "60"}).start()
    try:
        secret, key = create_key(gql, f"replicated-{tag}", "VIEWER")
        remote = GraphQLClient(other.url, key=secret)
        assert remote(ME)["me"]["name"] == f"replicated-{tag}"
        assert remote(ME)["me"]["name"] == f"replicated-{tag}"  # from memory now
        gql(REVOKE_KEY, {"id": key["id"]})
        wait_for(
            lambda: remote.post(ME).status_code == 401,
            timeout=5,
            message="the other replica still accepts the revoked key",
        )
    finally:
        other.stop()


def test_last_used_at_is_recorded(gql: GraphQLClient, tag: str) -> None:
    secret, key = create_key(gql, f"used-{tag}", "VIEWER")
    gql(ME, key=secret)

    def last_used() -> str | None:
        keys = gql(LIST_KEYS, {"all": False})["apiKeys"]
        return next(k["lastUsedAt"] for k in keys if k["id"] == key["id"])

    assert wait_for(last_used) >= key["createdAt"]


def test_revoked_key_stops_working(gql: GraphQLClient, tag: str) -> None:
    secret, key = create_key(gql, f"revoke-me-{tag}", "RESPONDER")
    assert gql(ME, key=secret)["me"]["name"] == f"revoke-me-{tag}"
    revoked = gql(REVOKE_KEY, {"id": key["id"]})["revokeApiKey"]
    assert revoked["userErrors"] == [] and revoked["apiKey"]["revokedAt"]
    assert revoked["apiKey"]["revokedBy"] == "key:admin"
    response = gql.post(ME, key=secret)
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    # Idempotent, listed only with includeRevoked, and the name is free again.
    again = gql(REVOKE_KEY, {"id": key["id"]})["revokeApiKey"]
    assert again["apiKey"]["revokedAt"] == revoked["apiKey"]["revokedAt"]
    assert key["id"] not in json.dumps(gql(LIST_KEYS, {"all": False}))
    assert key["id"] in json.dumps(gql(LIST_KEYS, {"all": True}))
    create_key(gql, f"revoke-me-{tag}", "VIEWER")


def test_bad_key_input_is_a_user_error(gql: GraphQLClient, tag: str) -> None:
    create_key(gql, f"dup-{tag}", "VIEWER")
    for name in ("", "   ", "x" * 101, "tab\there", f"dup-{tag}"):
        payload = gql(CREATE_KEY, {"input": {"name": name, "role": "VIEWER"}})["createApiKey"]
        assert payload["secret"] is None and payload["apiKey"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["VALIDATION"], name
    missing = gql(REVOKE_KEY, {"id": "000000000000000000000000"})["revokeApiKey"]
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]
    garbage = gql(REVOKE_KEY, {"id": "not an id"})["revokeApiKey"]
    assert [e["code"] for e in garbage["userErrors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer isk_not-a-real-key",
        "Bearer wrong",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer eyJ.a.b",
    ],
)
def test_invalid_credentials_are_401(gql: GraphQLClient, authorization: str) -> None:
    response = httpx.post(
        gql.url,
        json={"query": "{ statusPage { overallStatus } }"},
        headers={"authorization": authorization},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
def test_websocket_key_in_connection_init(
    service: ServiceProcess, gql: GraphQLClient, tag: str, subprotocol: str
) -> None:
    viewer, _ = create_key(gql, f"ws-{subprotocol}-{tag}", "VIEWER")
    incident = gql(DECLARE, {"t": f"ws {tag}"})["declareIncident"]["incident"]
    document = "subscription($id: ID!) { incidentEvents(incidentId: $id) { type actor } }"
    with WsClient(service.ws_url, subprotocol) as conn:
        conn.init(viewer)
        conn.subscribe("1", document, {"id": incident["id"]})
        message = conn.recv()
        assert message["type"] in ("next", "data"), message
        assert message["payload"]["data"]["incidentEvents"]["actor"] == "key:admin"
    # Without a key: connected, but the internal subscription is refused.
    with WsClient(service.ws_url, subprotocol) as conn:
        conn.init(None)
        conn.subscribe("1", document, {"id": incident["id"]})
        message = conn.recv()
        errors = message_errors(message)
        assert "UNAUTHENTICATED" in error_codes({"errors": errors}), message
    # A bad key: the connection is refused.
    with WsClient(service.ws_url, subprotocol) as conn:
        conn.send({"type": "connection_init", "payload": {"authorization": "Bearer isk_nope"}})
        if subprotocol == TRANSPORT_WS:
            assert conn.closed().code == 4403
        else:
            message = conn.recv()
            assert message["type"] == "connection_error", message
            assert conn.closed().code is not None


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SERVICE_BIN, "create-api-key", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_creates_a_key_in_the_configured_database(
    service: ServiceProcess, gql: GraphQLClient, tag: str
) -> None:
    env = {k: service.env[k] for k in ("MONGODB_URI", "MONGODB_DATABASE")}
    done = cli(env, "--name", f"cli-{tag}", "--role", "RESPONDER")
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("isk_") and "shown only now" in done.stderr
    assert gql(ME, key=secret)["me"]["role"] == "RESPONDER"
    again = cli(env, "--name", f"cli-{tag}", "--role", "VIEWER")
    assert again.returncode == 2 and "--name" in again.stderr and not again.stdout


def test_admin_api_key_file(service: ServiceProcess, tmp_path: Path) -> None:
    secret = f"from-a-secret-{uuid.uuid4().hex}"
    (tmp_path / "key").write_text(secret + "\n")
    env = {k: v for k, v in service.env.items() if k != "ADMIN_API_KEY"}
    proc = ServiceProcess({**env, "ADMIN_API_KEY_FILE": str(tmp_path / "key")}).start()
    try:
        client = GraphQLClient(proc.url, key=secret)
        assert client(ME)["me"]["role"] == "ADMIN"
        assert client.post(ME, key=ADMIN_KEY).status_code == 401
    finally:
        proc.stop()


def test_development_bootstrap_key_and_cli_on_the_embedded_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"DATA_DIR": str(data), "LOG_LEVEL": "WARNING", "APP_PROFILE": "development"}
    log = tmp_path / "service.log"
    proc = ServiceProcess(env, log_path=log).start()
    try:
        key_file = data / "admin-api-key"
        admin = key_file.read_text().strip()
        assert admin in log.read_text(errors="replace")
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        assert GraphQLClient(proc.url, key=admin)(ME)["me"]["role"] == "ADMIN"
        # The embedded database belongs to the running server: the CLI says so.
        busy = cli(env, "--name", "while-running", "--role", "VIEWER")
        assert busy.returncode == 1 and "server running" in busy.stderr and not busy.stdout
    finally:
        proc.stop()
    made = cli(env, "--name", "offline", "--role", "VIEWER")
    assert made.returncode == 0, made.stderr
    proc = ServiceProcess(env, log_path=log).start()
    try:
        assert key_file.read_text().strip() == admin
        assert GraphQLClient(proc.url, key=admin)(ME)["me"]["role"] == "ADMIN"
        assert GraphQLClient(proc.url, key=made.stdout.strip())(ME)["me"]["name"] == "offline"
    finally:
        proc.stop()


def test_api_key_indexes(service: ServiceProcess, gql: GraphQLClient) -> None:
    gql(LIST_KEYS, {"all": False})
    client: MongoClient[dict[str, object]] = MongoClient(service.env["MONGODB_URI"])
    try:
        coll = client[service.env["MONGODB_DATABASE"]]["api_keys"]
        indexes = {i["name"]: i for i in coll.list_indexes()}
    finally:
        client.close()
    assert list(indexes["hash_unique"]["key"].items()) == [("hash", 1)]
    assert indexes["hash_unique"]["unique"]
    assert indexes["active_name_unique"]["unique"]
    assert indexes["active_name_unique"]["partialFilterExpression"] == {"active": True}
    assert list(indexes["active_created"]["key"].items()) == [("active", 1), ("createdAt", 1)]
