"""Helpers for the access-control, limits and hostile-input tests: API keys, error codes."""

from __future__ import annotations

from typing import Any

from tests.support.processes import ADMIN_KEY, GraphQLClient

CREATE_KEY = """mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    secret
    apiKey { id name role prefix createdAt createdBy lastUsedAt revokedAt revokedBy }
    userErrors { field code message }
  }
}"""
REVOKE_KEY = """mutation($id: ID!) {
  revokeApiKey(input: {id: $id}) { apiKey { id revokedAt revokedBy } userErrors { code } }
}"""
LIST_KEYS = """query($all: Boolean!) {
  apiKeys(includeRevoked: $all) { id name role prefix lastUsedAt revokedAt }
}"""


def create_key(gql: GraphQLClient, name: str, role: str) -> tuple[str, dict[str, Any]]:
    data = gql(CREATE_KEY, {"input": {"name": name, "role": role}}, key=ADMIN_KEY)
    payload = data["createApiKey"]
    assert payload["userErrors"] == [], payload
    return payload["secret"], payload["apiKey"]


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
