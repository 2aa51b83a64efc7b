"""Subscriber emails are built from a message's public part only, escaped, with RFC 8058
headers; tokens are random and single-purpose; SMTP_URL parses or names the problem."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import cast

import pytest

from incident_service.domain import subscribers as domain
from incident_service.domain.errors import DomainError
from incident_service.domain.notifications import Message

T0 = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
LINKS = domain.Links("https://status.example.com")
HOSTILE = '<script>alert("x")</script> & "quotes"'


def message(public: dict[str, object] | None, service_ids: tuple[str, ...] = ()) -> Message:
    data = {"incident": {"rootCause": "SECRET", "labels": ["SECRET"]}}
    return Message("incident.update_posted", T0, data, service_ids, public)


INCIDENT = {
    "kind": "incident",
    "key": "INC-7",
    "title": HOSTILE,
    "publicStatus": "IDENTIFIED",
    "body": f"line one\n\n{HOSTILE}",
    "at": "2026-01-02T03:04:00Z",
}


def test_an_incident_update_reads_the_public_part_escaped_in_html() -> None:
    email = domain.notification(INCIDENT, "Acme", LINKS)
    assert email is not None
    assert email.subject.startswith("Acme: [Identified] <script>")
    assert HOSTILE in email.text and "https://status.example.com/incidents/INC-7" in email.text
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html


def test_component_and_maintenance_emails_use_the_page_words() -> None:
    component = {
        "kind": "component",
        "name": "API",
        "status": "MAJOR_OUTAGE",
        "previousStatus": "OPERATIONAL",
        "at": "t",
    }
    email = domain.notification(component, "Acme", LINKS)
    assert email is not None and email.subject == "Acme: API: Major outage"
    assert "Before: Operational" in email.text
    window = {
        "kind": "maintenance",
        "title": "DB upgrade",
        "status": "IN_PROGRESS",
        "description": "Short read-only time",
        "startsAt": "s",
        "endsAt": "e",
        "at": "t",
    }
    email = domain.notification(window, "Acme", LINKS)
    assert email is not None and email.subject == "Acme: Maintenance in progress: DB upgrade"
    assert "Short read-only time" in email.text
    assert domain.notification({"kind": "other"}, "Acme", LINKS) is None


def test_a_newline_in_a_title_cannot_add_a_header() -> None:
    email = domain.notification({**INCIDENT, "title": "a\r\nBcc: x@evil.example"}, "S", LINKS)
    assert email is not None and "\n" not in email.subject and "\r" not in email.subject


def test_only_messages_with_a_public_part_reach_subscribers_of_their_components() -> None:
    assert not domain.wants([], message(None))
    assert domain.wants([], message(INCIDENT, ("a",)))
    assert domain.wants(["a"], message(INCIDENT, ("a", "b")))
    assert not domain.wants(["c"], message(INCIDENT, ("a",)))
    # A message about no component concerns everybody.
    assert domain.wants(["c"], message(INCIDENT))


def test_compose_has_text_html_and_one_click_unsubscribe() -> None:
    email = domain.notification(INCIDENT, "Acme", LINKS)
    assert email is not None
    url = LINKS.unsubscribe("su_abc")
    mime = domain.compose(
        email,
        sender="Acme <s@example.com>",
        to="v@example.com",
        message_id="<m1@example.com>",
        now=T0,
        unsubscribe_url=url,
    )
    assert mime["List-Unsubscribe"] == f"<{url}>"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = cast(EmailMessage, mime.get_body(("plain",))).get_content()
    html = cast(EmailMessage, mime.get_body(("html",))).get_content()
    assert url in plain and url in html and "SECRET" not in str(mime)


def test_confirmation_carries_the_link_and_no_unsubscribe_header() -> None:
    email = domain.confirmation("Acme", LINKS, "sc_tok")
    mime = domain.compose(
        email,
        sender="s@example.com",
        to="v@example.com",
        message_id="<m2@example.com>",
        now=T0,
        unsubscribe_url=None,
    )
    assert LINKS.confirm("sc_tok") in email.text and mime["List-Unsubscribe"] is None


def test_tokens_are_random_and_single_purpose() -> None:
    confirm = domain.mint_token(domain.CONFIRM_PREFIX)
    assert confirm != domain.mint_token(domain.CONFIRM_PREFIX)
    assert domain.token_shape(confirm, domain.CONFIRM_PREFIX) == confirm
    assert domain.token_shape(confirm, domain.UNSUBSCRIBE_PREFIX) is None
    assert domain.token_shape("sc_" + "x" * 100, domain.CONFIRM_PREFIX) is None
    assert domain.hash_token(confirm) != confirm and len(domain.hash_token(confirm)) == 64


def test_service_ids_are_checked_and_deduplicated() -> None:
    ids = ["0123456789abcdef01234567", "0123456789ABCDEF01234567"]
    assert domain.check_service_ids(ids) == ("0123456789abcdef01234567",)
    with pytest.raises(DomainError) as raised:
        domain.check_service_ids(["nope"])
    assert raised.value.field == ("input", "serviceIds")


def test_smtp_urls() -> None:
    plain = domain.parse_smtp_url("smtp://us%40er:p%3Ass@mail.example.com")
    assert (plain.host, plain.port, plain.username, plain.password) == (
        "mail.example.com",
        587,
        "us@er",
        "p:ss",
    )
    assert not plain.implicit_tls
    tls = domain.parse_smtp_url("smtps://mail.example.com")
    assert tls.implicit_tls and tls.port == 465 and tls.username is None
    for bad in ("http://mail", "smtp://", "smtp://host:99999"):
        with pytest.raises(ValueError):
            domain.parse_smtp_url(bad)


def test_retries_back_off_then_stop() -> None:
    delays = [domain.retry_delay(n) for n in range(1, len(domain.RETRY_SCHEDULE) + 2)]
    assert delays[-1] is None
    seconds = [d.total_seconds() for d in delays[:-1] if d is not None]
    assert seconds == sorted(seconds)


def test_a_public_postmortem_is_emailed_from_its_public_text() -> None:
    public = {
        "kind": "postmortem", "key": "INC-9", "title": "Checkout <down>",
        "summary": "A bad deploy.", "customerImpact": "Payments failed for 20 min.",
        "resolution": "Rolled back.", "at": "2026-11-29T12:00:00Z",
    }  # fmt: skip
    email = domain.notification(public, "Acme status", LINKS)
    assert email is not None
    assert email.subject == "Acme status: Postmortem: Checkout <down>"
    assert "Payments failed for 20 min." in email.text and "Rolled back." in email.text
    assert (
        "Checkout &lt;down&gt;" in email.html
        and "https://status.example.com/incidents/INC-9" in email.text
    )
