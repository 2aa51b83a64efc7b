"""Playbook templates: what a template fills in, what it refuses, the built-in playbooks."""

from __future__ import annotations

import pytest

from incident_service.domain import templates
from incident_service.domain.enums import Impact, IncidentCategory, Urgency, Visibility
from incident_service.domain.errors import DomainError
from incident_service.domain.incident import Declaration
from incident_service.domain.tasks import TaskSpec
from incident_service.domain.templates import Given, Template, TemplateSpec
from tests.unit.helpers import at

SPEC = TemplateSpec(
    name="Ransomware",
    description="Keep the circle small",
    category=IncidentCategory.SECURITY,
    impact=Impact.HIGH,
    urgency=Urgency.HIGH,
    labels=("security",),
    service_ids=("s1",),
    tasks=(TaskSpec("Isolate hosts"),),
)
TEMPLATE = Template("t1", SPEC, at(0), at(0))


def test_the_template_fills_what_the_caller_left_out() -> None:
    cmd = Declaration(title="Files encrypted", labels=["finance"], service_ids=["s2"])
    filled = templates.fill(cmd, TEMPLATE, Given())
    assert (filled.category, filled.impact, filled.urgency) == (
        IncidentCategory.SECURITY, Impact.HIGH, Urgency.HIGH,
    )  # fmt: skip
    assert filled.description == "Keep the circle small"
    assert list(filled.labels) == ["finance", "security"]
    assert list(filled.service_ids) == ["s2", "s1"]
    assert filled.title == "Files encrypted"


def test_what_the_caller_gave_wins() -> None:
    cmd = Declaration(title="x", impact=Impact.LOW, visibility=Visibility.PUBLIC, description="d")
    filled = templates.fill(cmd, TEMPLATE, Given(impact=True, visibility=True, description=True))
    assert (filled.impact, filled.visibility, filled.description) == (
        Impact.LOW, Visibility.PUBLIC, "d",
    )  # fmt: skip
    assert filled.urgency is Urgency.HIGH


def test_an_archived_template_cannot_be_declared_from() -> None:
    archived = Template("t1", SPEC, at(0), at(0), archived=True)
    with pytest.raises(DomainError) as refused:
        templates.fill(Declaration(title="x"), archived, Given())
    assert refused.value.field == ("input", "templateId")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (TemplateSpec(name=" "), "name"),
        (TemplateSpec(name="x" * 101), "name"),
        (TemplateSpec(name="x", runbook_url="javascript:alert(1)"), "runbookUrl"),
        (TemplateSpec(name="x", tasks=(TaskSpec(""),)), "title"),
        (TemplateSpec(name="x", tasks=tuple(TaskSpec("t") for _ in range(101))), "tasks"),
        (TemplateSpec(name="x", tasks=(TaskSpec("t", due_at=at(1)),)), "tasks"),
        (TemplateSpec(name="x", labels=("",)), "labels"),
    ],
)
def test_a_bad_template_names_the_field(spec: TemplateSpec, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        templates.checked_spec(spec)
    assert refused.value.field == ("input", field)


def test_the_five_playbooks_of_the_process_are_built_in_and_valid() -> None:
    keys = [b.key for b in templates.BUILTIN]
    assert keys == [
        "ecommerce-outage", "ransomware", "remote-network-failure", "critical-app-bug",
        "disaster-recovery",
    ]  # fmt: skip
    for builtin in templates.BUILTIN:
        assert templates.checked_spec(builtin.spec) == builtin.spec, builtin.key
        assert len(builtin.spec.tasks) >= 5 and builtin.spec.roles
    ransomware = [t.title for t in templates.builtin("ransomware").spec.tasks]
    for step in ("Isolate", "Preserve evidence", "strain", "data exposure", "legal",
                 "clean backups"):  # fmt: skip
        assert any(step in title for title in ransomware), step
    dr = [t.title for t in templates.builtin("disaster-recovery").spec.tasks]
    assert any("disaster recovery plan" in t for t in dr)
    assert any("Fail over to the secondary site" in t for t in dr)
