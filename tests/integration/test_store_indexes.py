"""The indexes the store creates at start-up (idempotently: see test_persistence)."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

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
    finally:
        client.close()
