"""Playbook templates in the `incident_templates` collection.

The built-in playbooks are loaded on first start (`ensure_builtin`): each is
inserted once, under its `builtin` key, so a restart never duplicates one and
an edited one is never overwritten. `restore` puts the shipped version back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from incident_service.domain.enums import (
    Impact,
    IncidentCategory,
    IncidentRole,
    Urgency,
    Visibility,
)
from incident_service.domain.errors import conflict, not_found
from incident_service.domain.tasks import TaskSpec
from incident_service.domain.templates import BUILTIN, Template, TemplateSpec
from incident_service.store.codec import Doc
from incident_service.store.database import Database


def _to_doc(t: Template) -> Doc:
    s = t.spec
    return {
        "_id": t.id,
        "name": s.name,
        "description": s.description,
        "category": s.category.value,
        "impact": s.impact.value,
        "urgency": s.urgency.value,
        "visibility": s.visibility.value,
        "labels": list(s.labels),
        "serviceIds": list(s.service_ids),
        "tasks": [{"title": x.title, "description": x.description, "assignee": x.assignee}
                  for x in s.tasks],
        "roles": [r.value for r in s.roles],
        "runbookUrl": s.runbook_url,
        "restricted": s.restricted,
        "createdAt": t.created_at,
        "updatedAt": t.updated_at,
        "version": t.version,
        "archived": t.archived,
        "builtin": t.builtin,
        "edited": t.edited,
    }  # fmt: skip


def _from_doc(d: Doc) -> Template:
    tasks: list[Any] = d.get("tasks", [])
    spec = TemplateSpec(
        name=d["name"],
        description=d.get("description"),
        category=IncidentCategory(d["category"]),
        impact=Impact(d["impact"]),
        urgency=Urgency(d["urgency"]),
        visibility=Visibility(d["visibility"]),
        labels=tuple(d.get("labels", ())),
        service_ids=tuple(d.get("serviceIds", ())),
        tasks=tuple(TaskSpec(x["title"], x.get("description"), x.get("assignee")) for x in tasks),
        roles=tuple(IncidentRole(r) for r in d.get("roles", ())),
        runbook_url=d.get("runbookUrl"),
        restricted=d.get("restricted", False),
    )
    return Template(
        id=d["_id"], spec=spec, created_at=d["createdAt"], updated_at=d["updatedAt"],
        version=d["version"], archived=d.get("archived", False), builtin=d.get("builtin"),
        edited=d.get("edited", False),
    )  # fmt: skip


class TemplateStore:
    def __init__(self, database: Database) -> None:
        self._templates = database.collection("incident_templates")

    async def ensure_builtin(self, now: datetime) -> int:
        """Insert the built-in playbooks that are not there yet; how many were."""
        added = 0
        for builtin in BUILTIN:
            template = Template(str(ObjectId()), builtin.spec, now, now, builtin=builtin.key)
            try:
                result = await self._templates.update_one(
                    {"builtin": builtin.key},
                    {"$setOnInsert": _to_doc(template)},
                    upsert=True,
                )
            except DuplicateKeyError:
                continue  # another replica loaded it at the same moment
            added += result.upserted_id is not None
        return added

    async def restore(self, now: datetime) -> list[str]:
        """Put every built-in playbook back as shipped (edits lost, unarchived); the
        names of those that changed."""
        await self.ensure_builtin(now)
        restored = []
        for builtin in BUILTIN:
            doc = await self._templates.find_one({"builtin": builtin.key})
            if doc is None:
                continue
            current = _from_doc(doc)
            if current.spec == builtin.spec and not current.archived and not current.edited:
                continue
            fresh = replace(
                current, spec=builtin.spec, updated_at=now, version=current.version + 1,
                archived=False, edited=False,
            )  # fmt: skip
            await self._templates.replace_one({"_id": current.id}, _to_doc(fresh))
            restored.append(builtin.spec.name)
        return restored

    async def create(self, spec: TemplateSpec, now: datetime) -> Template:
        template = Template(str(ObjectId()), spec, now, now)
        await self._templates.insert_one(_to_doc(template))
        return template

    async def get(self, template_id: str) -> Template | None:
        doc = await self._templates.find_one({"_id": template_id})
        return _from_doc(doc) if doc else None

    async def require(self, template_id: str, field: str = "id") -> Template:
        found = await self.get(template_id) if ObjectId.is_valid(template_id) else None
        if found is None:
            raise not_found("incident template", field)
        return found

    async def all(self, include_archived: bool) -> list[Template]:
        query: Doc = {} if include_archived else {"archived": False}
        docs = await self._templates.find(query).sort([("name", 1), ("_id", 1)]).to_list()
        return [_from_doc(d) for d in docs]

    async def save(
        self, before: Template, after: Template, expected_version: int | None
    ) -> Template:
        """Write `after` over `before` (version + 1); CONFLICT if it moved meanwhile or is
        not at `expected_version`."""
        if expected_version is not None and expected_version != before.version:
            raise conflict(expected_version, before.version)
        after = replace(after, version=before.version + 1, edited=before.builtin is not None)
        result = await self._templates.replace_one(
            {"_id": before.id, "version": before.version}, _to_doc(after)
        )
        if result.matched_count == 0:
            fresh = await self.get(before.id)
            raise conflict(before.version, fresh.version if fresh else -1)
        return after
