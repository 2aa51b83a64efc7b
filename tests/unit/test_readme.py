"""The README is a short front door; docs/ holds one page per concept.

The README opens with the two commands, stays short and links every page;
docs/configuration.md documents every setting; no relative link is broken.
"""

from __future__ import annotations

import re
from pathlib import Path

from incident_service.config import Settings, SlaTargets

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()

_FENCED = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.S | re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _docs_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _links(text: str) -> list[str]:
    """Targets of the markdown links, outside code blocks (where `](` is code)."""
    return _LINK.findall(_FENCED.sub("", text))


def _anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a page."""
    anchors: set[str] = set()
    for line in _FENCED.sub("", text).splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            anchors.add(slug.replace(" ", "-"))
    return anchors


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    assert README.index("```sh") < README.index("\n## ")  # before any section
    assert first_block.group(1).split("\n")[:2] == ["make run", "make test"]


def test_readme_is_a_short_front_door() -> None:
    lines = len(README.splitlines())
    assert lines <= 250, f"README.md has {lines} lines; move the detail to a page in docs/"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    pages = _docs_pages()
    assert pages, "docs/ has no pages"
    linked = {target.split("#", 1)[0] for target in _links(README)}
    missing = [f"docs/{page.name}" for page in pages if f"docs/{page.name}" not in linked]
    assert missing == [], "link these from the README's Documentation map"


def test_every_relative_link_points_at_something_that_exists() -> None:
    broken = []
    for page in [ROOT / "README.md", *_docs_pages()]:
        for target in _links(page.read_text()):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
                continue
            if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved.read_text()):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def _env_names() -> list[str]:
    names = [(f.alias or name).upper() for name, f in Settings.model_fields.items()]
    names += [f"SLA_{name.upper()}" for name in SlaTargets.model_fields]
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    page = (DOCS / "configuration.md").read_text()
    table = "\n".join(line for line in page.splitlines() if line.startswith("|"))
    missing = [name for name in _env_names() if f"`{name}`" not in table]
    assert missing == [], "document these in the table of docs/configuration.md"
