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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse

FORMAT = "apollo-persisted-query-manifest"
MANIFEST_PATH = Path(__file__).with_name("operations.json")


def document_id(text: str) -> str:
    """The id of a document: the SHA-256 of its exact text (as automatic persisted
    queries hash it), in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


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
