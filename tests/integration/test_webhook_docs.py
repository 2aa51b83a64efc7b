"""The verification snippets of docs/webhooks.md, run as written against a real delivery:
the Python one with `standardwebhooks`, the Node one under `node`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import WebhookVerificationError

from tests.support.api import declare, mutate
from tests.support.polling import wait_for
from tests.support.processes import GraphQLClient
from tests.support.receiver import Received, receiving

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
CREATE = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret userErrors { message } }
}"""
NODE_MAIN = """
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { body, headers, secret } = JSON.parse(input);
  console.log(JSON.stringify(receive(body, headers, secret)));
});
"""


def snippet(language: str) -> str:
    section = DOC.read_text().split("## Receiving and verifying", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(rf"```{language}\n(.*?)```", section, re.S)
    return code


@pytest.fixture(scope="module")
def delivery(gql: GraphQLClient) -> Iterator[tuple[Received, str]]:
    with receiving() as receiver:
        hook = f"/{uuid.uuid4().hex[:8]}"
        result = mutate(gql, CREATE, url=receiver.url(hook), eventTypes=["incident.declared"])
        assert result["userErrors"] == []
        incident = declare(gql, title="Docs snippet check")
        wait_for(
            lambda: any(
                r.json()["data"]["incident"]["id"] == incident["id"] for r in receiver.at(hook)
            ),
            30,
        )
        [received] = [
            r for r in receiver.at(hook) if r.json()["data"]["incident"]["id"] == incident["id"]
        ]
        yield received, result["secret"]


def test_the_python_snippet_verifies_a_real_delivery_and_refuses_a_forged_one(
    delivery: tuple[Received, str],
) -> None:
    received, secret = delivery
    namespace: dict[str, Any] = {}
    exec(snippet("python"), namespace)
    event = namespace["receive"](received.body, received.headers, secret)
    assert event["type"] == "incident.declared"
    with pytest.raises(WebhookVerificationError):
        namespace["receive"](received.body.replace(b"Docs", b"Fake"), received.headers, secret)


def run_node(body: str, headers: dict[str, str], secret: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for the Node snippet (.ci/run installs nodejs)"
    stdin = json.dumps({"body": body, "headers": headers, "secret": secret})
    return subprocess.run(
        [node, "-e", snippet("js") + NODE_MAIN],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_node_snippet_verifies_a_real_delivery_and_refuses_a_forged_one(
    delivery: tuple[Received, str],
) -> None:
    received, secret = delivery
    headers = {k.lower(): v for k, v in received.headers.items()}
    done = run_node(received.body.decode(), headers, secret)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["type"] == "incident.declared"
    forged = run_node(received.body.decode().replace("Docs", "Fake"), headers, secret)
    assert forged.returncode != 0 and "invalid webhook signature" in forged.stderr
