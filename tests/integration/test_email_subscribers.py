"""Email subscribers of the status page, end to end: a real SMTP server (aiosmtpd) in this
process receives what the service sends, and the tests follow the links in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_service.embedded import free_port
from tests.conftest import service_env
from tests.support.api import (
    SET_ROOT_CAUSE,
    add_note,
    create_service,
    declare,
    ok,
    post_update,
    set_service_status,
)
from tests.support.mailbox import Mail, Mailbox, mailbox
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient, ServiceProcess

SUBSCRIBE = """mutation($input: SubscribeToStatusPageInput!) {
  subscribeToStatusPage(input: $input) { accepted message userErrors { field code message } } }"""
SUBSCRIBERS = """query($first: Int, $after: String) {
  statusPageSubscribers(first: $first, after: $after) {
    totalCount edges { node { id email serviceIds confirmed confirmedAt } }
    pageInfo { hasNextPage endCursor } } }"""
REMOVE = """mutation($id: ID!) {
  removeStatusPageSubscriber(id: $id) { subscriber { email } userErrors { field code } } }"""
CREATE_INTERNAL_SERVICE = """mutation($input: CreateServiceInput!) {
  createService(input: $input) { service { id } userErrors { code } } }"""


@pytest.fixture(scope="module")
def box() -> Iterator[Mailbox]:
    with mailbox() as box:
        yield box


@pytest.fixture(scope="module")
def email_service(
    mongo_uri: str, box: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    port = free_port()
    env = service_env(
        mongo_uri,
        f"test_email_{uuid.uuid4().hex[:8]}",
        SMTP_URL=box.url,
        EMAIL_FROM="Status <status@example.com>",
        STATUS_PAGE_URL=f"http://127.0.0.1:{port}/status",
        STATUS_PAGE_TITLE="Acme status",
        SUBSCRIBE_RATE_LIMIT_PER_IP="",
        JOBS_POLL_INTERVAL="0.2",
    )
    log = Path(tmp_path_factory.mktemp("email")) / "service.log"
    proc = ServiceProcess(env, port=port, log_path=log).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def admin(email_service: ServiceProcess) -> GraphQLClient:
    return GraphQLClient(email_service.url)


@pytest.fixture(scope="module")
def anon(email_service: ServiceProcess) -> GraphQLClient:
    return GraphQLClient(email_service.url, key=None)


def address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def subscribe(anon: GraphQLClient, email: str, service_ids: list[str] | None = None) -> Any:
    data = anon(SUBSCRIBE, {"input": {"email": email, "serviceIds": service_ids}})
    return data["subscribeToStatusPage"]


def mails(box: Mailbox, to: str, count: int = 1) -> list[Mail]:
    """Wait until `to` has at least `count` emails; return them all."""
    return wait_for(
        lambda: box.to(to) if len(box.to(to)) >= count else None,
        message=lambda: f"{to} got {len(box.to(to))} emails, expected {count}",
    )


def confirmed(anon: GraphQLClient, box: Mailbox, email: str, ids: list[str] | None = None) -> None:
    """Subscribe, then follow the link in the confirmation email."""
    assert subscribe(anon, email, ids)["accepted"]
    (confirmation,) = mails(box, email)
    response = httpx.get(confirmation.link("/subscriptions/confirm"))
    assert response.status_code == 200 and "Subscribed" in response.text


def subscribers(admin: GraphQLClient) -> dict[str, Any]:
    found: dict[str, Any] = {}
    after = None
    while True:
        page = admin(SUBSCRIBERS, {"first": 50, "after": after})["statusPageSubscribers"]
        found |= {e["node"]["email"]: e["node"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_subscribe_confirm_notify_unsubscribe(
    anon: GraphQLClient, admin: GraphQLClient, box: Mailbox
) -> None:
    first, second, control = address("first"), address("second"), address("control")
    payload = subscribe(anon, first)
    assert payload == {"accepted": True, "message": payload["message"], "userErrors": []}
    (confirmation,) = mails(box, first)
    assert "confirm" in confirmation.message["Subject"]
    assert confirmation.message["From"] == "Status <status@example.com>"
    assert "Acme status" in confirmation.part("plain") and "Acme status" in confirmation.part(
        "html"
    )
    assert not subscribers(admin)[first]["confirmed"]
    link = confirmation.link("/subscriptions/confirm")
    assert httpx.get(link).status_code == 200
    assert subscribers(admin)[first]["confirmed"]
    # Single use: the same link again is a plain 404 page.
    again = httpx.get(link)
    assert again.status_code == 404 and "not valid" in again.text
    for other in (second, control):
        confirmed(anon, box, other)

    component = create_service(admin, f"Checkout {uuid.uuid4().hex[:6]}")
    incident = declare(admin, "Payments <failing>", visibility="PUBLIC")
    post_update(admin, incident["id"], "We are on it & rolling back <now>", "PUBLIC")
    set_service_status(admin, component, "MAJOR_OUTAGE")

    got = mails(box, first, 3)[1:]
    update = next(m for m in got if "Payments" in m.message["Subject"])
    assert "We are on it & rolling back <now>" in update.part("plain")
    assert "We are on it &amp; rolling back &lt;now&gt;" in update.part("html")
    assert f"/status/incidents/{incident['key']}" in update.part("plain")
    outage = next(m for m in got if "Major outage" in m.message["Subject"])
    assert "Checkout" in outage.message["Subject"] and "Operational" in outage.part("plain")
    for mail in got:
        unsubscribe = mail.link("/subscriptions/unsubscribe")
        assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe in mail.part("html")

    # The link shows a button (a mail scanner opening it unsubscribes nobody) ...
    link = update.link("/subscriptions/unsubscribe")
    page = httpx.get(link)
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert first in subscribers(admin)
    # ... which posts back to the same address.
    assert httpx.post(link).status_code == 200
    assert first not in subscribers(admin)
    assert httpx.post(link).status_code == 404
    # RFC 8058 one-click, as a mail client sends it to the List-Unsubscribe address.
    one_click = mails(box, second, 3)[1].message["List-Unsubscribe"].strip("<>")
    response = httpx.post(
        one_click,
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and second not in subscribers(admin)

    counts = {a: len(box.to(a)) for a in (first, second)}
    post_update(admin, incident["id"], "Fixed, monitoring", "PUBLIC")
    mails(box, control, 4)
    assert {a: len(box.to(a)) for a in (first, second)} == counts


def test_nothing_internal_is_ever_emailed(
    anon: GraphQLClient, admin: GraphQLClient, box: Mailbox
) -> None:
    marker = f"MARKER{uuid.uuid4().hex[:10]}"
    reader = address("reader")
    confirmed(anon, box, reader)
    internal = ok(
        admin, CREATE_INTERNAL_SERVICE, name=f"db-{marker}", description=marker, public=False
    )["id"]
    set_service_status(admin, internal, "MAJOR_OUTAGE")
    hidden = declare(admin, f"Ransomware {marker}", description=marker)
    add_note(admin, hidden["id"], f"note {marker}")
    post_update(admin, hidden["id"], f"internal update {marker}", "INTERNAL")
    shown = declare(
        admin,
        "Slow search",
        description=f"description {marker}",
        labels=[f"label-{marker}"],
        visibility="PUBLIC",
        serviceIds=[internal],
    )
    add_note(admin, shown["id"], f"note {marker}")
    post_update(admin, shown["id"], f"internal update {marker}", "INTERNAL")
    ok(admin, SET_ROOT_CAUSE, id=shown["id"], rootCause=f"root cause {marker}")
    post_update(admin, shown["id"], "Search is slow; we are looking into it", "PUBLIC")

    wait_for(
        lambda: any("looking into it" in m.part("plain") for m in box.to(reader)),
        message=lambda: f"got {[m.message['Subject'] for m in box.to(reader)]}",
    )
    leaked = [m.message["Subject"] for m in box.mails if marker in m.everything]
    assert leaked == []


def test_components_chosen_filter_the_emails(
    anon: GraphQLClient, admin: GraphQLClient, box: Mailbox
) -> None:
    chosen = create_service(admin, f"Chosen {uuid.uuid4().hex[:6]}")
    other = create_service(admin, f"Other {uuid.uuid4().hex[:6]}")
    picky, everything = address("picky"), address("everything")
    confirmed(anon, box, picky, [chosen])
    confirmed(anon, box, everything)
    assert subscribers(admin)[picky]["serviceIds"] == [chosen]
    set_service_status(admin, other, "PARTIAL_OUTAGE")
    set_service_status(admin, chosen, "DEGRADED_PERFORMANCE")
    mails(box, everything, 3)
    got = mails(box, picky, 2)
    assert len(got) == 2 and "Chosen" in got[1].message["Subject"]


def test_one_confirmation_per_address_within_the_interval(
    anon: GraphQLClient, admin: GraphQLClient, box: Mailbox
) -> None:
    twice, later = address("twice"), address("later")
    assert subscribe(anon, twice)["accepted"]
    assert subscribe(anon, twice.upper().replace("@EXAMPLE.COM", "@example.com"))["accepted"]
    mails(box, twice)
    # Emails go out in the order they were asked for: once `later` has its confirmation,
    # a second one to `twice` would have arrived too.
    assert subscribe(anon, later)["accepted"]
    mails(box, later)
    assert len(box.to(twice)) == 1
    assert sum(1 for e in subscribers(admin) if e.casefold() == twice.casefold()) == 1


@pytest.mark.parametrize(
    ("email", "ids", "field"),
    [
        ("not an address", None, "email"),
        ("someone@", None, "email"),
        ("", None, "email"),
        ("ok@example.com", ["0123456789abcdef01234567"], "serviceIds"),
        ("ok@example.com", ["nope"], "serviceIds"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    anon: GraphQLClient, admin: GraphQLClient, email: str, ids: list[str] | None, field: str
) -> None:
    before = subscribers(admin)
    payload = subscribe(anon, email, ids)
    assert not payload["accepted"]
    (error,) = payload["userErrors"]
    assert error["code"] == "VALIDATION" and error["field"] == ["input", field], error
    assert subscribers(admin) == before


def test_internal_components_cannot_be_chosen(anon: GraphQLClient, admin: GraphQLClient) -> None:
    internal = ok(admin, CREATE_INTERNAL_SERVICE, name=f"x-{uuid.uuid4().hex[:6]}", public=False)
    payload = subscribe(anon, address("nosy"), [internal["id"]])
    assert payload["userErrors"][0]["field"] == ["input", "serviceIds"]


def test_admin_lists_and_removes(anon: GraphQLClient, admin: GraphQLClient, box: Mailbox) -> None:
    gone = address("gone")
    confirmed(anon, box, gone)
    entry = subscribers(admin)[gone]
    assert entry["confirmed"] and entry["confirmedAt"]
    removed = admin(REMOVE, {"id": entry["id"]})["removeStatusPageSubscriber"]
    assert removed == {"subscriber": {"email": gone}, "userErrors": []}
    assert gone not in subscribers(admin)
    again = admin(REMOVE, {"id": entry["id"]})["removeStatusPageSubscriber"]
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


def test_the_status_page_form(email_service: ServiceProcess, box: Mailbox) -> None:
    page = httpx.get(f"{email_service.url}/status")
    assert "Subscribe to updates" in page.text and 'action="status/subscriptions"' in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    visitor = address("form")
    answer = httpx.post(f"{email_service.url}/status/subscriptions", data={"email": visitor})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    mails(box, visitor)
    bad = httpx.post(f"{email_service.url}/status/subscriptions", data={"email": "nope"})
    assert bad.status_code == 400 and "not a valid address" in bad.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status/subscriptions/confirm?token=sc_nope"),
        ("GET", "/status/subscriptions/confirm"),
        ("GET", "/status/subscriptions/confirm?token=" + "x" * 5000),
        ("GET", "/status/subscriptions/unsubscribe?token=su_nope"),
        ("GET", "/status/subscriptions/unsubscribe"),
        ("POST", "/status/subscriptions/unsubscribe?token=sc_wrong_kind"),
    ],
)
def test_bad_tokens_get_a_plain_page(email_service: ServiceProcess, method: str, path: str) -> None:
    response = httpx.request(method, f"{email_service.url}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"


def test_subscribing_is_rate_limited_per_ip(
    mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = service_env(
        mongo_uri, f"test_email_limits_{uuid.uuid4().hex[:8]}", SUBSCRIBE_RATE_LIMIT_PER_IP="2/hour"
    )
    log = Path(tmp_path_factory.mktemp("email-limits")) / "service.log"
    proc = ServiceProcess(env, log_path=log).start()
    try:
        anon = GraphQLClient(proc.url, key=None)
        for _ in range(2):
            assert subscribe(anon, address("limited"))["accepted"]
        payload = subscribe(anon, address("limited"))
        assert payload["userErrors"][0]["code"] == "RATE_LIMITED"
        form = httpx.post(f"{proc.url}/status/subscriptions", data={"email": address("limited")})
        assert form.status_code == 429
    finally:
        proc.stop()
