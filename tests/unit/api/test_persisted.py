"""Persisted queries: which text a request runs, and what is kept of registrations."""

from __future__ import annotations

import hashlib

import pytest

from incident_service.api.persisted import (
    Manifest,
    PersistedDocuments,
    PersistedQueryError,
    document_id,
)

SHIPPED = "query Shipped { me { name } }\n"
MANIFEST = Manifest(bodies={document_id(SHIPPED): SHIPPED}, names=frozenset({"Shipped"}))


def by_hash(text: str) -> dict[str, object]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def code(documents: PersistedDocuments, query: object, extensions: object) -> str:
    with pytest.raises(PersistedQueryError) as refused:
        documents.text(query, extensions)
    return refused.value.code


def test_text_without_a_hash_passes_through() -> None:
    documents = PersistedDocuments(MANIFEST, trusted_only=False, max_bytes=1000)
    assert documents.text("{ x }", None) == "{ x }"
    assert documents.text(None, {"other": 1}) is None  # left to the "no query" error


def test_a_registration_floods_out_oldest_first_within_its_bytes() -> None:
    documents = PersistedDocuments(MANIFEST, trusted_only=False, max_bytes=5000)
    texts = [f"{{ me {{ name }} }} # {i:04}" for i in range(50)]
    for text in texts:
        assert documents.text(text, by_hash(text)) == text
    assert documents.text(None, by_hash(texts[-1])) == texts[-1]
    assert code(documents, None, by_hash(texts[0])) == "PERSISTED_QUERY_NOT_FOUND"
    assert documents.text(None, by_hash(SHIPPED)) == SHIPPED  # the manifest is never evicted


def test_trusted_mode_registers_nothing_and_runs_only_the_manifest() -> None:
    documents = PersistedDocuments(MANIFEST, trusted_only=True, max_bytes=1000)
    assert documents.text(SHIPPED, None) == SHIPPED
    assert documents.text(None, by_hash(SHIPPED)) == SHIPPED
    other = "{ me { role } }"
    assert code(documents, other, None) == "TRUSTED_DOCUMENT_REQUIRED"
    assert code(documents, other, by_hash(other)) == "TRUSTED_DOCUMENT_REQUIRED"
    assert code(documents, None, by_hash(other)) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_lone_surrogate_in_a_document_is_refused_not_an_error() -> None:
    documents = PersistedDocuments(MANIFEST, trusted_only=True, max_bytes=1000)
    assert code(documents, "{ me }\ud800", None) == "TRUSTED_DOCUMENT_REQUIRED"
    open_mode = PersistedDocuments(MANIFEST, trusted_only=False, max_bytes=1000)
    text = "{ me }\ud800"
    assert (
        open_mode.text(text, {"persistedQuery": {"version": 1, "sha256Hash": document_id(text)}})
        == text
    )
