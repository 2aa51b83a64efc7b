"""Which errors make the service stop sending `bulkWrite` (store/database.py)."""

from __future__ import annotations

import pytest
from pymongo.errors import DuplicateKeyError, InvalidOperation, OperationFailure, PyMongoError

from incident_service.store.database import refuses_bulk_write


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (OperationFailure("no such command: 'bulkWrite'", 59), True),
        (OperationFailure("bulkWrite needs feature compatibility 8.0", 115), True),
        # PyMongo's own check of the member it picked (pymongo/asynchronous/client_bulk.py).
        (InvalidOperation("MongoClient.bulk_write requires MongoDB server version 8.0+."), True),
        (InvalidOperation("Cannot use AsyncMongoClient after close"), False),
        (DuplicateKeyError("E11000 duplicate key error", 11000), False),
        (OperationFailure("WriteConflict", 112), False),
    ],
)
def test_only_a_refusal_of_the_command_switches_to_per_collection_inserts(
    error: PyMongoError, refused: bool
) -> None:
    assert refuses_bulk_write(error) is refused
