"""The embedded database: SecantusDB run as a child process on loopback.

Used when MONGODB_URI is empty (development and tests). It is a separate
process, never imported: SecantusDB is GPL-2.0 and an optional extra, and
its Python engine would otherwise compete with the service for the GIL.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError


class EmbeddedError(Exception):
    """The embedded database is missing or did not start; one-line message."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def executable() -> str:
    candidate = Path(sys.executable).parent / "secantusd-py"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("secantusd-py")
    if found is None:
        raise EmbeddedError(
            "the embedded database is not installed: pip install 'incident-service[embedded]' "
            "or set MONGODB_URI to a MongoDB replica set"
        )
    return found


#: Where a running embedded database records itself: `<its pid> <the service's pid>`.
PID_FILE = "secantusd.pid"
CONFIG_FILE = "embedded.toml"
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None]:
    def arrange() -> None:  # runs in the child, before exec
        """Linux: the database gets SIGTERM when the service dies, even by kill -9."""
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the service died before the line above
            os._exit(1)

    return arrange


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (OSError, UnicodeDecodeError):
        return []


class EmbeddedMongo:
    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        test_commands: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port(host)
        #: `configureFailPoint` and friends, for fault-injection tests only.
        self.test_commands = test_commands
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        # Retryable writes exist to survive a replica set's failover; this one
        # process on loopback has none. The embedded server keeps a record of
        # every retryable write for 30 minutes, scanned on each write and sorted
        # on each write past 10,000: every write (and, under its lock, every
        # read) grows about ten times slower after 10,000 writes.
        # docs/decisions.md, "Where the issue was silent".
        return f"mongodb://{self.host}:{self.port}/?directConnection=true&retryWrites=false"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / PID_FILE

    def _reclaim(self) -> None:
        """Stop the database a dead service left running on this folder (it would hold
        the folder's lock, and every restart would fail); refuse if its service lives."""
        try:
            db_pid, owner = (int(x) for x in self.pid_file.read_text().split())
        except (OSError, ValueError):
            return
        argv = _argv(db_pid)
        storage = ["--storage-path", str(self.data_dir / "db")]
        ours = any(argv[i : i + 2] == storage for i in range(len(argv) - 1))
        if not _alive(db_pid) or not ours:
            return  # gone, or the pid now belongs to something else
        if owner != os.getpid() and _alive(owner):
            raise EmbeddedError(
                f"DATA_DIR {self.data_dir} is in use by another incident-service (pid {owner}); "
                "stop it or choose another DATA_DIR"
            )
        os.kill(db_pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(db_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(db_pid):
            os.kill(db_pid, signal.SIGKILL)

    def _config_file(self) -> Path:
        """An empty configuration, passed explicitly: without one, secantusd-py reads the
        first secantusd.toml (or secantusdb.toml) it finds in the working directory,
        ~/.secantus or /etc/secantus, and one written for another purpose (`auth = true`,
        say) would change this database under the service. Named so as never to be
        one of those (DATA_DIR may be the working directory)."""
        path = self.data_dir / CONFIG_FILE
        path.write_text(
            "# Written by incident-service at each start: the embedded database's settings\n"
            "# are its command-line flags. An explicit file stops secantusd-py from reading\n"
            "# a secantusd.toml found elsewhere.\n"
        )
        return path

    def start(self, timeout: float = 30.0) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._reclaim()
            log = (self.data_dir / "secantusd.log").open("ab")
            config = self._config_file()
        except OSError as exc:
            raise EmbeddedError(
                f"cannot use DATA_DIR {self.data_dir} for the embedded database: {exc.strerror}"
            ) from None
        cmd = [
            executable(),
            "--config",
            str(config),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.data_dir / "db"),
            "--log-level",
            "WARNING",
            *(["--enable-test-commands"] if self.test_commands else []),
        ]
        self.process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent(os.getpid()) if sys.platform == "linux" else None,
        )
        with contextlib.suppress(OSError):
            self.pid_file.write_text(f"{self.process.pid} {os.getpid()}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(
                    f"the embedded database exited with code {self.process.returncode}; "
                    f"see {self.data_dir / 'secantusd.log'}"
                )
            if self._answers_ping():
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedError(f"the embedded database did not answer ping within {timeout:.0f}s")

    def _answers_ping(self) -> bool:
        client: MongoClient[dict[str, object]] = MongoClient(
            self.uri, serverSelectionTimeoutMS=300, connectTimeoutMS=300
        )
        try:
            client.admin.command("ping")
            return True
        except PyMongoError:
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(OSError):
            self.pid_file.unlink()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
