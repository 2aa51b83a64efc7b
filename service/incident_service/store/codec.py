"""Domain objects <-> MongoDB documents. Field names in the database are camelCase."""

from __future__ import annotations

from typing import Any

from incident_service.domain.enums import (
    ComponentStatus,
    Impact,
    IncidentCategory,
    IncidentRole,
    IncidentStatus,
    LinkKind,
    TaskStatus,
    Urgency,
    Visibility,
)
from incident_service.domain.external_links import ExternalLink, ExternalLinkKind
from incident_service.domain.impacts import ComponentImpact, active
from incident_service.domain.incident import (
    Event,
    Incident,
    IncidentLink,
    RoleAssignment,
    field_name,
    json_value,
    viewers,
)
from incident_service.domain.service import Service
from incident_service.domain.tasks import Task

#: A MongoDB document as the driver hands it over.
Doc = dict[str, Any]

_TIMES = (
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "identified_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
    "updated_at",
)


def incident_to_doc(i: Incident) -> Doc:
    doc: Doc = {
        "_id": i.id,
        "number": i.number,
        "key": i.key,
        "title": i.title,
        "description": i.description,
        "status": i.status.value,
        "publicStatus": i.public_status.value,
        "open": i.is_open,
        "category": i.category.value,
        "impact": i.impact.value,
        "urgency": i.urgency.value,
        "priority": i.priority.value,
        "visibility": i.visibility.value,
        "serviceIds": list(i.service_ids),
        "labels": list(i.labels),
        "roles": [
            {"role": r.role.value, "user": r.user, "assignedAt": r.assigned_at} for r in i.roles
        ],
        "parentId": i.parent_id,
        "templateId": i.template_id,
        "restricted": i.restricted,
        "participants": list(i.participants),
        # Who sees it while restricted, denormalised for the list filter.
        "viewers": list(viewers(i)),
        "tasks": [_task_to_doc(t) for t in i.tasks],
        "externalLinks": [
            {
                "id": x.id,
                "url": x.url,
                "title": x.title,
                "kind": x.kind.value,
                "addedAt": x.added_at,
                "addedBy": x.added_by,
            }
            for x in i.external_links
        ],
        "links": [
            {"kind": x.kind.value, "incidentId": x.incident_id, "linkedAt": x.linked_at}
            for x in i.links
        ],
        "componentImpacts": [
            {
                "serviceId": c.service_id,
                "status": c.status.value,
                "startedAt": c.started_at,
                "endedAt": c.ended_at,
            }
            for c in i.component_impacts
        ],
        # Indexed: the open incidents holding a component, for its derived status.
        "activeImpactServiceIds": sorted(active(i.component_impacts)),
        "rootCause": i.root_cause,
        "resolution": i.resolution,
        "declaredBy": i.declared_by,
        "slaMarks": list(i.sla_marks),
        # Indexed: the "breached" and "about to breach" filters.
        "slaBreached": i.sla_breached,
        "slaDueAt": i.sla_due_at,
        "version": i.version,
        "lastSeq": i.last_seq,
    }
    for name in _TIMES:
        doc[field_name(name)] = getattr(i, name)
    if i.idempotency_key is not None:
        doc["idempotencyKey"] = i.idempotency_key
        doc["idempotencyFingerprint"] = i.idempotency_fingerprint
    if i.alert_group is not None:
        doc["alertGroup"] = i.alert_group
    return doc


