"""Playbook templates: an incident declared from a plan, not from nothing.

A template carries what a kind of incident usually is (category, impact,
urgency, labels, services), the roles to fill, a runbook and the task
checklist the team works through. `declareIncident(templateId)` fills what
the caller left out and copies the tasks. The service ships the five
playbooks of the incident process as built-in templates (`BUILTIN`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from incident_service.domain import validation
from incident_service.domain.enums import (
    Impact,
    IncidentCategory,
    IncidentRole,
    Urgency,
    Visibility,
)
from incident_service.domain.errors import validation as invalid
from incident_service.domain.external_links import checked_url
from incident_service.domain.incident import Declaration
from incident_service.domain.tasks import TASKS_MAX, TaskSpec, checked

NAME_MAX = 100
#: Tasks a template may hold (the checklist an incident starts with).
TEMPLATE_TASKS_MAX = 100


@dataclass(frozen=True)
class TemplateSpec:
    """What a user sets on a template."""

    name: str
    description: str | None = None
    category: IncidentCategory = IncidentCategory.OTHER
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    visibility: Visibility = Visibility.INTERNAL
    labels: Sequence[str] = ()
    service_ids: Sequence[str] = ()
    tasks: Sequence[TaskSpec] = ()
    roles: Sequence[IncidentRole] = ()
    runbook_url: str | None = None
    #: Incidents from it are restricted to their participants (domain/restriction.py).
    restricted: bool = False


@dataclass(frozen=True)
class Template:
    id: str
    spec: TemplateSpec
    created_at: datetime
    updated_at: datetime
    version: int = 1
    archived: bool = False
    #: The built-in playbook it started as (None: made by a user).
    builtin: str | None = None
    #: Changed since it was loaded: `templates restore` is the only thing that
    #: overwrites an edited built-in.
    edited: bool = False


def checked_spec(spec: TemplateSpec) -> TemplateSpec:
    """The spec cleaned and bounded; VALIDATION naming the field."""
    name = validation.name(spec.name, "name")
    if len(name) > NAME_MAX:
        raise invalid("name", f"name must be at most {NAME_MAX} characters")
    if len(spec.tasks) > TEMPLATE_TASKS_MAX:
        raise invalid("tasks", f"a template holds at most {TEMPLATE_TASKS_MAX} tasks")
    if spec.restricted and spec.visibility is Visibility.PUBLIC:
        raise invalid("visibility", "a restricted template cannot make public incidents")
    tasks = []
    for task in spec.tasks:
        if task.due_at is not None:
            raise invalid("tasks", "template tasks have no due time (it depends on the incident)")
        tasks.append(checked(task))
    return replace(
        spec,
        name=name,
        description=validation.text(spec.description, "description"),
        labels=tuple(validation.labels(list(spec.labels))),
        service_ids=tuple(dict.fromkeys(spec.service_ids)),
        tasks=tuple(tasks),
        roles=tuple(dict.fromkeys(spec.roles)),
        runbook_url=checked_url(spec.runbook_url, "runbookUrl") if spec.runbook_url else None,
    )


@dataclass(frozen=True)
class Given:
    """Which declaration fields the caller set (the template fills the others)."""

    category: bool = False
    impact: bool = False
    urgency: bool = False
    visibility: bool = False
    description: bool = False
    restricted: bool = False


def fill(cmd: Declaration, template: Template, given: Given) -> Declaration:
    """The declaration with the template's values where the caller gave none; labels and
    services are the union, the caller's first."""
    spec = template.spec
    if template.archived:
        raise invalid("templateId", f"template {spec.name!r} is archived")
    return replace(
        cmd,
        category=cmd.category if given.category else spec.category,
        impact=cmd.impact if given.impact else spec.impact,
        urgency=cmd.urgency if given.urgency else spec.urgency,
        visibility=cmd.visibility if given.visibility else spec.visibility,
        description=cmd.description if given.description else spec.description,
        restricted=cmd.restricted if given.restricted else spec.restricted,
        labels=tuple(dict.fromkeys([*cmd.labels, *spec.labels])),
        service_ids=tuple(dict.fromkeys([*cmd.service_ids, *spec.service_ids])),
    )


@dataclass(frozen=True)
class Builtin:
    key: str
    spec: TemplateSpec = field(compare=False)


def _tasks(*titles: str) -> tuple[TaskSpec, ...]:
    assert len(titles) <= TASKS_MAX
    return tuple(TaskSpec(title) for title in titles)


_RESPONSE_ROLES = (
    IncidentRole.COMMANDER,
    IncidentRole.COMMUNICATIONS_LEAD,
    IncidentRole.SCRIBE,
    IncidentRole.RESPONDER,
)

