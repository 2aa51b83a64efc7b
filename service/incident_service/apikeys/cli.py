"""`incident-service create-api-key`: mint a key straight into the configured database.

With MONGODB_URI it writes there. With the embedded default it starts the
embedded database on DATA_DIR itself; the embedded database allows one
process per data folder, so while `make run` holds it this fails with a
clear message: then use the `createApiKey` mutation with the admin key.
"""

from __future__ import annotations

import asyncio
import sys

from incident_service import clock
from incident_service.apikeys import domain
from incident_service.apikeys.store import ApiKeyStore, new_id
from incident_service.auth import Role
from incident_service.config import Settings
from incident_service.domain.errors import DomainError
from incident_service.store.database import Database


def _err(message: str) -> None:
    print(f"incident-service: {message}", file=sys.stderr)


async def _create(uri: str, settings: Settings, name: str, role: Role) -> str:
    database = Database(uri, settings.mongodb_database)
    try:
        store = ApiKeyStore(database)
        await store.ensure_indexes()
        key, secret = domain.new_key(name, role, key_id=new_id(), now=clock.now(), actor="cli")
        await store.insert(key, secret)
        return secret
    finally:
        await database.close()


def create_api_key(settings: Settings, name: str, role_name: str) -> int:
    from pymongo.errors import PyMongoError

    from incident_service.embedded import EmbeddedError, EmbeddedMongo

    role = Role[role_name]
    embedded: EmbeddedMongo | None = None
    uri = settings.mongodb_uri
    try:
        if not uri:
            embedded = EmbeddedMongo(settings.data_dir)
            try:
                embedded.start(settings.embedded_start_timeout)
            except EmbeddedError:
                _err(
                    f"cannot open the embedded database in {settings.data_dir}: is the server "
                    "running? Stop it, or create the key with the createApiKey mutation "
                    "(see README, Access control)"
                )
                return 1
            uri = embedded.uri
        secret = asyncio.run(_create(uri, settings, name, role))
    except DomainError as exc:
        _err(f"--{exc.field[-1] if exc.field else 'input'}: {exc.message}")
        return 2
    except PyMongoError as exc:
        _err(f"database error: {exc}")
        return 1
    finally:
        if embedded is not None:
            embedded.stop()
    print(
        f"incident-service: created API key {name!r} with role {role.name}; "
        "it is shown only now. Use it as: Authorization: Bearer <key>",
        file=sys.stderr,
    )
    print(secret)
    return 0
