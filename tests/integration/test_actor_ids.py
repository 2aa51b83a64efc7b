"""Actions recorded before actor ids (`key:<name>`) are rewritten to `key:<id>` at start-up.

The data is made the way an older version wrote it: through the API, then
with every `key:<id>` turned back into `key:<name>` and the migration's mark
removed. After a restart the key's restricted incident, its role and its
timeline are its own again, under its id.
"""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

from tests.support.api import ASSIGN_ROLE, REVOKE_KEY, create_key, mutate
from tests.support.processes import GraphQLClient, ServiceProcess

SEEN = """query($id: ID!) { incident(id: $id) {
  declaredBy participants roles { user }
  timeline { edges { node { type actor actorName } } } } }"""
DECLARE = """mutation($t: String!) { declareIncident(input: {title: $t, restricted: true}) {
  incident { id } } }"""


def _as_before_actor_ids(db: Any, key_id: str, name: str) -> None:
    """Write the key's actions the way they were recorded before actor ids."""
    new, old = f"key:{key_id}", f"key:{name}"
    db.incident_events.update_many({"actor": new}, {"$set": {"actor": old}})
    for incident in db.incidents.find({"viewers": new}):
        swap = [old if v == new else v for v in incident["viewers"]]
        roles = [{**r, "user": old if r["user"] == new else r["user"]} for r in incident["roles"]]
        declared_by = old if incident["declaredBy"] == new else incident["declaredBy"]
        db.incidents.update_one(
            {"_id": incident["_id"]},
            {"$set": {"viewers": swap, "roles": roles, "declaredBy": declared_by}},
        )
    db.migrations.delete_many({})


def test_actions_recorded_by_key_name_become_the_keys_own(
    own_service: ServiceProcess, mongo_uri: str
) -> None:
    admin = GraphQLClient(own_service.url)
    # An older key of the same name, revoked: the active key wins the name.
    _, retired = create_key(admin, "ops", "RESPONDER")
    admin(REVOKE_KEY, {"id": retired["id"]})
    secret, key = create_key(admin, "ops", "RESPONDER")
    ops = GraphQLClient(own_service.url, key=secret)
    incident_id = ops(DECLARE, {"t": "restricted by ops"})["declareIncident"]["incident"]["id"]
    mutate(admin, ASSIGN_ROLE, id=incident_id, role="COMMANDER", user=f"key:{key['id']}")
    own_service.stop()
    with MongoClient(mongo_uri) as client:
        db = client[own_service.env["MONGODB_DATABASE"]]
        _as_before_actor_ids(db, key["id"], "ops")
        assert db.incidents.find_one({"_id": incident_id})["declaredBy"] == "key:ops"
    own_service.start()

    seen = ops(SEEN, {"id": incident_id})["incident"]
    assert seen is not None, "the key lost its own restricted incident"
    actor = f"key:{key['id']}"
    assert seen["declaredBy"] == actor and seen["roles"] == [{"user": actor}]
    nodes = [tuple(e["node"].values()) for e in seen["timeline"]["edges"]]
    assert nodes[0] == ("DECLARED", actor, "ops")
    assert nodes[-1] == ("ROLE_ASSIGNED", "key:admin", "admin")
    with MongoClient(mongo_uri) as client:
        marks = list(client[own_service.env["MONGODB_DATABASE"]].migrations.find())
    assert [m["_id"] for m in marks] == ["actor-ids-by-key-id"] and marks[0]["documents"] == 2
    # It runs at each start until one finds nothing (pods of the previous version may
    # still have written names during the rolling update).
    own_service.stop()
    own_service.start()
    with MongoClient(mongo_uri) as client:
        mark = client[own_service.env["MONGODB_DATABASE"]].migrations.find_one()
    assert mark is not None and mark["documents"] == 0
