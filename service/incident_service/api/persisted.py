"""The operations this project ships, by SHA-256: the persisted-documents manifest.

`schema/operations/*.graphql` are the operations the docs and the frontends
use. `incident-service operations-manifest schema/operations` writes them in
Apollo's persisted-query manifest format (`operations.json`, beside this
module, checked by a test to match the folder). Their names are the
operation names /metrics labels by; their hashes are the ids a client may
send instead of the text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import OperationDefinitionNode, parse

FORMAT = "apollo-persisted-query-manifest"
MANIFEST_PATH = Path(__file__).with_name("operations.json")


def document_id(text: str) -> str:
    """The id of a document: the SHA-256 of its exact text (as automatic persisted
    queries hash it), in hex."""
    # surrogatepass: a JSON string may hold a lone surrogate; it hashes, it never raises.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def build_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of every `*.graphql` in `folder`, one named operation each."""
    operations = []
    for path in sorted(folder.glob("*.graphql")):
        body = path.read_text(encoding="utf-8")
        definitions = [d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode)]
        if len(definitions) != 1 or definitions[0].name is None:
            raise ValueError(f"{path.name}: one named operation per file")
        (operation,) = definitions
        operations.append(
            {
                "id": document_id(body),
                "name": operation.name.value if operation.name else "",
                "type": operation.operation.value,
                "body": body,
            }
        )
    return {"format": FORMAT, "version": 1, "operations": operations}


def dump_manifest(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Manifest:
    """The shipped operations: their text by id, and their names."""

    bodies: Mapping[str, str]
    names: frozenset[str]

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        operations = data["operations"]
        return cls(
            bodies={op["id"]: op["body"] for op in operations},
            names=frozenset(op["name"] for op in operations),
        )


PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
_HASH = re.compile(r"[0-9a-f]{64}")
#: Bytes a registration costs beyond its text (the hash, the entry, the LRU's links).
ENTRY_OVERHEAD = 400


class PersistedQueryError(Exception):
    """The request's persisted-query extension cannot be served; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PersistedDocuments:
    """The text a request runs, from `extensions.persistedQuery.sha256Hash` when it sent a
    hash instead (Apollo's automatic persisted queries, version 1).

    A hash is found among the shipped operations (the manifest) and, unless only trusted
    documents are accepted, among the documents clients registered by sending text and
    hash together; those are kept per process in a bounded LRU, and a replica that does
    not know a hash answers PERSISTED_QUERY_NOT_FOUND, after which the client sends the
    text once more. With `trusted_only`, nothing but the manifest's documents runs, sent
    by hash or in full.
    """

    def __init__(self, manifest: Manifest, *, trusted_only: bool, max_bytes: int) -> None:
        self.manifest = manifest
        self.trusted_only = trusted_only
        # Each entry also holds its hash and the cache's bookkeeping: counted, so that a
        # flood of one-character documents cannot hold hundreds of times the budget.
        self._registered: LRUCache[str, str] = LRUCache(
            max(max_bytes, 1), getsizeof=lambda text: len(text) + ENTRY_OVERHEAD
        )

    def text(self, query: object, extensions: object) -> object:
        """The document text to run (`query` itself when no hash was sent); raises
        PersistedQueryError. Anything but a persisted-query problem is left to the
        normal checks, which name it."""
        wanted = self._hash(extensions)
        if wanted is None:
            if self.trusted_only and isinstance(query, str) and not self._trusted(query):
                raise _untrusted()
            return query
        if query is None:
            known = self.manifest.bodies.get(wanted)
            if known is None and not self.trusted_only:
                known = self._registered.get(wanted)
            if known is None:
                raise PersistedQueryError(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
            return known
        if not isinstance(query, str):
            return query
        if document_id(query) != wanted:
            raise PersistedQueryError(
                "BAD_REQUEST", "extensions.persistedQuery.sha256Hash is not the SHA-256 of query"
            )
        if wanted not in self.manifest.bodies:
            if self.trusted_only:
                raise _untrusted()
            if len(query) + ENTRY_OVERHEAD <= self._registered.maxsize:
                self._registered[wanted] = query
        return query

    def _trusted(self, query: str) -> bool:
        return document_id(query) in self.manifest.bodies

    @staticmethod
    def _hash(extensions: object) -> str | None:
        if not isinstance(extensions, Mapping) or "persistedQuery" not in extensions:
            return None
        persisted = extensions["persistedQuery"]
        if not isinstance(persisted, Mapping):
            raise PersistedQueryError("BAD_REQUEST", "extensions.persistedQuery must be an object")
        if persisted.get("version") != 1:
            raise PersistedQueryError(
                "BAD_REQUEST", "extensions.persistedQuery.version: only version 1 is supported"
            )
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str) or not _HASH.fullmatch(wanted):
            raise PersistedQueryError(
                "BAD_REQUEST",
                "extensions.persistedQuery.sha256Hash must be 64 lowercase hex characters",
            )
        return wanted


def _untrusted() -> PersistedQueryError:
    return PersistedQueryError(
        TRUSTED_DOCUMENT_REQUIRED,
        "Only the service's own operations are accepted here (TRUSTED_DOCUMENTS_ONLY): send "
        "extensions.persistedQuery.sha256Hash of an operation in the published manifest",
    )
