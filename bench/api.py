"""Per-request cost: the service against a raw PyMongo + Starlette route, in one run.

One embedded database, 500 incidents declared through the service, then for
each request the service (an ADMIN key, GraphQL over HTTP) and bench/raw_api.py
(the same query, the same JSON, nothing else) are loaded in turn by `wrk`
with 10 connections, ROUNDS times each, alternating, and the best round of
each side is kept:

  (a) one incident by key, 8 fields (`incident(key: "INC-42")`, the number's index)
  (b) the first page of 40 incidents, 8 fields, newest first
  (c) a filtered page (a label, open only), 8 fields
  (d) declare (the raw side: a transaction writing the incident and its event)
  (d') declare once somebody may hear of it (a webhook endpoint on an event a
       declaration never causes: `listen`), the raw side writing what such a
       declaration writes: its number from a counter, then the incident, its event,
       the outbox message and two jobs in one `bulkWrite`, as the service does
  (e) the same declarations, against the raw two-document transaction of (d)

(a) to (d) run with nobody to notify (no webhook endpoint, no email subscriber):
the service then writes no outbox message (store/listeners.py).

Before loading, one request of each side is made and their `data` compared:
the two must answer the same JSON. Needs wrk (Debian: apt-get install wrk).

    .venv/bin/python bench/api.py
    .venv/bin/python bench/api.py --seconds 10 --rounds 3 --connections 10
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "service"))

from processes import Server, free_port  # noqa: E402

from incident_service.embedded import EmbeddedMongo  # noqa: E402

FIELDS = "id key title status priority impact urgency declaredAt"
LABEL = "team-payments"
DECLARE = (
    'mutation Declare { declareIncident(input: {title: "Checkout is slow"}) '
    "{ incident { id } userErrors { code } } }"
)


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    variables: dict[str, Any]
    raw_path: str
    raw_body: dict[str, Any] | None = None  # POST when set
    #: Run with a webhook endpoint in the database: somebody who may hear of changes.
    listening: bool = False

    @property
    def writes(self) -> bool:
        return self.raw_body is not None


CASES = [
    Case(
        "(a) one incident by key",
        f"query One($key: String!) {{ incident(key: $key) {{ {FIELDS} }} }}",
        {"key": "INC-42"},
        "/incident/42",
    ),
    Case(
        "(b) first page of 40, newest first",
        f"query Page {{ incidents(first: 40) {{ edges {{ node {{ {FIELDS} }} }} }} }}",
        {},
        "/incidents?first=40",
    ),
    Case(
        "(c) filtered page",
        "query Filtered($label: String!) { incidents(filter: {label: $label, openOnly: true}, "
        f"first: 40) {{ edges {{ node {{ {FIELDS} }} }} }} }}",
        {"label": LABEL},
        f"/incidents?first=40&label={LABEL}",
    ),
    Case(
        "(d) declare",
        DECLARE,
        {},
        "/declare",
        {"title": "Checkout is slow"},
    ),
    Case(
        "(d') declare with a listener, against the raw writes it makes",
        DECLARE,
        {},
        "/declare-as-the-service-writes",
        {"title": "Checkout is slow"},
        listening=True,
    ),
    Case(
        "(e) declare with a listener",
        DECLARE,
        {},
        "/declare",
        {"title": "Checkout is slow"},
        listening=True,
    ),
]
CREATE_ENDPOINT = (
    "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) "
    "{ endpoint { id } userErrors { message } } }"
)
#: An event a declaration never causes: the endpoint is somebody listening, and the
#: fan-out of every message runs, but nothing is ever sent (nor is the URL reached).
IDLE_EVENT = "incident.resolved"


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def lua(method: str, body: str | None, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, script: str, seconds: int, connections: int, work: Path) -> Load:
    path = work / f"load-{secrets.token_hex(4)}.lua"
    path.write_text(script)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Load(rps, p50, p99, errors)


def seed(http: httpx.Client, url: str, key: str, n: int) -> None:
    declare = (
        "mutation($input: DeclareIncidentInput!) { declareIncident(input: $input) "
        "{ incident { id } userErrors { code } } }"
    )
    for i in range(n):
        labels = [LABEL] if i % 5 == 0 else ["team-search"]
        body = {"input": {"title": f"Incident {i}", "labels": labels, "impact": "LOW"}}
        answer = http.post(
            f"{url}/graphql",
            json={"query": declare, "variables": body},
            headers={"authorization": f"Bearer {key}"},
        ).json()
        if answer.get("errors") or answer["data"]["declareIncident"]["userErrors"]:
            raise RuntimeError(f"seeding failed: {answer}")


def listen(http: httpx.Client, url: str, key: str) -> None:
    """A webhook endpoint on an event a declaration never causes: from now on a
    declaration writes its outbox message and fans it out (to nobody)."""
    body = {
        "query": CREATE_ENDPOINT,
        "variables": {"input": {"url": "http://127.0.0.1:9/idle", "eventTypes": [IDLE_EVENT]}},
    }
    answer = http.post(
        f"{url}/graphql", json=body, headers={"authorization": f"Bearer {key}"}
    ).json()
    if answer.get("errors") or answer["data"]["createWebhookEndpoint"]["userErrors"]:
        raise RuntimeError(f"creating the endpoint failed: {answer}")


def same_answer(http: httpx.Client, service: str, raw: str, key: str, case: Case) -> bool:
    ours = http.post(
        f"{service}/graphql",
        json={"query": case.query, "variables": case.variables},
        headers={"authorization": f"Bearer {key}", "accept": "application/json"},
    ).json()
    if case.writes:
        theirs = http.post(raw + case.raw_path, json=case.raw_body).json()
        return bool(ours["data"]["declareIncident"]["incident"]["id"]) and bool(
            theirs["data"]["declareIncident"]["incident"]["id"]
        )
    theirs = http.get(raw + case.raw_path).json()
    if ours.get("data") != theirs.get("data"):
        print(f"{case.name}: answers differ\n{ours}\n{theirs}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench/api.py needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    database = EmbeddedMongo(work / "db")
    database.start(timeout=60)
    key = secrets.token_urlsafe(32)
    env = {
        "MONGODB_URI": database.uri,
        "MONGODB_DATABASE": "bench",
        "ADMIN_API_KEY": key,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_KEY": "",
        "RATE_LIMIT_PER_IP": "",
        "APP_PROFILE": "production",
        # The endpoint of the cases with a listener is on loopback (and never sent to).
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    }
    service_port, raw_port = free_port(), free_port()
    service = Server(
        "service",
        [
            str(BIN / "incident-service"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(service_port),
        ],
        env,
        service_port,
        work / "service.log",
    )
    raw = Server(
        "raw",
        [
            str(BIN / "uvicorn"),
            "bench.raw_api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(raw_port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env,
        raw_port,
        work / "raw.log",
    )
    try:
        service.wait_ready("/readyz")
        raw.wait_ready("/incident/1")
        with httpx.Client(timeout=30) as http:
            seed(http, service.url, key, args.incidents)
            rows = []
            listening = False
            for case in CASES:
                if case.listening and not listening:
                    listen(http, service.url, key)
                    listening = True
                same = same_answer(http, service.url, raw.url, key, case)
                ours = lua(
                    "POST",
                    json.dumps({"query": case.query, "variables": case.variables}),
                    {
                        "Authorization": f"Bearer {key}",
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                    },
                )
                if case.writes:
                    theirs = lua(
                        "POST", json.dumps(case.raw_body), {"Content-Type": "application/json"}
                    )
                else:
                    theirs = lua("GET", None, {})
                best: dict[str, Load] = {}
                for _ in range(args.rounds):
                    for side, url, script in (
                        ("service", f"{service.url}/graphql", ours),
                        ("raw", raw.url + case.raw_path, theirs),
                    ):
                        load = wrk(url, script, args.seconds, args.connections, work)
                        if side not in best or load.rps > best[side].rps:
                            best[side] = load
                rows.append((case, same, best["service"], best["raw"]))
                print(f"{case.name}: done", file=sys.stderr)
        print(report(rows, args))
    finally:
        service.stop()
        raw.stop()
        database.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(rows: list[tuple[Case, bool, Load, Load]], args: argparse.Namespace) -> str:
    lines = [
        f"{args.incidents} incidents, wrk -c{args.connections}, best of {args.rounds} rounds "
        f"of {args.seconds} s per side, alternating",
        "",
        "| request | raw req/s | raw p50 / p99 ms | service req/s | service p50 / p99 ms "
        "| ratio | same JSON | errors |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for case, same, ours, theirs in rows:
        lines.append(
            f"| {case.name} | {theirs.rps:,.0f} | {theirs.p50_ms:.1f} / {theirs.p99_ms:.1f} "
            f"| {ours.rps:,.0f} | {ours.p50_ms:.1f} / {ours.p99_ms:.1f} "
            f"| **{ours.rps / theirs.rps:.2f}x** | {'yes' if same else 'NO'} "
            f"| {ours.errors + theirs.errors} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
