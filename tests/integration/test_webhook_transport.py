"""The webhook HTTP client against a real receiver: each endpoint has its own connections."""

from __future__ import annotations

import asyncio

from incident_service.jobs.transport import WebhookClient
from tests.support.receiver import receiving


def test_a_hanging_endpoint_does_not_hold_the_connections_of_another() -> None:
    with receiving() as receiver:
        receiver.on("/slow", hang_seconds=3)

        async def scenario() -> tuple[int | None, bool]:
            client = WebhookClient(allow_private=True, timeout=10, per_endpoint=1)
            try:
                slow = asyncio.create_task(
                    client.post(receiver.url("/slow"), {}, b"{}", endpoint="slow")
                )
                await asyncio.sleep(0.2)  # the slow one holds its only connection
                fast = await client.post(receiver.url("/fast"), {}, b"{}", endpoint="fast")
                still_hanging = not slow.done()
                await slow
                return fast.status_code, still_hanging
            finally:
                await client.close()

        status, still_hanging = asyncio.run(scenario())
    assert status == 200
    assert still_hanging


def test_endpoints_past_the_pool_cap_are_still_sent_to() -> None:
    with receiving() as receiver:

        async def scenario() -> list[int | None]:
            client = WebhookClient(allow_private=True, timeout=10, endpoints=2)
            try:
                statuses = []
                for name in ("a", "b", "c", "a", "c"):
                    response = await client.post(receiver.url(f"/{name}"), {}, b"{}", endpoint=name)
                    statuses.append(response.status_code)
                return statuses
            finally:
                await client.close()

        assert asyncio.run(scenario()) == [200] * 5
        assert [r.path for r in receiver.received] == ["/a", "/b", "/c", "/a", "/c"]


def test_private_addresses_are_refused_at_the_connection_whether_named_or_literal() -> None:
    """The check at saving can be bypassed (DNS rebinding, a document written by hand):
    the client refuses before connecting, for a name and for an IP literal alike."""
    with receiving() as receiver:
        urls = [
            receiver.url("/named").replace("127.0.0.1", "localhost"),
            receiver.url("/literal"),
            receiver.url("/mapped").replace("127.0.0.1", "[::ffff:127.0.0.1]"),
        ]

        async def scenario() -> list[tuple[int | None, str | None]]:
            client = WebhookClient(allow_private=False, timeout=5)
            try:
                responses = [await client.post(u, {}, b"{}", endpoint=u) for u in urls]
                return [(r.status_code, r.error) for r in responses]
            finally:
                await client.close()

        outcomes = asyncio.run(scenario())
    assert [status for status, _ in outcomes] == [None, None, None]
    assert all(
        error is not None and error.startswith("refused:") and "private or local" in error
        for _, error in outcomes
    ), outcomes
    assert receiver.received == []


def test_an_answer_is_read_only_up_to_the_cap_and_its_status_and_retry_after_kept() -> None:
    with receiving() as receiver:
        receiver.on("/big", statuses=[429], body_bytes=50 * 1024 * 1024, retry_after="7")

        async def scenario() -> tuple[int | None, str | None, str | None]:
            client = WebhookClient(allow_private=True, timeout=10)
            try:
                response = await client.post(receiver.url("/big"), {}, b"{}", endpoint="big")
                return response.status_code, response.retry_after, response.error
            finally:
                await client.close()

        assert asyncio.run(scenario()) == (429, "7", None)


def test_an_endpoint_pushed_out_of_the_pool_mid_request_still_gets_its_answer() -> None:
    """Past the pool cap the least recently used endpoint's connections are closed, but
    not under a request still waiting for its answer."""
    with receiving() as receiver:
        receiver.on("/slow", hang_seconds=1)

        async def scenario() -> tuple[int | None, str | None, int | None]:
            client = WebhookClient(allow_private=True, timeout=10, endpoints=1)
            try:
                slow = asyncio.create_task(
                    client.post(receiver.url("/slow"), {}, b"{}", endpoint="slow")
                )
                await asyncio.sleep(0.3)  # the slow request is waiting for its answer
                other = await client.post(receiver.url("/other"), {}, b"{}", endpoint="other")
                answer = await slow
                return answer.status_code, answer.error, other.status_code
            finally:
                await client.close()

        assert asyncio.run(scenario()) == (200, None, 200)
