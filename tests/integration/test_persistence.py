"""`incident-service serve` with no MONGODB_URI runs its own database and keeps the data."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient

from incident_service.embedded import PID_FILE, EmbeddedError, EmbeddedMongo
from tests.support.api import ADD_NOTE, declare, get, ok, timeline
from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess


def _embedded(data_dir: Path, log: Path, **extra: str) -> ServiceProcess:
    env = {
        "MONGODB_URI": "",  # empty: start the embedded SecantusDB
        "DATA_DIR": str(data_dir),
        "ADMIN_API_KEY": ADMIN_KEY,
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return ServiceProcess(env, log_path=log)


def _db_port(log: Path) -> int:
    ports = re.findall(r"embedded database on mongodb://127\.0\.0\.1:(\d+)", log.read_text())
    assert ports, log.read_text()
    return int(ports[-1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_incident_survives_a_restart(tmp_path: Path, tag: str) -> None:
    data, log = tmp_path / "data", tmp_path / "service.log"
    first = _embedded(data, log).start(timeout=120)
    try:
        gql = GraphQLClient(first.url)
        incident = declare(gql, "Survives restarts", tag=tag, impact="HIGH", urgency="HIGH")
        ok(gql, ADD_NOTE, id=incident["id"], body="before the restart")
        before = get(gql, incident["id"]), timeline(gql, incident["id"])
    finally:
        assert first.stop() == 0, first.log()
    port = _db_port(log)
    assert not _accepts(port), "the embedded database must stop with the service"
    assert (data / "db").is_dir()

    second = _embedded(data, log).start(timeout=120)
    try:
        gql = GraphQLClient(second.url)
        assert (get(gql, incident["id"]), timeline(gql, incident["id"])) == before
        by_key = gql("query($k: String){ incident(key: $k){ id } }", {"k": incident["key"]})
        assert by_key["incident"]["id"] == incident["id"]
        # The INC-n counter persisted too: no key is handed out twice.
        after = declare(gql, "After the restart", tag=tag)
        assert int(after["key"][4:]) == int(incident["key"][4:]) + 1
    finally:
        second.signal(signal.SIGTERM)
        assert second.stop() == 0


@pytest.mark.slow
def test_make_run_flow_generates_and_keeps_an_admin_key(tmp_path: Path, tag: str) -> None:
    """With no ADMIN_API_KEY (as `make run` starts it) a key is made once and kept."""
    data, log = tmp_path / "data", tmp_path / "service.log"
    proc = _embedded(data, log, ADMIN_API_KEY="").start(timeout=120)
    try:
        key_file = data / "admin-api-key"
        key = key_file.read_text().strip()
        assert key.startswith("isk_") and key != ADMIN_KEY
        assert key_file.stat().st_mode & 0o077 == 0
        assert key in log.read_text()  # printed once, for the developer
        gql = GraphQLClient(proc.url, key=key)
        declare(gql, "Declared with the generated key", tag=tag)
        assert GraphQLClient(proc.url).post("{ services { id } }").status_code == 401
    finally:
        assert proc.stop() == 0
    again = _embedded(data, log, ADMIN_API_KEY="").start(timeout=120)
    try:
        assert (data / "admin-api-key").read_text().strip() == key
        assert GraphQLClient(again.url, key=key)(
            "query($f: IncidentFilter){ incidents(filter: $f){ totalCount } }",
            {"f": {"label": tag}},
        ) == {"incidents": {"totalCount": 1}}
    finally:
        again.stop()


@pytest.mark.slow
def test_a_restart_after_kill_9_finds_the_database_free(tmp_path: Path, tag: str) -> None:
    """kill -9 of the service once left its embedded database running, holding the
    folder's lock: every restart failed until someone killed it by hand."""
    data, log = tmp_path / "data", tmp_path / "service.log"
    first = _embedded(data, log).start(timeout=120)
    declare(GraphQLClient(first.url), "Before the crash", tag=tag)
    first.signal(signal.SIGKILL)
    first.stop()
    second = _embedded(data, log).start(timeout=120)
    try:
        found = GraphQLClient(second.url)(
            "query($f: IncidentFilter){ incidents(filter: $f){ totalCount } }",
            {"f": {"label": tag}},
        )
        assert found == {"incidents": {"totalCount": 1}}
    finally:
        assert second.stop() == 0


def test_an_orphaned_database_is_stopped_and_a_live_owner_refused(tmp_path: Path) -> None:
    """The pid file names the database and its service: a database whose service is gone
    is stopped at the next start; one whose service lives is left alone, with a clear
    refusal."""
    orphan = EmbeddedMongo(tmp_path)
    orphan.start(timeout=60)
    assert orphan.process is not None
    db_pid = orphan.process.pid
    try:
        gone = _exited_pid()
        (tmp_path / PID_FILE).write_text(f"{db_pid} {gone}\n")
        restarted = EmbeddedMongo(tmp_path)
        restarted.start(timeout=60)
        try:
            assert orphan.process.wait(timeout=15) is not None  # stopped by the restart
            # Now a live owner (this test process's parent stands in for a running service).
            assert restarted.process is not None
            (tmp_path / PID_FILE).write_text(f"{restarted.process.pid} {os.getppid()}\n")
            with pytest.raises(EmbeddedError, match="in use by another incident-service"):
                EmbeddedMongo(tmp_path).start(timeout=60)
        finally:
            restarted.stop()
    finally:
        orphan.stop()


def _exited_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_secantusd_toml_in_the_working_directory_does_not_change_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """secantusd-py reads the first secantusd.toml it finds unless given one: a file
    written for another purpose must not turn on authentication under the service."""
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    (elsewhere / "secantusd.toml").write_text("[server]\nauth = true\n")
    monkeypatch.chdir(elsewhere)
    database = EmbeddedMongo(tmp_path / "data")
    database.start(timeout=60)
    try:
        client: MongoClient[dict[str, object]] = MongoClient(database.uri)
        try:
            assert client.probe.things.insert_one({"n": 1}).acknowledged
        finally:
            client.close()
    finally:
        database.stop()
