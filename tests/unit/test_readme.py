"""The README opens with the two commands; docs/configuration.md documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

from incident_service.config import Settings, SlaTargets

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    assert README.index("```sh") < README.index("\n## ")  # before any section
    assert first_block.group(1).split("\n")[:2] == ["make run", "make test"]


def _env_names() -> list[str]:
    names = [(f.alias or name).upper() for name, f in Settings.model_fields.items()]
    names += [f"SLA_{name.upper()}" for name in SlaTargets.model_fields]
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    page = (DOCS / "configuration.md").read_text()
    table = "\n".join(line for line in page.splitlines() if line.startswith("|"))
    missing = [name for name in _env_names() if f"`{name}`" not in table]
    assert missing == [], "document these in the table of docs/configuration.md"
