"""What the browser tests do on the status pages: find rows, open a page live, take pictures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.support.processes import ServiceProcess


def component_row(page: Any, name: str) -> Any:
    return page.locator("#components li.component").filter(
        has=page.locator(".component__name", has_text=name)
    )


def open_live(page: Any, url: str) -> list[str]:
    """Load a page, wait until it is live; return the list of websocket frames it receives."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    page.goto(url)
    page.wait_for_selector("html[data-connection=live]")
    # A marker that only survives if the page is never reloaded.
    page.evaluate("window.__loadedOnce = true")
    return frames


def open_status_page(page: Any, service: ServiceProcess) -> list[str]:
    return open_live(page, f"{service.url}/status")


def never_reloaded(page: Any) -> bool:
    return page.evaluate("window.__loadedOnce") is True


def screenshot(page: Any, folder: Path, name: str) -> Path:
    """The whole page as it is now, saved as `folder/name.png`."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}", file=sys.stderr)
    return path
