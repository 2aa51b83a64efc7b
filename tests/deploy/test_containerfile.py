"""The Containerfile: hadolint, plus the project's own rules for the image.

No container engine runs here, so the image is checked statically: what it
is built from, what ends up in the final stage, who it runs as, and that
what it runs agrees with the app and the Kubernetes manifests.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.deploy.manifests import (
    ROOT,
    api_container,
    app_routes,
    config_data,
    pod_spec,
    the_deployment,
    tool,
)

CONTAINERFILE = ROOT / "Containerfile"
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|make|build-essential|python3?-dev|libc6?-dev)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [args for o, args in self.instructions if o == op]


def parse() -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages), with line continuations joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        op, rest = op.upper(), rest.strip()
        if op == "ARG" and not stages and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
        elif op == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        else:
            assert stages, f"{op} before FROM"
            stages[-1].instructions.append((op, rest))
    return args, stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return value


def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(CONTAINERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_on_a_pinned_slim_python() -> None:
    _, stages = parse()
    assert len(stages) >= 2, "a builder stage and a final stage"
    for stage in stages:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", stage.base), (
            f"{stage.base}: pin the exact Python patch version of a slim image"
        )
    final = stages[-1]
    assert final.base == stages[0].base, "the venv is copied between stages: same interpreter"
    copies = final.all("COPY")
    assert copies and all(c.startswith("--from=") for c in copies), "final stage copies only builds"


def test_final_stage_has_no_compilers_and_installs_nothing() -> None:
    _, stages = parse()
    final = stages[-1]
    for run in final.all("RUN"):
        assert not COMPILERS.search(run), run
        assert not re.search(r"\b(apt-get|apt|pip)\s+install\b", run), run


def test_runs_as_the_numeric_non_root_user_the_deployment_expects() -> None:
    _, stages = parse()
    (user,) = stages[-1].all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 10000, "numeric, outside the host's system range"
    assert not gid or gid.isdigit()
    ctx = api_container("production")["securityContext"]
    assert ctx["runAsUser"] == int(uid)
    assert pod_spec(the_deployment("production"))["securityContext"]["runAsUser"] == int(uid)


def test_entrypoint_serves_on_all_interfaces_with_the_production_profile() -> None:
    _, stages = parse()
    final = stages[-1]
    (entrypoint,) = final.all("ENTRYPOINT")
    assert exec_form(entrypoint) == ["incident-service", "serve", "--host", "0.0.0.0"]
    env = " ".join(final.all("ENV"))
    assert re.search(r"\bAPP_PROFILE=production\b", env)
    port = re.search(r"\bPORT=(\d+)", env)
    assert port, "PORT in ENV"
    (expose,) = final.all("EXPOSE")
    assert int(expose.split("/")[0]) == int(port.group(1))
    assert int(config_data("production")["PORT"]) == int(port.group(1))
    # No baked-in configuration or secrets: only the profile and the port.
    assert not re.search(r"MONGODB_URI=|ADMIN_API_KEY=|_SECRET=", env)


def test_no_embedded_database_in_the_image() -> None:
    _, stages = parse()
    runs = " ".join(run for stage in stages for run in stage.all("RUN"))
    assert "pip install" in runs
    assert "embedded" not in runs and "[dev]" not in runs
    installs = re.findall(r"pip install ([^&]+)", runs)
    for install in installs:
        assert "[" not in install, f"no extras in the image: {install}"


def test_healthcheck_uses_a_real_route() -> None:
    _, stages = parse()
    checks = stages[-1].all("HEALTHCHECK")
    if not checks:
        pytest.fail("HEALTHCHECK expected for podman/docker users")
    exact, _ = app_routes()
    paths = re.findall(r"http://127\.0\.0\.1:[^/]+(/\w+)", checks[0])
    assert paths and all(p in exact for p in paths)


def test_build_context_ignores_are_identical_and_keep_the_sources() -> None:
    container = (ROOT / ".containerignore").read_text()
    assert (ROOT / ".dockerignore").read_text() == container
    lines = [ln.strip() for ln in container.splitlines() if ln.strip() and ln[0] != "#"]
    assert lines[0] == "*", "allow-list: everything else stays out of the context"
    for needed in ("pyproject.toml", "README.md", "LICENSE", "service/"):
        assert f"!{needed}" in lines
    _, stages = parse()
    for copy in stages[0].all("COPY"):
        for src in copy.split()[:-1]:
            assert (ROOT / src).exists(), f"COPY {src}: missing from the repository"
