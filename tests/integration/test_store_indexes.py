"""The indexes the store creates at start-up (idempotently: see test_persistence)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pymongo import MongoClient

from incident_service.store.database import INDEXES, Database
from tests.support.processes import ServiceProcess


def test_indexes_behind_every_query(mongo_uri: str, service: ServiceProcess) -> None:
    client: MongoClient[Any] = MongoClient(mongo_uri)
    try:
        db = client[service.env["MONGODB_DATABASE"]]
        incidents = {i["name"]: i for i in db.incidents.list_indexes()}
        newest = [("declaredAt", -1), ("_id", -1)]
        expected = {
            "number_unique": [("number", 1)],
            "idempotency_key_unique": [("idempotencyKey", 1)],
            "newest": newest,
            "priority": [("priority", 1), *newest],
            "status_newest": [("status", 1), *newest],
            "open_newest": [("open", 1), *newest],
            "category_newest": [("category", 1), *newest],
            "service_newest": [("serviceIds", 1), *newest],
            "label_newest": [("labels", 1), *newest],
        }
        for name, keys in expected.items():
            assert list(incidents[name]["key"].items()) == keys, name
        assert (
            incidents["number_unique"]["unique"] and incidents["idempotency_key_unique"]["unique"]
        )
        timeline = {i["name"]: i for i in db.incident_events.list_indexes()}["timeline"]
        assert list(timeline["key"].items()) == [("incidentId", 1), ("seq", 1)]
        assert timeline["unique"]
        names = {i["name"]: i for i in db.services.list_indexes()}
        assert names["name_unique"]["unique"]
        assert "service_history" in {i["name"] for i in db.service_events.list_indexes()}
        # Derived status, the page's history, maintenance and the job claim.
        assert list(incidents["active_impacts"]["key"].items()) == [
            ("activeImpactServiceIds", 1),
            ("number", 1),
        ]
        assert list(incidents["open_priority"]["key"].items()) == [("open", 1), ("priority", 1)]
        assert list(incidents["public_recent"]["key"].items()) == [
            ("visibility", 1),
            ("resolvedAt", -1),
        ]
        windows = {i["name"]: i for i in db.maintenances.list_indexes()}
        assert list(windows["service_status"]["key"].items()) == [("serviceIds", 1), ("status", 1)]
        assert list(windows["public_by_status"]["key"].items()) == [
            ("published", 1),
            ("status", 1),
            ("endsAt", -1),
        ]
        jobs = {i["name"]: i for i in db.jobs.list_indexes()}
        assert list(jobs["due"]["key"].items()) == [("status", 1), ("dueAt", 1)]
    finally:
        client.close()


def test_replicas_starting_together_on_a_new_database_all_start(mongo_uri: str) -> None:
    """A first `kubectl apply` starts every replica at once on an empty database: each
    creates the collections, and the ones that lose the race must start all the same."""
    name = f"race_{uuid.uuid4().hex[:8]}"

    async def start_together() -> set[str]:
        replicas = [Database(mongo_uri, name) for _ in range(4)]
        try:
            await asyncio.gather(*(db.ensure_indexes() for db in replicas))
            return set(await replicas[0].db.list_collection_names())
        finally:
            for db in replicas:
                await db.close()

    assert set(INDEXES) <= asyncio.run(start_together())
