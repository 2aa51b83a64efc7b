"""Scalars as this API reads them: every DateTime is UTC.

A DateTime without an offset ("2030-01-01T10:00:00") is read as UTC rather
than kept naive: compared with the service's own aware times, a naive one
would fail (an unexpected error) instead of meaning what a client expects.
Offsets are honoured and converted. The SDL stays Strawberry's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import dateutil.parser
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition


def parse_utc(value: str) -> datetime:
    parsed: datetime = dateutil.parser.isoparse(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 is before the first representable UTC instant.
        raise ValueError(f"{value!r} is out of the representable range") from None


UTC_DATETIME: ScalarDefinition = replace(
    DateTimeDefinition, parse_value=wrap_parser(parse_utc, "DateTime")
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: UTC_DATETIME}
