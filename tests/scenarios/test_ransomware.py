"""Situation 2: ransomware encrypts the file servers and data may have been stolen.

The security lead declares from the "Ransomware / data compromise" playbook,
which restricts the incident: only the people working on it see it. The team
links its evidence and works the containment, eradication and recovery tasks;
a colleague outside the team and the public see nothing, until an ADMIN
lifts the restriction and the company makes a deliberate public statement.
Written up in docs/scenarios.md.
"""

from __future__ import annotations

from tests.scenarios.team import ASSIGN, DECLARE, LINK, NOTE, TASK, TRANSITION, UPDATE, Team
from tests.support.api import mutate
from tests.support.processes import GraphQLClient, ServiceProcess

SHOW = "query($id: ID!) { incident(id: $id) { key title } }"
COUNT = "query($f: IncidentFilter) { incidents(filter: $f) { totalCount } }"
RESTRICT = """mutation($input: SetIncidentRestrictedInput!) { setIncidentRestricted(input: $input)
  { incident { restricted } userErrors { field code message } } }"""
PARTICIPANT = """mutation($input: ParticipantInput!) { addParticipant(input: $input)
  { incident { participants } userErrors { message } } }"""


def test_ransomware_on_the_file_servers(service: ServiceProcess, gql: GraphQLClient) -> None:
    team = Team(service, gql)
    seclead, forensics = team.person("seclead"), team.person("forensics")
    colleague = team.person("colleague", role="VIEWER")
    title = f"File servers encrypted, data possibly exfiltrated {team.tag}"

    with team.customer() as customer:
        incident = seclead.does(
            DECLARE, title=title, templateId=team.template("Ransomware / data compromise")
        )
        assert incident["category"] == "SECURITY"
        seclead.does(ASSIGN, id=incident["id"], role="COMMANDER", user=seclead.actor)
        added = mutate(forensics.api, NOTE, id=incident["id"], body="poke")
        assert added["userErrors"][0]["code"] == "NOT_FOUND"  # not a participant yet
        participants = seclead.api(
            PARTICIPANT, {"input": {"id": incident["id"], "actor": forensics.actor}}
        )["addParticipant"]["incident"]["participants"]
        assert forensics.actor in participants

        # The team works: evidence linked, containment tasks done, notes kept.
        forensics.does(LINK, incidentId=incident["id"], kind="EVIDENCE", title="Disk images",
                       url="https://vault.example.com/cases/ransom-1")  # fmt: skip
        for step in ("Isolate affected hosts", "Preserve evidence", "Identify the strain"):
            task = next(t for t in incident["tasks"] if t["title"].startswith(step))
            forensics.does(TASK, id=task["id"], status="DONE")
        forensics.does(NOTE, id=incident["id"], body=f"LockBit variant {team.tag}; no decryptor")

        # A colleague outside the team: the incident does not exist for them.
        assert colleague.api(SHOW, {"id": incident["id"]})["incident"] is None
        assert colleague.api(COUNT, {"f": {"search": team.tag}})["incidents"]["totalCount"] == 0

        # No public word until an ADMIN lifts the restriction deliberately.
        early = mutate(seclead.api, UPDATE, id=incident["id"], body="x", visibility="PUBLIC")
        assert [e["field"] for e in early["userErrors"]] == [["input", "visibility"]]
        lifted = gql(RESTRICT, {"input": {"id": incident["id"], "restricted": False}})
        assert lifted["setIncidentRestricted"]["incident"] == {"restricted": False}
        seclead.does(
            UPDATE, id=incident["id"], visibility="PUBLIC",
            body="We are responding to a security incident affecting internal file storage.",
        )  # fmt: skip
        customer.sees(lambda p: customer.incident(incident["key"]) is not None)
        customer.never_saw("LockBit", f"{team.tag}; no decryptor", "vault.example.com")

        done = seclead.does(
            TRANSITION, id=incident["id"], to="RESOLVED",
            resolution="Rebuilt from clean images; restored from offline backups",
        )  # fmt: skip
        assert done["status"] == "RESOLVED"
