"""The status page feed: a change during a build is never lost; old pages are rebuilt."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from incident_service.domain.enums import ComponentStatus
from incident_service.domain.status_page import StatusPage
from incident_service.realtime import feeds
from incident_service.realtime.feeds import StatusPageFeed

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def page(status: ComponentStatus) -> StatusPage:
    return StatusPage(overall_status=status, updated_at=T0, components=(), active_incidents=())


def test_a_change_that_lands_during_a_build_is_not_lost() -> None:
    async def scenario() -> None:
        states = [ComponentStatus.MAJOR_OUTAGE]
        reading = asyncio.Event()
        release = asyncio.Event()

        async def load() -> StatusPage:
            seen = states[-1]
            reading.set()
            await release.wait()
            return page(seen)

        feed = StatusPageFeed(load)
        building = asyncio.create_task(feed.current())
        await reading.wait()
        # The incident resolves while the build reads the old state.
        states.append(ComponentStatus.OPERATIONAL)
        feed.touch()
        release.set()
        assert (await building).overall_status is ComponentStatus.MAJOR_OUTAGE
        reading.clear()
        assert (await feed.current()).overall_status is ComponentStatus.OPERATIONAL

    asyncio.run(scenario())


def test_a_page_older_than_the_limit_is_rebuilt_for_polling_readers() -> None:
    async def scenario() -> None:
        builds = [0]

        async def load() -> StatusPage:
            builds[0] += 1
            return page(ComponentStatus.OPERATIONAL)

        feed = StatusPageFeed(load)
        await feed.current()
        await feed.current()
        assert builds[0] == 1
        feeds.MAX_PAGE_AGE, saved = -1.0, feeds.MAX_PAGE_AGE
        try:
            await feed.current()
        finally:
            feeds.MAX_PAGE_AGE = saved
        assert builds[0] == 2

    asyncio.run(scenario())
