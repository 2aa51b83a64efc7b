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
