"""Shared fixtures: one embedded database and one service process per test session.

Set TEST_MONGODB_URI to run the integration tests against a real MongoDB
replica set instead of the embedded server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ADMIN_KEY, GraphQLClient, ServiceProcess, start_database


@pytest.fixture(scope="session", autouse=True)
def _data_dir_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Service processes that fall back to the default DATA_DIR (./.data) would
    otherwise write a dev admin key into the developer's own checkout."""
    previous = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("default-data"))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DATA_DIR", None)
        else:
            os.environ["DATA_DIR"] = previous


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("TEST_MONGODB_URI"):
        yield os.environ["TEST_MONGODB_URI"]
        return
    db = start_database(tmp_path_factory.mktemp("mongo"))
    try:
        yield db.uri
    finally:
        db.stop()


def service_env(mongo_uri: str, database: str, **extra: str) -> dict[str, str]:
    return {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "ADMIN_API_KEY": ADMIN_KEY,
        "LOG_LEVEL": "WARNING",
        # The whole session shares one key and one IP: rate limits are tested on
        # their own process (test_limits.py), not tripped by the suite's volume.
        "RATE_LIMIT_PER_KEY": "",
        "RATE_LIMIT_PER_IP": "",
        "INTEGRATION_RATE_LIMIT": "",
        "SUBSCRIBE_RATE_LIMIT_PER_IP": "",
        **extra,
    }


@pytest.fixture(scope="session")
def service(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A running service on its own database, shared by the session."""
    log = Path(tmp_path_factory.mktemp("service")) / "service.log"
    # Rate limits off: the whole suite shares this one service and key
    # (test_limits.py starts its own service to test them).
    env = service_env(
        mongo_uri,
        f"test_{uuid.uuid4().hex[:8]}",
        RATE_LIMIT_PER_KEY="",
        RATE_LIMIT_PER_IP="",
    )
    proc = ServiceProcess(env, log_path=log)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def own_service(mongo_uri: str) -> Iterator[ServiceProcess]:
    """A service of the test's own, on a new database: for tests that restart it."""
    proc = ServiceProcess(service_env(mongo_uri, f"own_{uuid.uuid4().hex[:8]}")).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def gql(service: ServiceProcess) -> GraphQLClient:
    return GraphQLClient(service.url)


@pytest.fixture
def tag() -> str:
    """A unique label, so a test can filter to exactly the incidents it made."""
    return f"t-{uuid.uuid4().hex[:10]}"
