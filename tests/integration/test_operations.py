"""Start-up failures are one line naming the cause; health endpoints; export-schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from incident_service.embedded import free_port
from tests.support.processes import SERVICE_BIN, ServiceProcess

REPO = Path(__file__).resolve().parents[2]


def _serve(tmp_path: Path, env: dict[str, str], argv: list[str] | None = None) -> tuple[int, str]:
    """Run `incident-service serve` expecting it to refuse to start; return (code, stderr)."""
    full = {
        **os.environ,
        "MONGODB_URI": "",
        "DATA_DIR": str(tmp_path / "data"),
        "ADMIN_API_KEY": "k" * 24,
        "PORT": str(free_port()),
        **env,
    }
    done = subprocess.run(
        argv or [SERVICE_BIN, "serve"],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stderr


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"MAX_QUERY_DEPTH": "0"}, "MAX_QUERY_DEPTH"),
        ({"EMBEDDED_START_TIMEOUT": "soon"}, "EMBEDDED_START_TIMEOUT"),
        ({"SLA_P1_ACK": "-5"}, "SLA_P1_ACK"),
        ({"APP_PROFILE": "staging"}, "APP_PROFILE"),
        ({"ADMIN_API_KEY": "", "ADMIN_API_KEY_FILE": "/nonexistent/key"}, "ADMIN_API_KEY_FILE"),
    ],
)
def test_bad_setting_stops_start_up_with_one_line(
    tmp_path: Path, env: dict[str, str], name: str
) -> None:
    code, stderr = _serve(tmp_path, env)
    assert code == 2
    line = _one_line(stderr)
    assert line.startswith("incident-service: invalid setting ") and name in line


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    code, stderr = _serve(tmp_path, {"DATA_DIR": str(blocker)})
    assert code == 1
    assert "DATA_DIR" in _one_line(stderr) and str(blocker) in stderr


def test_embedded_database_that_crashes_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "db").write_text("a file where the database wants a folder")
    code, stderr = _serve(tmp_path, {"DATA_DIR": str(data)})
    assert code == 1
    line = _one_line(stderr)
    assert "embedded database exited" in line and "secantusd.log" in line


def test_embedded_database_not_installed(tmp_path: Path) -> None:
    """An interpreter with no secantusd-py beside it or on PATH: one line, how to fix it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.symlink_to(Path(sys.executable).resolve())
    site = next(p for p in sys.path if p.endswith("site-packages"))
    code, stderr = _serve(
        tmp_path,
        {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join([site, str(REPO / "service")]),
        },
        [str(python), "-m", "incident_service.cli", "serve"],
    )
    assert code == 1, stderr
    line = _one_line(stderr)
    assert "embedded database is not installed" in line and "MONGODB_URI" in line


@pytest.mark.slow
def test_unreachable_database(tmp_path: Path) -> None:
    code, stderr = _serve(tmp_path, {"MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/"})
    assert code == 1
    assert "cannot reach the database at MONGODB_URI" in _one_line(stderr)


def test_malformed_mongodb_uri(tmp_path: Path) -> None:
    code, stderr = _serve(tmp_path, {"MONGODB_URI": "mongodb://"})
    assert code == 1
    assert "invalid setting MONGODB_URI" in _one_line(stderr)


def test_readiness_fails_when_the_database_goes_away(tmp_path: Path) -> None:
    from tests.support.processes import start_database

    db = start_database(tmp_path / "db")
    proc = ServiceProcess(
        {"MONGODB_URI": db.uri, "MONGODB_DATABASE": "ready_test", "LOG_LEVEL": "WARNING"},
        log_path=tmp_path / "log",
    ).start()
    try:
        db.stop()
        ready = httpx.get(f"{proc.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
        assert httpx.get(f"{proc.url}/healthz").status_code == 200
    finally:
        proc.stop()
        db.stop()