def incident_from_doc(d: Doc) -> Incident:
    times: dict[str, Any] = {name: d.get(field_name(name)) for name in _TIMES}
    return Incident(
        id=d["_id"],
        number=d["number"],
        title=d["title"],
        description=d.get("description"),
        status=IncidentStatus(d["status"]),
        category=IncidentCategory(d["category"]),
        impact=Impact(d["impact"]),
        urgency=Urgency(d["urgency"]),
        visibility=Visibility(d.get("visibility", "INTERNAL")),
        service_ids=tuple(d.get("serviceIds", ())),
        labels=tuple(d.get("labels", ())),
        roles=tuple(
            RoleAssignment(IncidentRole(r["role"]), r["user"], r["assignedAt"])
            for r in d.get("roles", ())
        ),
        parent_id=d.get("parentId"),
        template_id=d.get("templateId"),
        restricted=d.get("restricted", False),
        participants=tuple(d.get("participants", ())),
        tasks=tuple(_task_from_doc(t) for t in d.get("tasks", ())),
        external_links=tuple(
            ExternalLink(
                x["id"],
                x["url"],
                x["title"],
                ExternalLinkKind(x["kind"]),
                x["addedAt"],
                x["addedBy"],
            )
            for x in d.get("externalLinks", ())
        ),
        links=tuple(
            IncidentLink(LinkKind(x["kind"]), x["incidentId"], x["linkedAt"])
            for x in d.get("links", ())
        ),
        component_impacts=tuple(
            ComponentImpact(
                c["serviceId"], ComponentStatus(c["status"]), c["startedAt"], c.get("endedAt")
            )
            for c in d.get("componentImpacts", ())
        ),
        root_cause=d.get("rootCause"),
        resolution=d.get("resolution"),
        declared_by=d.get("declaredBy", "unknown"),
        idempotency_key=d.get("idempotencyKey"),
        idempotency_fingerprint=d.get("idempotencyFingerprint"),
        alert_group=d.get("alertGroup"),
        sla_marks=tuple(d.get("slaMarks", ())),
        sla_due_at=d.get("slaDueAt"),
        version=d["version"],
        last_seq=d["lastSeq"],
        **times,
    )


def event_to_doc(e: Event) -> Doc:
    return {
        "incidentId": e.incident_id,
        "seq": e.seq,
        "type": e.type,
        "at": e.at,
        "actor": e.actor,
        "visibility": e.visibility.value,
        "message": e.message,
        "data": e.data,
        **({"occurredAt": e.occurred_at} if e.occurred_at is not None else {}),
    }


def event_from_doc(d: Doc) -> Event:
    return Event(
        incident_id=d["incidentId"],
        seq=d["seq"],
        type=d["type"],
        at=d["at"],
        actor=d["actor"],
        visibility=Visibility(d["visibility"]),
        message=d.get("message"),
        # Events stored before event data held only JSON types may carry dates:
        # converted once here, not for every reader of the event.
        data=json_value(d.get("data") or {}),
        occurred_at=d.get("occurredAt"),
    )


def service_to_doc(s: Service) -> Doc:
    return {
        "_id": s.id,
        "name": s.name,
        "description": s.description,
        "status": s.status.value,
        "manualStatus": s.manual_status.value,
        "statusReason": s.status_reason,
        "public": s.public,
        "group": s.group,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "version": s.version,
    }


def service_from_doc(d: Doc) -> Service:
    status = ComponentStatus(d["status"])
    return Service(
        id=d["_id"],
        name=d["name"],
        description=d.get("description"),
        status=status,
        # Services stored before derived status had only a manual status.
        manual_status=ComponentStatus(d.get("manualStatus", status)),
        status_reason=d.get("statusReason", None if "manualStatus" in d else _legacy(status)),
        public=d.get("public", True),
        group=d.get("group"),
        created_at=d["createdAt"],
        updated_at=d["updatedAt"],
        version=d.get("version", 1),
    )


def _legacy(status: ComponentStatus) -> str | None:
    return None if status is ComponentStatus.OPERATIONAL else "manual"


def _task_to_doc(t: Task) -> Doc:
    return {
        "id": t.id,
        "title": t.title,
        "status": t.status.value,
        "order": t.order,
        "createdAt": t.created_at,
        "description": t.description,
        "assignee": t.assignee,
        "dueAt": t.due_at,
        "doneAt": t.done_at,
        "doneBy": t.done_by,
    }


def _task_from_doc(d: Doc) -> Task:
    return Task(
        id=d["id"],
        title=d["title"],
        status=TaskStatus(d["status"]),
        order=d["order"],
        created_at=d["createdAt"],
        description=d.get("description"),
        assignee=d.get("assignee"),
        due_at=d.get("dueAt"),
        done_at=d.get("doneAt"),
        done_by=d.get("doneBy"),
    )
