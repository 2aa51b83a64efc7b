"""Bad input gets a clear userError or a 4xx, never a 500 or a trace, and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.support.api import (
    ADD_NOTE,
    ASSIGN_ROLE,
    DECLARE,
    LINK,
    LIST,
    POST_UPDATE,
    SET_ROOT_CAUSE,
    TRANSITION,
    UNASSIGN_ROLE,
    UPDATE,
    count,
    declare,
    get,
    mutate,
    ok,
    timeline,
)
from tests.support.processes import GraphQLClient

MISSING_ID = "0123456789abcdef01234567"
STATUSES = [
    "TRIGGERED",
    "ACKNOWLEDGED",
    "INVESTIGATING",
    "IDENTIFIED",
    "MONITORING",
    "RESOLVED",
    "CLOSED",
]


def _state(gql: GraphQLClient, incident_id: str | None) -> Any:
    """Everything a failed request must leave untouched."""
    total = count(gql)
    if incident_id is None:
        return total
    return total, get(gql, incident_id), timeline(gql, incident_id)


@contextmanager
def nothing_written(gql: GraphQLClient, incident_id: str | None = None) -> Iterator[None]:
    before = _state(gql, incident_id)
    yield
    assert _state(gql, incident_id) == before


def _next_number(gql: GraphQLClient, tag: str) -> int:
    return int(declare(gql, "probe", tag=tag)["key"].removeprefix("INC-"))


def _assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


def _user_error(payload: Any, code: str, field: list[str] | None = None) -> str:
    assert payload["incident"] is None, payload
    (error,) = payload["userErrors"]
    assert error["code"] == code, error
    if field is not None:
        assert error["field"] == field, error
    assert error["message"]
    return str(error["message"])


@pytest.fixture
def incident(gql: GraphQLClient, tag: str) -> Any:
    return declare(gql, "target", tag=tag)


# Declaration


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": ""}, "title", "must not be empty"),
        ({"title": "   "}, "title", "must not be empty"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": "x" * 100 * 1024}, "title", "at most 200"),
        ({"description": "d" * 20_001}, "description", "at most 20000"),
        ({"labels": [""]}, "labels", "1..64"),
        ({"labels": [str(n) for n in range(51)]}, "labels", "at most 50"),
        ({"serviceIds": ["nope"]}, "serviceIds", "not a valid id"),
        ({"impactStartedAt": "2999-01-01T00:00:00Z"}, "impactStartedAt", "future"),
        ({"idempotencyKey": "k" * 201}, "idempotencyKey", "1..200"),
    ],
    ids=[
        "empty-title",
        "blank-title",
        "201-title",
        "100KB-title",
        "long-description",
        "empty-label",
        "too-many-labels",
        "malformed-service-id",
        "future-impact",
        "long-idempotency-key",
    ],
)
def test_declare_validation(
    gql: GraphQLClient, tag: str, fields: dict[str, Any], field: str, words: str
) -> None:
    before = _next_number(gql, tag)
    with nothing_written(gql):
        payload = mutate(gql, DECLARE, **{"title": "ok", "labels": [tag], **fields})
        message = _user_error(payload, "VALIDATION", ["input", field])
        assert words in message.replace(",", "")
    # The failed declaration did not consume an INC number either.
    assert _next_number(gql, tag) == before + 1


def test_declare_with_unknown_service(gql: GraphQLClient, tag: str) -> None:
    with nothing_written(gql):
        payload = mutate(gql, DECLARE, title="t", labels=[tag], serviceIds=[MISSING_ID])
        assert MISSING_ID in _user_error(payload, "NOT_FOUND", ["input", "serviceIds"])


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (DECLARE, {"input": {"title": "t", "impact": "HUGE"}}),
        (DECLARE, {"input": {"title": "t", "category": "outage"}}),
        (DECLARE, {"input": {"title": None}}),
        (DECLARE, {"input": {"title": 42}}),
        (DECLARE, {"input": {"title": "t", "impactStartedAt": "yesterday"}}),
        (DECLARE, {"input": {"title": "t", "unknownField": 1}}),
        (DECLARE, {}),
        (
            'mutation { declareIncident(input: {title: "t", urgency: SOON}) '
            "{ userErrors { code } } }",
            {},
        ),
        ("mutation { declareIncident(input: {title: ", {}),
        ("query { incidents { edges { node { nope } } } }", {}),
        (LIST, {"orderBy": "RANDOM"}),
        (LIST, {"filter": {"status": ["OPEN"]}}),
        (LIST, {"filter": {"declaredAfter": "not a date"}}),
        (LIST, {"first": "ten"}),
    ],
    ids=[
        "enum-impact",
        "enum-lowercase",
        "null-title",
        "int-title",
        "bad-datetime",
        "unknown-input-field",
        "missing-variable",
        "inline-enum",
        "syntax",
        "unknown-field",
        "enum-order",
        "enum-status-filter",
        "datetime-filter",
        "int-first",
    ],
)
def test_documents_that_do_not_parse_validate_or_coerce_are_400(
    gql: GraphQLClient, document: str, variables: dict[str, Any]
) -> None:
    with nothing_written(gql):
        response = gql.post(document, variables)
        _assert_clean(response)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        body = response.json()
        assert "data" not in body and body["errors"][0]["message"]


# Changes to an existing incident


@pytest.mark.parametrize(
    ("document", "input"),
    [
        (UPDATE, {"title": "t"}),
        (TRANSITION, {"to": "ACKNOWLEDGED"}),
        (ADD_NOTE, {"body": "b"}),
        (POST_UPDATE, {"body": "b"}),
        (ASSIGN_ROLE, {"role": "SCRIBE", "user": "u"}),
        (UNASSIGN_ROLE, {"role": "SCRIBE", "user": "u"}),
        (SET_ROOT_CAUSE, {"rootCause": "r"}),
        (LINK, {"relatedId": "EXISTING"}),
    ],
    ids=["update", "transition", "note", "post", "assign", "unassign", "root-cause", "link"],
)
@pytest.mark.parametrize("bad_id", ["abc", "", "0123456789abcdef0123456z", "INC-1", MISSING_ID])
def test_malformed_and_unknown_ids(
    gql: GraphQLClient, incident: Any, document: str, input: dict[str, Any], bad_id: str
) -> None:
    if input.get("relatedId") == "EXISTING":
        input = {**input, "relatedId": incident["id"]}
    with nothing_written(gql, incident["id"]):
        payload = mutate(gql, document, id=bad_id, **input)
        if bad_id == MISSING_ID:
            _user_error(payload, "NOT_FOUND", ["input", "id"])
        else:
            assert "not a valid id" in _user_error(payload, "VALIDATION", ["input", "id"])


@pytest.mark.parametrize("bad_id", ["abc", '{"$ne": null}', "x" * 5000])
def test_malformed_id_in_queries(gql: GraphQLClient, bad_id: str) -> None:
    response = gql.post("query($id: ID){ incident(id: $id) { id } }", {"id": bad_id})
    _assert_clean(response)
    body = response.json()
    assert body["data"] == {"incident": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and "not a valid id" in error["message"]


def test_incident_query_needs_exactly_one_of_id_and_key(gql: GraphQLClient, incident: Any) -> None:
    for variables in ({}, {"id": incident["id"], "key": incident["key"]}):
        response = gql.post(
            "query($id: ID, $key: String){ incident(id: $id, key: $key) { id } }", variables
        )
        _assert_clean(response)
        assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_bad_key_is_not_found(gql: GraphQLClient) -> None:
    for key in ("INC-abc", "42", "INC-" + "9" * 40, ".*"):
        assert gql("query($k: String){ incident(key: $k) { id } }", {"k": key}) == {
            "incident": None
        }


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"after": "garbage"}, "after"),
        ({"after": "eyJhIjoxfQ"}, "after"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"filter": {"serviceId": "nope"}}, "serviceId"),
        ({"filter": {"search": "s" * 201}}, "search"),
    ],
)
def test_bad_list_arguments(gql: GraphQLClient, variables: dict[str, Any], field: str) -> None:
    response = gql.post(LIST, variables)
    _assert_clean(response)
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and field in error["message"]


def test_cursor_of_one_order_refused_by_another(gql: GraphQLClient, tag: str) -> None:
    for n in range(2):
        declare(gql, f"c{n}", tag=tag)
    conn = gql(LIST, {"filter": {"label": tag}, "first": 1})["incidents"]
    response = gql.post(
        LIST, {"first": 1, "after": conn["pageInfo"]["endCursor"], "orderBy": "PRIORITY"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_bad_timeline_cursor(gql: GraphQLClient, incident: Any) -> None:
    for after in ("x", "-1", "1" * 20, "²", "١٢"):
        response = gql.post(
            "query($id: ID!, $a: String){ incident(id: $id){ timeline(after: $a){ totalCount } } }",
            {"id": incident["id"], "a": after},
        )
        _assert_clean(response)
        assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_a_forged_list_cursor_with_a_huge_number_is_refused(gql: GraphQLClient) -> None:
    forged = base64.urlsafe_b64encode(
        json.dumps(["NEWEST_FIRST", [{"$d": "2026-01-01T00:00:00+00:00"}, 10**30]]).encode()
    ).decode()
    response = gql.post(LIST, {"first": 1, "after": forged})
    _assert_clean(response)
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_times_out_of_range_are_refused_clearly(gql: GraphQLClient, incident: Any) -> None:
    for when in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"):
        response = gql.post(UPDATE, {"input": {"id": incident["id"], "impactStartedAt": when}})
        _assert_clean(response)
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "out of the representable range" in error["message"]
    naive = gql.post(
        UPDATE, {"input": {"id": incident["id"], "impactStartedAt": "2020-01-01T00:00:00"}}
    )
    assert naive.status_code == 200 and "errors" not in naive.json(), naive.text


@pytest.mark.parametrize(
    ("document", "input", "field"),
    [
        (UPDATE, {"title": ""}, "title"),
        (UPDATE, {"title": "x" * 100 * 1024}, "title"),
        (UPDATE, {"description": "d" * 20_001}, "description"),
        (UPDATE, {"serviceIds": ["zz"]}, "serviceIds"),
        (ADD_NOTE, {"body": ""}, "body"),
        (ADD_NOTE, {"body": "n" * 20_001}, "body"),
        (POST_UPDATE, {"body": "  "}, "body"),
        (ASSIGN_ROLE, {"role": "SCRIBE", "user": " "}, "user"),
        (SET_ROOT_CAUSE, {"rootCause": ""}, "rootCause"),
        (TRANSITION, {"to": "ACKNOWLEDGED", "resolution": "early"}, "resolution"),
        (TRANSITION, {"to": "RESOLVED", "note": "n" * 20_001}, "note"),
        (LINK, {"relatedId": "bad"}, "relatedId"),
    ],
)
def test_change_validation(
    gql: GraphQLClient, incident: Any, document: str, input: dict[str, Any], field: str
) -> None:
    with nothing_written(gql, incident["id"]):
        _user_error(
            mutate(gql, document, id=incident["id"], **input), "VALIDATION", ["input", field]
        )


def test_update_with_unknown_service(gql: GraphQLClient, incident: Any) -> None:
    with nothing_written(gql, incident["id"]):
        payload = mutate(gql, UPDATE, id=incident["id"], serviceIds=[MISSING_ID])
        _user_error(payload, "NOT_FOUND", ["input", "serviceIds"])


def test_triggered_cannot_close(gql: GraphQLClient, incident: Any) -> None:
    with nothing_written(gql, incident["id"]):
        payload = mutate(gql, TRANSITION, id=incident["id"], to="CLOSED")
        message = _user_error(payload, "INVALID_TRANSITION", ["input", "to"])
        assert "TRIGGERED" in message and "CLOSED" in message


def test_same_status_is_not_a_transition(gql: GraphQLClient, incident: Any) -> None:
    with nothing_written(gql, incident["id"]):
        _user_error(
            mutate(gql, TRANSITION, id=incident["id"], to="TRIGGERED"), "INVALID_TRANSITION"
        )


def test_closed_is_final(gql: GraphQLClient, incident: Any) -> None:
    ok(gql, TRANSITION, id=incident["id"], to="RESOLVED")
    ok(gql, TRANSITION, id=incident["id"], to="CLOSED")
    with nothing_written(gql, incident["id"]):
        for to in STATUSES:
            _user_error(
                mutate(gql, TRANSITION, id=incident["id"], to=to),
                "INVALID_TRANSITION",
                ["input", "to"],
            )
        for document, input in (
            (UPDATE, {"title": "reopen by the back door"}),
            (ADD_NOTE, {"body": "late note"}),
            (POST_UPDATE, {"body": "late update", "visibility": "PUBLIC"}),
            (ASSIGN_ROLE, {"role": "SCRIBE", "user": "u"}),
            (SET_ROOT_CAUSE, {"rootCause": "r"}),
        ):
            _user_error(mutate(gql, document, id=incident["id"], **input), "INVALID_TRANSITION")


@pytest.mark.parametrize(
    ("document", "input"),
    [
        (UPDATE, {"title": "stale"}),
        (TRANSITION, {"to": "ACKNOWLEDGED"}),
    ],
)
@pytest.mark.parametrize("expected", [0, 1, 3, -5])
def test_stale_expected_version(
    gql: GraphQLClient, incident: Any, document: str, input: dict[str, Any], expected: int
) -> None:
    ok(gql, ADD_NOTE, id=incident["id"], body="moves it to version 2")
    with nothing_written(gql, incident["id"]):
        payload = mutate(gql, document, id=incident["id"], expectedVersion=expected, **input)
        message = _user_error(payload, "CONFLICT", ["input", "expectedVersion"])
        assert "version 2" in message


# Transport


def test_malformed_json(gql: GraphQLClient, tag: str) -> None:
    with nothing_written(gql):
        for body in (b'{"query": "mutation {', b"\xff\xfe", b"", b"[]", b'"query"', b"null"):
            response = gql.http.post(
                gql.url,
                content=body,
                headers={**gql.headers(gql.key), "content-type": "application/json"},
            )
            _assert_clean(response)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_non_json_content_type(gql: GraphQLClient, tag: str, content_type: str | None) -> None:
    document = (
        f'mutation {{ declareIncident(input: {{title: "x", labels: ["{tag}"]}}) '
        "{ userErrors { code } } }"
    )
    headers = {**gql.headers(gql.key)}
    if content_type:
        headers["content-type"] = content_type
    with nothing_written(gql):
        response = gql.http.post(gql.url, content=json.dumps({"query": document}), headers=headers)
        _assert_clean(response)
        assert response.status_code == 415, response.text
        assert "application/json" in response.json()["errors"][0]["message"]
    assert count(gql, label=tag) == 0
