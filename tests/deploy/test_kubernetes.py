"""The Kubernetes manifests: rendered, schema-validated, policy-checked, and
checked against the service itself (routes, settings, ports, drain timing).

Every overlay is rendered with kustomize and validated against the
Kubernetes JSON schemas of the oldest and newest versions we target, with
strict validation (unknown fields are errors). All offline.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from incident_service.config import Settings, SlaTargets
from tests.deploy.manifests import (
    CHECKOV,
    K8S,
    OVERLAYS,
    WORKLOADS,
    api_container,
    app_routes,
    config_data,
    containers,
    kustomize,
    labels_match,
    named_port,
    objects,
    one,
    pod_spec,
    rendered,
    rendered_text,
    the_deployment,
    tool,
)

# Oldest (native preStop sleep, matchLabelKeys) and newest bundled schema.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")

# Checks skipped for every rendered object, each with why. Per-resource skips
# live next to the resource as `checkov.io/skip*` annotations with a reason
# (only the dev MongoDB's UID 999, CKV_K8S_40).
CHECKOV_SKIPS = {
    # "Image should use digest": the digest exists only once CI has built and
    # pushed the image; the rollout step of docs/kubernetes.md pins it with
    # `kustomize edit set image incident-service=REGISTRY/...@sha256:...`.
    "CKV_K8S_43": "digest is set at release time",
    # "Image Pull Policy should be Always": with immutable version tags (or
    # digests) IfNotPresent is equivalent and keeps pods starting while the
    # registry is down; dev clusters load local images (kind load) that
    # cannot be pulled at all.
    "CKV_K8S_15": "immutable tags; IfNotPresent",
}

# Environment variables read by something other than config.Settings.
EXTERNAL_SETTINGS = {"FORWARDED_ALLOW_IPS"}  # uvicorn: trusted proxy peers
SECRET_SETTINGS = {"MONGODB_URI", "ADMIN_API_KEY", "OIDC_HS256_SECRET", "SMTP_URL"}


def setting_names() -> set[str]:
    names = {(f.alias or n).upper() for n, f in Settings.model_fields.items()}
    return names | {f"SLA_{n.upper()}" for n in SlaTargets.model_fields}


# --- Rendering, schemas, policies ---------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_overlay_validates_against_kubernetes_schemas(
    overlay: str, version: str, tmp_path: Path
) -> None:
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered_text(overlay))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, str(manifest)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_template_validates_and_holds_placeholders_only(tmp_path: Path) -> None:
    template = K8S / "base" / "secret.template.yaml"
    result = subprocess.run(
        [
            tool("kubernetes-validate"),
            "--strict",
            "--quiet",
            "-k",
            KUBERNETES_VERSIONS[-1],
            *[str(template)],
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    secrets = [d for d in yaml.safe_load_all(template.read_text()) if d]
    assert {s["metadata"]["name"] for s in secrets} == {
        "incident-service-admin",
        "incident-service-mongodb",
        "incident-service-smtp",
    }
    for secret in secrets:
        assert "data" not in secret
        for key, value in secret["stringData"].items():
            assert value.startswith("REPLACE_ME"), f"{key}: not a placeholder"
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert "secret.template.yaml" not in base["resources"], "would overwrite the real Secrets"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_passes_checkov(overlay: str, tmp_path: Path) -> None:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make checkov` (make test does)"
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered_text(overlay))
    result = subprocess.run(
        [
            *(str(CHECKOV), "--framework", "kubernetes", "--skip-download", "--quiet"),
            *("--compact", "--output", "json", "--skip-check", ",".join(CHECKOV_SKIPS)),
            *("--file", str(manifest)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    report = json.loads(result.stdout)
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']}"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed and result.returncode == 0, "\n".join(failed) or result.stderr
    assert report["summary"]["passed"] > 50, "checkov ran (almost) no checks"
    assert report["summary"]["parsing_errors"] == 0


def test_servicemonitor_component_renders_and_selects_the_service(tmp_path: Path) -> None:
    # Compose production + the optional component the way an operator would
    # (kustomize wants paths relative to the kustomization).
    def rel(path: Path) -> str:
        return os.path.relpath(path, tmp_path)

    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": one("production", "Namespace", "incident-service")["metadata"]["name"],
                "resources": [rel(K8S / "overlays" / "production")],
                "components": [rel(K8S / "components" / "servicemonitor")],
            }
        )
    )
    text = kustomize(tmp_path, "--load-restrictor=LoadRestrictionsNone")
    docs = [d for d in yaml.safe_load_all(text) if d]
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    (service,) = [d for d in docs if d["kind"] == "Service"]
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
    assert labels_match(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    exact, _ = app_routes()
    assert endpoint["path"] in exact


# --- Containers: non-root, limits, probes --------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_non_root_read_only_with_limits(overlay: str) -> None:
    workloads = [o for o in rendered(overlay) if o["kind"] in WORKLOADS]
    assert workloads
    for workload in workloads:
        pod = pod_spec(workload)
        where = f"{overlay} {workload['kind']}/{workload['metadata']['name']}"
        assert pod.get("automountServiceAccountToken") is False, where
        pod_ctx = pod.get("securityContext", {})
        assert pod_ctx.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        for c in containers(workload):
            ctx = {**pod_ctx, **c.get("securityContext", {})}
            at = f"{where} container {c['name']}"
            assert ctx.get("runAsNonRoot") is True, at
            assert isinstance(ctx.get("runAsUser"), int) and ctx["runAsUser"] > 0, at
            assert ctx.get("allowPrivilegeEscalation") is False, at
            assert ctx.get("readOnlyRootFilesystem") is True, at
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], at
            assert not ctx.get("capabilities", {}).get("add"), at
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(kind, {})), at
            if workload["kind"] != "Job":
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    assert probe in c, f"{at}: no {probe}"
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", c["image"]), f"{at}: unpinned image"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probe_and_scrape_paths_exist_in_the_app(overlay: str) -> None:
    exact, _ = app_routes()
    c = api_container(overlay)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] in exact, probe
    annotations = pod_spec_annotations(overlay)
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] in exact


def pod_spec_annotations(overlay: str) -> dict[str, str]:
    annotations: dict[str, str] = the_deployment(overlay)["spec"]["template"]["metadata"][
        "annotations"
    ]
    return annotations


# --- Settings ------------------------------------------------------------------


def test_config_env_documents_every_setting_and_only_real_ones() -> None:
    text = (K8S / "base" / "config.env").read_text()
    active = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))
    documented = set(re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=", text, re.M))
    known = setting_names()
    assert active - known - EXTERNAL_SETTINGS == set(), "keys the service does not read"
    assert known - active - documented == set(), "settings missing from config.env"
    assert active & SECRET_SETTINGS == set(), "secrets belong in a Secret, not the ConfigMap"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_configmap_holds_valid_settings(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = config_data(overlay)
    assert set(data) - setting_names() - EXTERNAL_SETTINGS == set()
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    # The secret files are mounted in the pod; stand-ins here.
    uri, key = tmp_path / "uri", tmp_path / "key"
    uri.write_text("mongodb://db:27017/?replicaSet=rs0\n")
    key.write_text("k" * 40)
    monkeypatch.setenv("MONGODB_URI_FILE", str(uri))
    monkeypatch.setenv("ADMIN_API_KEY_FILE", str(key))
    settings = Settings()
    assert settings.is_production
    assert settings.mongodb_uri == "mongodb://db:27017/?replicaSet=rs0"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secret_files_are_mounted_where_the_settings_read_them(overlay: str) -> None:
    data = config_data(overlay)
    c = api_container(overlay)
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(the_deployment(overlay))["volumes"]}
    files = set()
    for name, mount in mounts.items():
        assert mount.get("readOnly") or name == "tmp", name
        for source in volumes[name].get("projected", {}).get("sources", []):
            for item in source.get("secret", {}).get("items", []):
                files.add(f"{mount['mountPath']}/{item['path']}")
    assert {data["MONGODB_URI_FILE"], data["ADMIN_API_KEY_FILE"], data["SMTP_URL_FILE"]} <= files
    assert mounts["tmp"]["mountPath"] == "/tmp"


# --- Ports and selectors agree --------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_agree_between_deployment_service_ingress_and_networkpolicy(overlay: str) -> None:
    deployment = the_deployment(overlay)
    c = api_container(overlay)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    http = named_port(c, "http")
    assert int(config_data(overlay)["PORT"]) == http
    assert int(pod_spec_annotations(overlay)["prometheus.io/port"]) == http
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert named_port(c, c[probe]["httpGet"]["port"]) == http

    service = one(overlay, "Service", "incident-service")
    assert labels_match(service["spec"]["selector"], pod_labels)
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert named_port(c, service_ports["http"]["targetPort"]) == http

    ingress = one(overlay, "Ingress", "incident-service")
    exact, prefixes = app_routes(method=None)
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["path"] for p in paths} >= {"/graphql", "/status"}
    for p in paths:
        backend = p["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        port = backend["port"].get("name") or backend["port"].get("number")
        assert port in service_ports or port in {s["port"] for s in service_ports.values()}
        assert p["path"] in exact or p["path"] in prefixes, f"{p['path']} is not a route"
        # Internal endpoints stay inside the cluster.
        for internal in ("/metrics", "/healthz", "/readyz"):
            assert not internal.startswith(p["path"]) and p["path"] != "/", p["path"]

    policy = one(overlay, "NetworkPolicy", "incident-service")
    assert labels_match(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    ingress_ports = [
        named_port(c, port["port"]) for rule in policy["spec"]["ingress"] for port in rule["ports"]
    ]
    assert ingress_ports == [http], "ingress only to the HTTP port"
    # From the ingress controller and Prometheus only: FORWARDED_ALLOW_IPS trusts the pod
    # network, so any other pod reaching the port would choose its own client IP.
    (rule,) = policy["spec"]["ingress"]
    sources = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule["from"]
    }
    assert sources == {"ingress-nginx", "monitoring"}
    # The controller's and Prometheus' pods, not every pod of their namespaces; as
    # written (kustomize adds its own labels to any matchLabels, matching nothing).
    selectors = [peer["podSelector"] for peer in rule["from"]]
    assert all(set(s) == {"matchExpressions"} for s in selectors), selectors
    wanted = [
        {(e["key"], e["operator"], tuple(e["values"])) for e in s["matchExpressions"]}
        for s in selectors
    ]
    assert wanted == [
        {
            ("app.kubernetes.io/instance", "In", ("ingress-nginx",)),
            ("app.kubernetes.io/component", "In", ("controller",)),
        },
        {("app.kubernetes.io/managed-by", "In", ("prometheus-operator",))},
    ]
    egress_ports = {
        (port["port"], port.get("protocol", "TCP"))
        for rule in policy["spec"]["egress"]
        for port in rule["ports"]
    }
    smtp = {(25, "TCP"), (465, "TCP"), (587, "TCP")}
    webhook = {(443, "TCP"), (80, "TCP")}
    assert egress_ports == {(27017, "TCP"), (53, "UDP"), (53, "TCP"), *smtp, *webhook}
    # Webhook egress reaches public addresses only (as the service's own check does).
    [webhooks] = [
        r for r in policy["spec"]["egress"] if {p["port"] for p in r["ports"]} == {443, 80}
    ]
    blocks = [peer["ipBlock"] for peer in webhooks["to"]]
    v4 = next(b for b in blocks if b["cidr"] == "0.0.0.0/0")
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(v4["except"])

    for kind in ("PodDisruptionBudget",):
        (pdb,) = objects(overlay, kind)
        assert labels_match(pdb["spec"]["selector"]["matchLabels"], pod_labels)


# --- Availability and the drain ---------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rollout_keeps_capacity_and_spreads_across_nodes(overlay: str) -> None:
    deployment = the_deployment(overlay)
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    spread = pod_spec(deployment)["topologySpreadConstraints"]
    assert "kubernetes.io/hostname" in {t["topologyKey"] for t in spread}
    (hpa,) = objects(overlay, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["minReplicas"] <= spec["replicas"] <= hpa["spec"]["maxReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_covers_prestop_and_the_drain(overlay: str) -> None:
    pod = pod_spec(the_deployment(overlay))
    pre_stop = api_container(overlay)["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(config_data(overlay)["SHUTDOWN_GRACE_SECONDS"])
    margin = pod["terminationGracePeriodSeconds"] - pre_stop - drain
    # The kubelet kills at the deadline: the drain must end before it, and a
    # far larger budget would only slow every rollout and node drain.
    assert 3 <= margin <= 10, f"grace {pod['terminationGracePeriodSeconds']} vs {pre_stop}+{drain}"
    assert pre_stop >= 3, "endpoints need a few seconds to stop routing to the pod"


# --- Overlays ----------------------------------------------------------------------


def test_dev_overlay_runs_a_three_member_replica_set() -> None:
    (sts,) = objects("dev", "StatefulSet")
    (mongod,) = pod_spec(sts)["containers"]
    assert sts["spec"]["replicas"] == 3
    assert re.fullmatch(r"mongo:\d+\.\d+\.\d+", mongod["image"]), "official image, pinned"
    repl_set = next(a.split("=", 1)[1] for a in mongod["command"] if a.startswith("--replSet="))
    headless = one("dev", "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    members = [f"{sts['metadata']['name']}-{i}.{headless['metadata']['name']}" for i in range(3)]

    (job,) = objects("dev", "Job")
    command = containers(job)[0]["command"]
    assert command[:2] == ["/bin/bash", "-euc"]
    syntax = subprocess.run(["bash", "-n", "-c", command[2]], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    script = command[2]
    assert "rs.initiate" in script and f'_id: "{repl_set}"' in script
    assert "NotYetInitialized" in script, "re-running on an initiated set must be harmless"
    for member in members:
        assert f"{member}:27017" in script

    (secret,) = [s for s in objects("dev", "Secret") if "mongodb" in s["metadata"]["name"]]
    uri = base64.b64decode(secret["data"]["uri"]).decode()
    assert "@" not in uri, "no credentials in the repository"
    assert f"replicaSet={repl_set}" in uri
    for member in members:
        assert f"{member}:27017" in uri
    # The Deployment reads exactly this (hash-suffixed) Secret.
    assert secret["metadata"]["name"] in json.dumps(pod_spec(the_deployment("dev"))["volumes"])


def test_production_overlay_uses_an_external_replica_set() -> None:
    assert not objects("production", "StatefulSet"), "no in-cluster database in production"
    assert not objects("production", "Secret"), "secrets are created out of band"
    (namespace,) = objects("production", "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in rendered("production"):
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace["metadata"]["name"], obj["kind"]
    assert (
        the_deployment("production")["spec"]["replicas"] > the_deployment("dev")["spec"]["replicas"]
    )
    image = api_container("production")["image"]
    assert "/" in image, "production pulls from a registry"


def test_ingress_keeps_websockets_open() -> None:
    for overlay in OVERLAYS:
        annotations = one(overlay, "Ingress", "incident-service")["metadata"]["annotations"]
        for key in ("proxy-read-timeout", "proxy-send-timeout"):
            assert int(annotations[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600
        ping = float(config_data(overlay)["WS_PING_INTERVAL"])
        assert ping < int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])
        body = annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
        assert int(body.rstrip("m")) * 1024 * 1024 >= int(config_data(overlay)["MAX_BODY_BYTES"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_client_ip_comes_from_the_ingress_not_from_the_client(overlay: str) -> None:
    from uvicorn.middleware.proxy_headers import _TrustedHosts

    trusted = _TrustedHosts(config_data(overlay)["FORWARDED_ALLOW_IPS"])
    assert "10.244.1.7" in trusted, "the ingress controller's pod address"
    # A client sends a made-up X-Forwarded-For; nginx appends the real address.
    host, _ = trusted.get_trusted_client_address("6.6.6.6, 203.0.113.9")
    assert host == "203.0.113.9"
    # ingress-nginx by default replaces the header with the address it saw: a client
    # with a private address (inside the trusted ranges) is still itself.
    host, _ = trusted.get_trusted_client_address("10.20.30.40")
    assert host == "10.20.30.40"
