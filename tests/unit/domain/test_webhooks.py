"""Webhook values: signing (the specification's own example), URL and address checks,
outcomes, retry waits, bodies."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from incident_service.domain import webhooks as w
from incident_service.domain.errors import DomainError
from incident_service.domain.notifications import Message

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_signature_matches_the_standard_webhooks_example() -> None:
    # From the Standard Webhooks specification's reference test.
    assert (
        w.signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_two_secrets_sign_twice_space_separated() -> None:
    a, b = w.mint_secret(), w.mint_secret()
    headers = w.headers([a, b], "msg_1", 1, b"{}")
    assert headers["webhook-signature"].split(" ") == [
        w.signature(a, "msg_1", 1, b"{}"),
        w.signature(b, "msg_1", 1, b"{}"),
    ]
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1"


def test_minted_secrets_are_whsec_and_distinct() -> None:
    secrets = {w.mint_secret() for _ in range(50)}
    assert len(secrets) == 50 and all(s.startswith("whsec_") for s in secrets)


def test_the_old_secret_signs_only_within_the_overlap() -> None:
    endpoint = w.Endpoint(
        id="e", url="https://x.example/", description=None, event_types=("incident.declared",),
        service_ids=(), format=w.WebhookFormat.STANDARD, enabled=True, created_at=NOW,
        updated_at=NOW, created_by="t", version=1, secret="whsec_new",
        previous_secret="whsec_old", previous_secret_until=NOW + timedelta(hours=1),
    )  # fmt: skip
    assert endpoint.signing_secrets(NOW) == ("whsec_new", "whsec_old")
    assert endpoint.signing_secrets(NOW + timedelta(hours=2)) == ("whsec_new",)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("example.com/hook", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("https://", "name a host"),
        ("https://a:b@example.com/", "password"),
        ("https://example.com:99999/", "valid URL"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/" + "a" * 2000, "at most"),
    ],
)
def test_bad_urls_are_refused(url: str, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        w.check_url(url)
    assert caught.value.field == ("input", "url") and words in caught.value.message


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"],
)  # fmt: skip
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert w.forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not w.forbidden_address(ipaddress.ip_address(address))


def test_a_literal_private_address_is_refused_unless_allowed() -> None:
    def spec(allow: bool) -> w.EndpointSpec:
        return w.check_spec(
            "http://169.254.169.254/latest", None, ["incident.declared"], [],
            w.WebhookFormat.STANDARD, allow_private=allow,
        )  # fmt: skip

    with pytest.raises(DomainError, match="private or local"):
        spec(False)
    assert spec(True).url == "http://169.254.169.254/latest"


def test_event_types_must_be_known_and_not_empty() -> None:
    with pytest.raises(DomainError, match="at least one"):
        w.check_event_types([])
    with pytest.raises(DomainError, match=r"unknown event type 'incident\.exploded'"):
        w.check_event_types(["incident.declared", "incident.exploded"])
    assert w.check_event_types(["incident.declared", "incident.declared"]) == ("incident.declared",)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(200, "SUCCESS"), (204, "SUCCESS"), (299, "SUCCESS"), (410, "GONE"), (301, "RETRY"),
     (404, "RETRY"), (429, "RETRY"), (500, "RETRY"), (None, "RETRY")],
)  # fmt: skip
def test_outcomes(code: int | None, outcome: str) -> None:
    assert w.outcome(code).value == outcome


def test_retry_waits_follow_the_schedule_with_jitter_then_stop() -> None:
    rng = random.Random(7)
    schedule = (5.0, 300.0)
    first = w.retry_delay(1, schedule, rng=rng)
    second = w.retry_delay(2, schedule, rng=rng)
    assert first is not None and 4.0 <= first.total_seconds() <= 6.0
    assert second is not None and 240.0 <= second.total_seconds() <= 360.0
    assert w.retry_delay(3, schedule, rng=rng) is None


def test_retry_after_is_honoured_when_longer_up_to_an_hour() -> None:
    assert w.retry_delay(1, (1.0,), retry_after=120).total_seconds() == 120  # type: ignore[union-attr]
    assert w.retry_delay(1, (1.0,), retry_after=10**6).total_seconds() == 3600  # type: ignore[union-attr]
    shorter = w.retry_delay(1, (100.0,), retry_after=1, rng=random.Random(1))
    assert shorter is not None and shorter.total_seconds() >= 80


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert w.parse_retry_after("120", NOW) == 120
    assert w.parse_retry_after("Sun, 29 Nov 2026 12:01:00 GMT", NOW) == 60
    assert w.parse_retry_after("soon", NOW) is None
    assert w.parse_retry_after("²", NOW) is None
    assert w.parse_retry_after(None, NOW) is None


def test_judge() -> None:
    ok = w.AttemptRecord(NOW, 200, 5, None)
    assert w.judge(1, ok, (1.0,)).status is w.DeliveryStatus.SUCCEEDED
    gone = w.judge(1, w.AttemptRecord(NOW, 410, 5, None), (1.0,))
    assert gone.status is w.DeliveryStatus.FAILED and gone.disable_reason
    failing = w.AttemptRecord(NOW, 500, 5, None)
    again = w.judge(1, failing, (1.0,))
    assert again.status is w.DeliveryStatus.PENDING and again.next_attempt_at is not None
    last = w.judge(2, failing, (1.0,))
    assert last.status is w.DeliveryStatus.FAILED and last.failed_for_good


def test_schedules_parse_or_name_the_problem() -> None:
    assert w.parse_schedule("5, 300") == (5.0, 300.0)
    for bad in ("", "a,b", "0", "-1,5"):
        with pytest.raises(ValueError):
            w.parse_schedule(bad)


def test_bodies() -> None:
    message = Message(
        "incident.declared",
        NOW,
        {"incident": {"key": "INC-1", "priority": "P1", "title": "Down"}},
    )
    standard = json.loads(w.standard_body(message.type, message.at, message.data))
    assert standard == {
        "type": "incident.declared",
        "timestamp": "2026-11-29T12:00:00Z",
        "data": message.data,
    }
    slack = json.loads(w.slack_body(message, "https://status.example.com/status"))
    assert slack["text"] == "Incident declared: INC-1 (P1) Down"
    assert "status.example.com" in json.dumps(slack["blocks"])


def test_delivery_ids_are_checked() -> None:
    good = "msg_" + "a" * 24 + "." + "b" * 24
    assert w.delivery_id(good) == good
    with pytest.raises(DomainError):
        w.delivery_id("msg_1.2")


def test_hostile_retry_after_values_are_ignored_not_raised() -> None:
    assert w.parse_retry_after("9" * 5000, NOW) == 86_400
    assert w.parse_retry_after("Mon, 01 Jan 99999999999 00:00:00 GMT", NOW) is None
    assert w.parse_retry_after("x" * 10_000, NOW) is None


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a00:1", "64:ff9b:1::1", "::127.0.0.1", "2002:7f00:1::", "2002:a00:1::",
     "fec0::1", "::ffff:0:a00:1"],
)  # fmt: skip
def test_ipv6_forms_carrying_a_private_ipv4_are_forbidden(address: str) -> None:
    assert w.forbidden_address(ipaddress.ip_address(address))


def test_nat64_and_6to4_of_public_addresses_are_allowed() -> None:
    assert not w.forbidden_address(ipaddress.ip_address("64:ff9b::5db8:d822"))  # 93.184.216.34
    assert not w.forbidden_address(ipaddress.ip_address("2002:5db8:d822::1"))


def test_internationalised_hosts_are_sent_in_ascii_and_other_non_ascii_refused() -> None:
    assert (
        w.check_url("https://Bücher.example:8443/hook") == "https://xn--bcher-kva.example:8443/hook"
    )
    with pytest.raises(DomainError, match="percent-encode"):
        w.check_url("https://hooks.example.com/café")
    for bad in ("http://a..b/hook", "http://" + "a" * 64 + ".example/"):
        with pytest.raises(DomainError, match="not a valid name"):
            w.check_url(bad)


def test_slack_text_cannot_ping_the_channel_or_fake_links() -> None:
    message = Message(
        "incident.declared",
        NOW,
        {"incident": {"key": "INC-1", "priority": "P1", "title": "<!channel> <https://evil|x>"}},
    )
    body = w.slack_body(message, None).decode()
    assert "<!channel>" not in body and "<https://evil" not in body
    assert "&lt;!channel&gt;" in json.loads(body)["blocks"][0]["text"]["text"]
