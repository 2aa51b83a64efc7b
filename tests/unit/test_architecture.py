"""The layering as docs/architecture.md states it: every import points down, no cycle.

Read from the source with `ast`, so a new module is checked the day it lands,
imports inside functions included.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "service" / "incident_service"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: What each folder may import besides itself. `observability` is the floor
#: everyone may stand on: metrics, logs and request ids, importing nothing of ours.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "observability": set(),
    "store": {"domain"},
    "access": {"domain", "store"},
    "realtime": {"domain", "store", "observability"},
    "api": {"domain", "store", "access", "realtime", "observability"},
    "http": {"observability"},
    "jobs": {"domain", "store", "observability"},
    "integrations": {"domain", "store", "access", "observability"},
    "web": {"domain", "store", "realtime", "observability"},
}
#: Root modules any folder but `domain` may use: the clock and the settings.
LEAVES = {"clock", "config"}
#: Root modules that put the process together; nothing inside a folder imports them.
COMPOSITION = {"app", "cli", "server", "runtime", "embedded"}


def _imports(path: Path) -> set[str]:
    """The incident_service modules `path` imports, as dotted names below the package."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "incident_service":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("incident_service."):
                found.add(node.module.removeprefix("incident_service."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("incident_service."):
                    found.add(alias.name.removeprefix("incident_service."))
    return found


def _unit(relative: Path) -> str:
    """The folder a module lives in, or its own name for a root module."""
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_folder_of_the_package_has_a_rule() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(ALLOWED)


def test_imports_point_down_only() -> None:
    wrong: list[str] = []
    for path in _modules():
        relative = path.relative_to(PACKAGE)
        here = _unit(relative)
        if here not in ALLOWED:
            continue  # a root module: composition may use anything
        allowed = ALLOWED[here] | {here} | ({"__version__"} if here == "observability" else set())
        if here != "domain":
            allowed |= LEAVES
        for target in _imports(path):
            top = target.split(".")[0]
            if top not in allowed:
                wrong.append(f"{relative} imports {target}")
    assert wrong == []


def test_the_folder_rules_have_no_cycle() -> None:
    visiting: list[str] = []

    def visit(folder: str) -> None:
        assert folder not in visiting, f"cycle: {' -> '.join([*visiting, folder])}"
        visiting.append(folder)
        for below in ALLOWED[folder]:
            visit(below)
        visiting.pop()

    for folder in ALLOWED:
        visit(folder)


def test_the_domain_uses_the_standard_library_only() -> None:
    outside: list[str] = []
    for path in (PACKAGE / "domain").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and name.split(".")[:2] != [
                    "incident_service",
                    "domain",
                ]:
                    outside.append(f"{path.name}: {name}")
    assert outside == []


def test_leaves_import_no_layer_above_the_domain() -> None:
    for leaf in LEAVES:
        targets = _imports(PACKAGE / f"{leaf}.py")
        assert all(t.startswith("domain") for t in targets), (leaf, targets)
    for module in COMPOSITION:
        assert (PACKAGE / f"{module}.py").exists()


def test_the_architecture_page_names_only_paths_that_exist() -> None:
    text = ARCHITECTURE.read_text()
    paths = re.findall(r"`((?:service|tests|schema|bench|k8s|docs)/[^`\s]*)`", text)
    assert paths, "docs/architecture.md lists no paths"
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert missing == []


def test_the_architecture_page_lists_every_folder_and_root_module() -> None:
    text = ARCHITECTURE.read_text()
    units = {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    units |= {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    unlisted = [u for u in sorted(units) if f"service/incident_service/{u}" not in text]
    assert unlisted == []