#: The five situations of the incident process, as playbooks.
BUILTIN: tuple[Builtin, ...] = (
    Builtin(
        "ecommerce-outage",
        TemplateSpec(
            name="E-commerce outage",
            description="The shop, checkout or payments are down or failing for customers.",
            category=IncidentCategory.OUTAGE,
            impact=Impact.HIGH,
            urgency=Urgency.HIGH,
            labels=("playbook:ecommerce-outage",),
            roles=_RESPONSE_ROLES,
            tasks=_tasks(
                "Confirm the outage from the customer's side (synthetic checks, support tickets)",
                "Assign an incident commander and a communications lead",
                "Post a first public update on the status page",
                "Check recent deploys and configuration changes; roll back if one lines up",
                "Check the payment provider's and the hosting provider's status pages",
                "Check the load balancer, application servers and database health",
                "Fail over or scale out to restore service",
                "Verify checkout end to end with a real test order",
                "Post the all-clear with the time window customers were affected",
                "Estimate lost orders and revenue for the postmortem",
            ),
        ),
    ),
    Builtin(
        "ransomware",
        TemplateSpec(
            name="Ransomware / data compromise",
            description="Systems encrypted or data stolen by an attacker. Restricted: only the "
            "people working on it see it.",
            category=IncidentCategory.SECURITY,
            impact=Impact.HIGH,
            urgency=Urgency.HIGH,
            labels=("playbook:ransomware", "security"),
            restricted=True,
            roles=(IncidentRole.COMMANDER, IncidentRole.SCRIBE, IncidentRole.RESPONDER),
            tasks=_tasks(
                "Isolate affected hosts from the network (do not power them off)",
                "Disable compromised accounts and rotate their credentials",
                "Preserve evidence: memory and disk images, logs, the ransom note",
                "Identify the strain and its known decryptors and indicators",
                "Determine the initial access vector and the time of compromise",
                "Assess data exposure: what was read or exfiltrated, and whose data",
                "Notify legal counsel and the data-protection officer",
                "Decide on notifying regulators (72 h under GDPR) and affected people",
                "Check that backups are clean and were not reached by the attacker",
                "Eradicate: rebuild affected systems from known-good images",
                "Restore data from clean backups and verify its integrity",
                "Monitor for reinfection before reconnecting restored systems",
            ),
        ),
    ),
    Builtin(
        "remote-network-failure",
        TemplateSpec(
            name="Network failure for remote staff",
            description="Remote employees cannot reach internal systems (VPN, SSO, network).",
            category=IncidentCategory.NETWORK,
            impact=Impact.MEDIUM,
            urgency=Urgency.HIGH,
            labels=("playbook:remote-network",),
            roles=(*_RESPONSE_ROLES[:2], IncidentRole.RESPONDER),
            tasks=_tasks(
                "Tell staff through a channel that does not need the network (SMS, phone tree)",
                "Find the scope: which offices, regions, ISPs or VPN gateways",
                "Check the VPN concentrators, identity provider and DNS",
                "Check the ISP's and cloud provider's status and open a ticket with them",
                "Fail over to the secondary VPN gateway or ISP link",
                "Give staff a workaround for critical work while it lasts",
                "Confirm with remote staff in each region that access is back",
            ),
        ),
    ),
    Builtin(
        "critical-app-bug",
        TemplateSpec(
            name="Critical application bug",
            description="A software defect degrades a critical application.",
            category=IncidentCategory.SOFTWARE_BUG,
            impact=Impact.MEDIUM,
            urgency=Urgency.MEDIUM,
            labels=("playbook:app-bug",),
            roles=(IncidentRole.COMMANDER, IncidentRole.RESPONDER),
            tasks=_tasks(
                "Reproduce the bug and record the steps",
                "Find the change that introduced it (deploy history, feature flags)",
                "Mitigate: roll back, turn the feature flag off, or route around it",
                "Tell the affected users what works and what does not",
                "Write and review the fix with a regression test",
                "Deploy the fix and watch the error rate and latency",
                "Repair data the bug corrupted, if any",
            ),
        ),
    ),
    Builtin(
        "disaster-recovery",
        TemplateSpec(
            name="Natural disaster / disaster recovery",
            description="A fire, flood or storm damaged a site; run the disaster recovery plan.",
            category=IncidentCategory.DISASTER,
            impact=Impact.HIGH,
            urgency=Urgency.HIGH,
            labels=("playbook:disaster-recovery",),
            roles=_RESPONSE_ROLES,
            tasks=_tasks(
                "Account for the safety of staff at the affected site",
                "Activate the disaster recovery plan and convene the DR team",
                "Assess the damage: which systems, which data, for how long",
                "Fail over to the secondary site",
                "Restore from off-site backups what did not fail over",
                "Verify critical services at the secondary site end to end",
                "Open one incident per affected site and gather them under this one",
                "Communicate to customers, staff and partners on a fixed schedule",
                "Contact insurers and hardware vendors for replacement",
                "Plan and rehearse the return to the primary site",
            ),
        ),
    ),
)


def builtin(key: str) -> Builtin:
    for b in BUILTIN:
        if b.key == key:
            return b
    raise KeyError(key)
