"""A real browser for end-to-end tests: Debian's headless Chromium through Playwright.

Never `playwright install`: it downloads a browser of its own. On a machine
without /usr/bin/chromium these tests skip with the reason printed, except
under CI=true, where a missing browser is a failure (.ci/run installs it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Screenshots the browser tests take, for people to look at (git ignores the folder).
ARTIFACTS = Path(__file__).parent / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true the browser tests must run, not skip", pytrace=False)
    print(f"\nskipping browser test: {reason}", file=sys.stderr)
    pytest.skip(reason)


# Module scope: sync_playwright keeps an event loop running while open, which
# would break every later asyncio.run() in the session.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser: Any, **context_options: Any) -> Iterator[Any]:
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop browser window (1280x900)."""
    yield from _page(browser, viewport=DESKTOP)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone (390x844, touch, mobile viewport rules) beside the desktop window."""
    yield from _page(browser, viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/e2e/artifacts/: where screenshots go, kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    print(f"\nbrowser test screenshots: {ARTIFACTS}", file=sys.stderr)
    return ARTIFACTS
