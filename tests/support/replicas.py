"""Two service processes (replicas) on one database of their own, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from tests.conftest import service_env
from tests.support.processes import ServiceProcess

Replicas = tuple[ServiceProcess, ServiceProcess, str]


@contextmanager
def two_replicas(mongo_uri: str, logs: Path, prefix: str, **settings: str) -> Iterator[Replicas]:
    """Replicas a and b, and the name of their database (`prefix_<random>`)."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    env = service_env(mongo_uri, database, **settings)
    a = ServiceProcess(env, log_path=logs / "a.log").start()
    b = ServiceProcess(env, log_path=logs / "b.log").start()
    try:
        yield a, b, database
    finally:
        a.stop()
        b.stop()
        client: MongoClient[Any]
        with MongoClient(mongo_uri) as client:
            client.drop_database(database)
