"""`incidentStats`: counts, MTTA / MTTR and SLA breach rates over a range (docs/reports.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from incident_service import clock
from incident_service.api.context import Info
from incident_service.api.incidents.inputs import IncidentFilter
from incident_service.api.permissions import IsViewer
from incident_service.domain import stats
from incident_service.domain.query import IncidentQuery

StatsDimension = stats.Dimension
strawberry.enum(
    StatsDimension,
    name="StatsDimension",
    description="What incidentStats groups by; SEVERITY is the incident's impact "
    "(HIGH, MEDIUM, LOW), SERVICE counts an incident in each of its services.",
)
StatsBucket = stats.Bucket
strawberry.enum(
    StatsBucket,
    name="StatsBucket",
    description="Calendar buckets of incidentStats in UTC: DAY, WEEK (ISO, from Monday), MONTH.",
)


@strawberry.type(description="A duration over the incidents that have it, in seconds.")
class DurationStats:
    mean: float | None = strawberry.field(
        description="Arithmetic mean; null when no incident has the duration."
    )
    p50: float | None = strawberry.field(
        description="Median (nearest-rank 50th percentile: a duration that occurred)."
    )
    p90: float | None = strawberry.field(
        description="Nearest-rank 90th percentile: 90 % of the durations are at most this."
    )

    @classmethod
    def from_domain(cls, d: stats.Durations) -> DurationStats:
        return cls(mean=d.mean, p50=d.p50, p90=d.p90)


@strawberry.type(description="Share of incidents that breached an SLA target, 0..1.")
class SlaBreachRate:
    acknowledge: float | None = strawberry.field(
        description="Breached acknowledge targets / incidents acknowledged or past their "
        "acknowledge due time; null when there are none."
    )
    resolve: float | None = strawberry.field(
        description="Breached resolve targets / incidents resolved or past their resolve "
        "due time; null when there are none."
    )


@strawberry.interface(description="The numbers of a set of incidents.")
class IncidentSummary:
    count: int = strawberry.field(description="Incidents in the set.")
    open_count: int = strawberry.field(description="Of them, not RESOLVED or CLOSED now.")
    mtta: DurationStats = strawberry.field(
        description="Mean time to acknowledge: clock start (detectedAt) to first acknowledgement."
    )
    mttr: DurationStats = strawberry.field(
        description="Mean time to resolve: clock start to the last resolution, over incidents "
        "RESOLVED or CLOSED now (a reopened one counts once it is resolved again)."
    )
    sla_breach_rate: SlaBreachRate = strawberry.field(
        description="Share of settled SLA outcomes that were breaches."
    )


def _summary_fields(s: stats.Summary) -> dict[str, object]:
    return {
        "count": s.count,
        "open_count": s.open_count,
        "mtta": DurationStats.from_domain(s.mtta),
        "mttr": DurationStats.from_domain(s.mttr),
        "sla_breach_rate": SlaBreachRate(
            acknowledge=s.sla_breach_rate.acknowledge, resolve=s.sla_breach_rate.resolve
        ),
    }


@strawberry.type(description="The incidents declared within one calendar bucket.")
class IncidentStatsBucket(IncidentSummary):
    start: datetime = strawberry.field(
        description="The bucket's first instant (UTC midnight; a Monday for WEEK, the 1st for "
        "MONTH); the first and last buckets may reach outside from .. to."
    )


@strawberry.type(description="The incidents sharing one value of each groupBy dimension.")
class IncidentStatsGroup(IncidentSummary):
    key: list[str | None] = strawberry.field(
        description="One value per groupBy dimension, in its order: a priority, category, "
        "impact or service id; null for SERVICE of an incident without services."
    )


@strawberry.type(description="A report over the incidents declared in from .. to.")
class IncidentStats(IncidentSummary):
    buckets: list[IncidentStatsBucket] = strawberry.field(
        description="Every calendar bucket of the range, oldest first, empty ones included; "
        "empty without `bucket`."
    )
    groups: list[IncidentStatsGroup] = strawberry.field(
        description="One per combination of groupBy values that has incidents, ordered by key; "
        "empty without `groupBy`."
    )

    @classmethod
    def from_domain(cls, r: stats.Report) -> IncidentStats:
        return cls(
            **_summary_fields(r.summary),  # type: ignore[arg-type]
            buckets=[IncidentStatsBucket(start=s, **_summary_fields(b)) for s, b in r.buckets],  # type: ignore[arg-type]
            groups=[IncidentStatsGroup(key=list(k), **_summary_fields(g)) for k, g in r.groups],  # type: ignore[arg-type]
        )


@strawberry.type
class StatsQueries:
    @strawberry.field(
        description="Counts, MTTA, MTTR and SLA breach rates of the incidents matching `filter` "
        "and declared in from .. to (to excluded), optionally per calendar bucket and per group. "
        "Restricted incidents the caller does not take part in count only in a report without "
        "filter, groupBy or bucket. Definitions: docs/reports.md.",
        permission_classes=[IsViewer],
    )
    async def incident_stats(
        self,
        info: Info,
        from_: Annotated[
            datetime, strawberry.argument(name="from", description="Declared at or after this.")
        ],
        to: Annotated[datetime, strawberry.argument(description="Declared before this time.")],
        filter: Annotated[
            IncidentFilter | None, strawberry.argument(description="Only incidents matching it.")
        ] = None,
        group_by: Annotated[
            list[StatsDimension] | None,
            strawberry.argument(description="Group by these dimensions (each at most once)."),
        ] = None,
        bucket: Annotated[
            StatsBucket | None, strawberry.argument(description="Split the range into buckets.")
        ] = None,
    ) -> IncidentStats:
        dims, unit = stats.check_request(
            from_,
            to,
            group_by,
            bucket,
            max_range_days=info.context.settings.stats_max_range_days,
        )
        query = filter.to_query() if filter else IncidentQuery()
        if filter or dims or unit:
            # Restricted incidents the caller does not take part in count in the plain
            # totals of a range only, never in a filtered, grouped or bucketed report
            # (which could tell their category, services or title apart).
            query = info.context.incidents.scoped(query)
        request = stats.StatsRequest(query, from_, to, dims, unit)
        return IncidentStats.from_domain(await info.context.stats.report(request, clock.now()))
