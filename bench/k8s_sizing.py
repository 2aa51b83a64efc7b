"""Resource sizing for the Kubernetes Deployment: RSS and CPU of one service process.

Starts an embedded database and one `incident-service serve` (APP_PROFILE=
production, JSON logs), then measures the service process only (not the
database, not the load generator) in three phases:

1. idle after start-up;
2. with --subscribers websocket subscriptions open (half `incidentEvents` on
   one incident, half anonymous `statusPage`);
3. under a bounded mixed load: --requests HTTP operations (3 queries for
   every PUBLIC `postUpdate` mutation, each fanned out to every subscriber)
   from --concurrency client threads.

It prints RSS (current and peak, from /proc) and CPU (user+system seconds
over wall seconds) per phase as JSON. The numbers behind the requests and
limits in k8s/base/deployment.yaml come from this; see docs/kubernetes.md.

    .venv/bin/python bench/k8s_sizing.py
    .venv/bin/python bench/k8s_sizing.py --service-bin /path/to/prod-venv/bin/incident-service
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident_service.embedded import EmbeddedMongo, free_port

ADMIN_KEY = "bench-admin-key-0123456789abcdef"
TICK = os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / TICK


class Phase:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu0 = cpu_seconds(pid)
        self.t0 = time.monotonic()

    def result(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        rss, peak = rss_mib(self.pid)
        return {
            "wall_s": round(wall, 2),
            "cpu_cores": round((cpu_seconds(self.pid) - self.cpu0) / wall, 3),
            "rss_mib": round(rss, 1),
            "peak_rss_mib": round(peak, 1),
        }


def gql(client: httpx.Client, url: str, query: str, variables: dict | None = None) -> dict:
    r = client.post(
        url,
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {ADMIN_KEY}"},
    )
    body = r.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


async def subscriber(ws_url: str, query: str, variables: dict, auth: bool, stop: asyncio.Event):
    payload = {"authorization": f"Bearer {ADMIN_KEY}"} if auth else {}
    async with websockets.connect(
        ws_url, subprotocols=["graphql-transport-ws"], max_size=None, open_timeout=60
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        received = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
                received += 1
            except TimeoutError:
                pass
        return received


def run_subscribers(
    ws_url: str, incident_id: str, n: int, ready: threading.Event, stop_flag: threading.Event
) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        tasks = []
        for i in range(n):
            if i % 2:
                q = "subscription S { statusPage { overallStatus } }"
                tasks.append(asyncio.create_task(subscriber(ws_url, q, {}, False, stop)))
            else:
                q = "subscription E($id: ID!) { incidentEvents(incidentId: $id) { seq type } }"
                tasks.append(
                    asyncio.create_task(subscriber(ws_url, q, {"id": incident_id}, True, stop))
                )
            if i % 50 == 49:
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)
        ready.set()
        while not stop_flag.is_set():
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--service-bin", default=str(Path(sys.executable).parent / "incident-service")
    )
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = EmbeddedMongo(Path(tmp) / "db")
        db.start(timeout=60)
        port = free_port()
        env = {
            **os.environ,
            "APP_PROFILE": "production",
            "MONGODB_URI": db.uri,
            "ADMIN_API_KEY": ADMIN_KEY,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_PER_KEY": "",
            "RATE_LIMIT_PER_IP": "",
            "WS_MAX_SUBSCRIPTIONS": "20",
            # Every subscriber comes from this one machine's address.
            "WS_MAX_CONNECTIONS_PER_IP": str(args.subscribers + 100),
        }
        proc = subprocess.Popen(
            [args.service_bin, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        results: dict[str, object] = {}
        stop_flag = threading.Event()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            else:
                raise RuntimeError("service did not become ready")
            time.sleep(2)
            idle = Phase(proc.pid)
            time.sleep(5)
            results["idle"] = idle.result()

            client = httpx.Client(timeout=60)
            url = f"{base}/graphql"
            incident = gql(
                client,
                url,
                "mutation($i: DeclareIncidentInput!) { declareIncident(input: $i) "
                "{ incident { id } } }",
                {"i": {"title": "sizing", "impact": "HIGH", "urgency": "HIGH"}},
            )["declareIncident"]["incident"]["id"]

            ready = threading.Event()
            subs = threading.Thread(
                target=run_subscribers,
                args=(
                    f"ws://127.0.0.1:{port}/graphql",
                    incident,
                    args.subscribers,
                    ready,
                    stop_flag,
                ),
                daemon=True,
            )
            open_phase = Phase(proc.pid)
            subs.start()
            if not ready.wait(120):
                raise RuntimeError("subscribers did not connect")
            results["subscribers_open"] = {"subscribers": args.subscribers, **open_phase.result()}

            load = Phase(proc.pid)
            counter = iter(range(args.requests))
            lock = threading.Lock()
            errors: list[str] = []

            def worker() -> None:
                c = httpx.Client(timeout=60)
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    try:
                        if i % 4 == 0:
                            gql(
                                c,
                                url,
                                "mutation($i: PostUpdateInput!) { postUpdate(input: $i) "
                                "{ userErrors { code } } }",
                                {
                                    "i": {
                                        "id": incident,
                                        "body": f"update {i}",
                                        "visibility": "PUBLIC",
                                    }
                                },
                            )
                        else:
                            gql(
                                c,
                                url,
                                "query L { incidents(first: 20) { totalCount edges "
                                "{ node { key title status priority } } } }",
                            )
                    except Exception as exc:  # recorded, reported below
                        errors.append(str(exc)[:200])

            threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
            for t in threads:
                t.start()
            peak = 0.0
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_mib(proc.pid)[0])
                time.sleep(0.5)
            results["load"] = {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "errors": len(errors),
                "sampled_peak_rss_mib": round(peak, 1),
                **load.result(),
            }
            results["load"]["requests_per_s"] = round(args.requests / results["load"]["wall_s"], 1)
            stop_flag.set()
            subs.join(60)
        finally:
            stop_flag.set()
            proc.terminate()
            proc.wait(30)
            db.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
