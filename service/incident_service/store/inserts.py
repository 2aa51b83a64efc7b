"""The new documents of one transaction, for several collections, written together.

A declaration writes its incident, its events, its outbox message and its
jobs: four collections. One insert per collection is a round trip each, and on
the embedded database a round trip is most of what a small write costs.
MongoDB 8.0's `bulkWrite` command (PyMongo's `client.bulk_write`) takes
inserts into several collections in one command; older servers (DESIGN.md
allows 6.0) get one `insert_many` per group of documents added, in the same
transaction, so the result is the same documents either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import InsertOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    BulkWriteError,
    ClientBulkWriteException,
    DuplicateKeyError,
    OperationFailure,
)

from incident_service.store.codec import Doc

#: The server error of an insert whose `_id` (or other unique key) is taken.
DUPLICATE_KEY = 11000
#: The first wire version with the `bulkWrite` command (MongoDB 8.0).
CLIENT_BULK_WRITE_WIRE_VERSION = 25


class Inserts:
    """New documents, collection by collection, in the order they were added."""

    def __init__(self) -> None:
        self._parts: list[tuple[AsyncCollection[Doc], list[Doc]]] = []

    def add(self, collection: AsyncCollection[Doc], docs: Iterable[Doc]) -> None:
        docs = list(docs)
        if docs:
            self._parts.append((collection, docs))

    async def write(self, session: AsyncClientSession, *, in_one_command: bool) -> None:
        """Insert everything within `session`'s transaction: in one `bulkWrite` when
        `in_one_command` (the server has it), else one `insert_many` per group added.

        A key already taken is a `DuplicateKeyError` on both paths (as from a single
        insert), so callers and the transaction's retries see one kind of error."""
        try:
            if in_one_command and len(self._parts) > 1:
                await session.client.bulk_write(
                    [
                        InsertOne(doc, namespace=collection.full_name)
                        for collection, docs in self._parts
                        for doc in docs
                    ],
                    session=session,
                )
                return
            for collection, docs in self._parts:
                await collection.insert_many(docs, session=session)
        except ClientBulkWriteException as exc:
            if isinstance(exc.error, Exception):
                # It carries the labels (TransientTransactionError) the transaction
                # is retried on; the wrapper does not.
                raise exc.error from None
            raise _write_error(exc) from None
        except BulkWriteError as exc:
            raise _write_error(exc) from None


def _write_error(exc: OperationFailure) -> OperationFailure:
    """The first write error of either bulk path, as the error a single insert raises;
    the bulk error itself when it has none (a write concern error keeps its labels)."""
    errors = exc.details.get("writeErrors") if exc.details else None
    if not errors:
        return exc
    error: Mapping[str, Any] = errors[0]
    code, message = error.get("code"), error.get("errmsg", "write error")
    if code == DUPLICATE_KEY:
        return DuplicateKeyError(message, code, error)
    return OperationFailure(message, code, error)
