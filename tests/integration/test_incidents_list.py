"""The `incidents` connection: keyset paging, every filter, every order, totalCount."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from tests.support.api import (
    LIST,
    TRANSITION,
    count,
    create_service,
    declare,
    incident_keys,
    listing,
    ok,
)
from tests.support.processes import GraphQLClient

PRIORITIES = [("HIGH", "HIGH"), ("LOW", "LOW"), ("MEDIUM", "MEDIUM"), ("HIGH", "MEDIUM")]


def _page_all(gql: GraphQLClient, tag: str, order_by: str, first: int, between: Any = None) -> Any:
    """Walk every page; `between(n)` runs after page n (to write while paging)."""
    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        variables = {"filter": {"label": tag}, "first": first, "after": after, "orderBy": order_by}
        conn = gql(LIST, variables)["incidents"]
        pages += 1
        assert conn["pageInfo"]["hasPreviousPage"] is False
        if conn["edges"]:
            assert conn["pageInfo"]["startCursor"] == conn["edges"][0]["cursor"]
            assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        seen += [e["node"] for e in conn["edges"]]
        if between:
            between(pages)
        if not conn["pageInfo"]["hasNextPage"]:
            return seen, pages
        assert len(conn["edges"]) == first
        after = conn["pageInfo"]["endCursor"]


@pytest.fixture
def many(gql: GraphQLClient, tag: str) -> list[dict[str, Any]]:
    made = []
    for n in range(27):
        impact, urgency = PRIORITIES[n % len(PRIORITIES)]
        made.append(declare(gql, f"paging {n:02d}", tag=tag, impact=impact, urgency=urgency))
    return made


def _sort_key_newest(i: dict[str, Any]) -> tuple[datetime, str]:
    return (datetime.fromisoformat(i["declaredAt"]), i["id"])


@pytest.mark.parametrize("first", [1, 4, 10, 27, 100])
def test_paging_newest_first_no_duplicate_no_gap(
    gql: GraphQLClient, tag: str, many: list[dict[str, Any]], first: int
) -> None:
    seen, pages = _page_all(gql, tag, "NEWEST_FIRST", first)
    ids = [i["id"] for i in seen]
    assert len(ids) == len(set(ids)) == 27
    expected = sorted(many, key=_sort_key_newest, reverse=True)
    assert ids == [i["id"] for i in expected]
    assert pages == -(-27 // first)  # hasNextPage is exact: no empty last page


def test_default_order_is_newest_first(
    gql: GraphQLClient, tag: str, many: list[dict[str, Any]]
) -> None:
    conn = gql(
        "query($f: IncidentFilter){ incidents(filter: $f) { totalCount edges { node { id } } "
        "pageInfo { hasNextPage } } }",
        {"f": {"label": tag}},
    )["incidents"]
    assert conn["totalCount"] == 27
    assert len(conn["edges"]) == 20 and conn["pageInfo"]["hasNextPage"] is True
    newest = sorted(many, key=_sort_key_newest, reverse=True)
    assert [e["node"]["id"] for e in conn["edges"]] == [i["id"] for i in newest[:20]]


def test_paging_oldest_first_and_by_priority(
    gql: GraphQLClient, tag: str, many: list[dict[str, Any]]
) -> None:
    oldest, _ = _page_all(gql, tag, "OLDEST_FIRST", 6)
    assert [i["id"] for i in oldest] == [i["id"] for i in sorted(many, key=_sort_key_newest)]
    by_priority, _ = _page_all(gql, tag, "PRIORITY", 5)
    assert len({i["id"] for i in by_priority}) == 27
    expected = sorted(sorted(many, key=_sort_key_newest, reverse=True), key=lambda i: i["priority"])
    assert [i["id"] for i in by_priority] == [i["id"] for i in expected]
    assert by_priority[0]["priority"] == "P1" and by_priority[-1]["priority"] == "P5"


def test_writes_while_paging_shift_nothing(
    gql: GraphQLClient, tag: str, many: list[dict[str, Any]]
) -> None:
    """Keyset, not offset: incidents declared between pages never duplicate a row."""
    newcomers: list[str] = []

    def declare_more(page: int) -> None:
        if page <= 3:
            newcomers.append(declare(gql, f"newcomer {page}", tag=tag)["id"])

    seen, _ = _page_all(gql, tag, "NEWEST_FIRST", 5, between=declare_more)
    ids = [i["id"] for i in seen]
    assert len(ids) == len(set(ids))
    # Every original row appears exactly once; newer rows sort before the cursor.
    assert [i for i in ids if i not in newcomers] == [
        i["id"] for i in sorted(many, key=_sort_key_newest, reverse=True)
    ]
    assert count(gql, label=tag) == 30


def test_filter_by_status_list_and_open_only(gql: GraphQLClient, tag: str) -> None:
    a, b, c, d = (declare(gql, f"status {n}", tag=tag) for n in range(4))
    ok(gql, TRANSITION, id=b["id"], to="ACKNOWLEDGED")
    ok(gql, TRANSITION, id=c["id"], to="RESOLVED")
    ok(gql, TRANSITION, id=d["id"], to="RESOLVED")
    ok(gql, TRANSITION, id=d["id"], to="CLOSED")
    assert set(incident_keys(gql, label=tag, status=["TRIGGERED"])) == {a["key"]}
    assert set(incident_keys(gql, label=tag, status=["TRIGGERED", "RESOLVED"])) == {
        a["key"],
        c["key"],
    }
    assert set(incident_keys(gql, label=tag, status=["CLOSED"])) == {d["key"]}
    assert incident_keys(gql, label=tag, status=["MONITORING"]) == []
    assert set(incident_keys(gql, label=tag, openOnly=True)) == {a["key"], b["key"]}
    assert set(incident_keys(gql, label=tag, openOnly=False)) == {x["key"] for x in (a, b, c, d)}
    assert count(gql, label=tag, openOnly=True, status=["ACKNOWLEDGED", "CLOSED"]) == 1


def test_filter_by_priority_list_and_category(gql: GraphQLClient, tag: str) -> None:
    p1 = declare(gql, "p1", tag=tag, impact="HIGH", urgency="HIGH", category="SECURITY")
    p3 = declare(gql, "p3", tag=tag, impact="LOW", urgency="HIGH", category="NETWORK")
    p5 = declare(gql, "p5", tag=tag, impact="LOW", urgency="LOW", category="SECURITY")
    assert set(incident_keys(gql, label=tag, priority=["P1"])) == {p1["key"]}
    assert set(incident_keys(gql, label=tag, priority=["P1", "P5"])) == {p1["key"], p5["key"]}
    assert incident_keys(gql, label=tag, priority=["P2", "P4"]) == []
    assert set(incident_keys(gql, label=tag, category="SECURITY")) == {p1["key"], p5["key"]}
    assert incident_keys(gql, label=tag, category="NETWORK") == [p3["key"]]
    assert incident_keys(gql, label=tag, category="SECURITY", priority=["P5"]) == [p5["key"]]


def test_filter_by_service(gql: GraphQLClient, tag: str) -> None:
    sid = create_service(gql, f"{tag}-api")
    hit = declare(gql, "api broken", tag=tag, serviceIds=[sid])
    declare(gql, "other", tag=tag)
    assert incident_keys(gql, serviceId=sid) == [hit["key"]]
    assert incident_keys(gql, serviceId="0123456789abcdef01234567") == []


def test_filter_by_label(gql: GraphQLClient, tag: str) -> None:
    a = declare(gql, "a", tag=tag, labels=[f"{tag}-db"])
    b = declare(gql, "b", tag=tag)
    assert set(incident_keys(gql, label=tag)) == {a["key"], b["key"]}
    assert incident_keys(gql, label=f"{tag}-db") == [a["key"]]
    assert incident_keys(gql, label=f"{tag}-DB") == []  # labels match exactly


def test_search_is_case_insensitive_and_literal(gql: GraphQLClient, tag: str) -> None:
    regexy = declare(gql, "Latency on api.example.com (EU) [p95]+ *again*", tag=tag)
    plain = declare(gql, "Latency on apiXexample.com", tag=tag)
    assert incident_keys(gql, label=tag, search="API.EXAMPLE.COM") == [regexy["key"]]
    assert incident_keys(gql, label=tag, search="(eu) [P95]+") == [regexy["key"]]
    assert incident_keys(gql, label=tag, search="*AGAIN*") == [regexy["key"]]
    assert incident_keys(gql, label=tag, search="apixexample") == [plain["key"]]
    assert set(incident_keys(gql, label=tag, search="latency")) == {regexy["key"], plain["key"]}
    for pattern in (".*", "^Latency", "a|b", "\\", "[a-z]", "(?i)x", "$where"):
        assert incident_keys(gql, label=tag, search=pattern) == [], pattern


def test_filter_by_declared_time(gql: GraphQLClient, tag: str) -> None:
    made = []
    for n in range(3):
        made.append(declare(gql, f"time {n}", tag=tag))
        time.sleep(0.02)  # distinct millisecond timestamps, not a timing assertion
    times = [m["declaredAt"] for m in made]
    assert times == sorted(set(times)), "precondition: distinct declaredAt"
    first, second, third = (m["key"] for m in made)
    assert set(incident_keys(gql, label=tag, declaredAfter=times[1])) == {second, third}
    assert incident_keys(gql, label=tag, declaredBefore=times[1]) == [first]
    assert incident_keys(gql, label=tag, declaredAfter=times[1], declaredBefore=times[2]) == [
        second
    ]
    assert incident_keys(gql, label=tag, declaredAfter=times[2], declaredBefore=times[0]) == []


def test_total_count_is_over_all_pages(gql: GraphQLClient, tag: str) -> None:
    for n in range(3):
        declare(gql, f"count {n}", tag=tag, impact="HIGH" if n else "LOW")
    conn = listing(gql, first=1, label=tag)
    assert conn["totalCount"] == 3 and len(conn["edges"]) == 1
    assert listing(gql, first=0, label=tag)["edges"] == []
    assert count(gql, label=tag, priority=["P2"]) == 2
