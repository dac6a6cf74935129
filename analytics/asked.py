"""What a dashboard request asks for: the period and currency its figures cover, read from
the query string by the same rules for the pages and the JSON API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from analytics.period import MAX_DAYS, PRESETS, BadPeriodError, Period, period_from
from models.base import utcnow

CURRENCY = re.compile(r"[A-Z]{3}")
DEFAULT_CURRENCY = "USD"
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
"""The days a range may name: the figures step whole periods and weeks either side of it,
which near the ends of `date`'s own range overflow."""
DAY_IN_RANGE = "^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"
"""FIRST_DAY to LAST_DAY as a pattern; the calendar itself is the `date` format's part."""


def _days(value: Any) -> int:
    # Compared as text: int() takes digits such as '²', and ' 7' or '07'.
    if value not in {str(days) for days in PRESETS}:
        raise PydanticCustomError(
            "bad_query", f"days must be one of {', '.join(map(str, PRESETS))}."
        )
    return int(value)


def _day(value: Any) -> date:
    # Only YYYY-MM-DD: date.fromisoformat also takes forms like 20261101.
    try:
        day = date.fromisoformat(value) if DAY.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise PydanticCustomError("bad_query", "from and to must both be dates like 2026-11-01.")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "bad_query", f"from and to must be between {FIRST_DAY} and {LAST_DAY}."
        )
    return day


def _currency(value: Any) -> str:
    if not CURRENCY.fullmatch(value):
        raise PydanticCustomError("bad_query", "currency must be a three-letter code such as USD.")
    return value


Day = Annotated[
    date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_IN_RANGE}),
]


class DashboardQuery(BaseModel):
    """Every parameter given is checked, even one that another overrides."""

    days: Annotated[Literal[PRESETS], BeforeValidator(_days)] = Field(
        30,
        description="The range: this many days ending today (UTC). Checked even when from "
        "and to are given, which then take its place.",
    )
    first: Day | None = Field(
        None,
        alias="from",
        description=f"First day of the range (UTC), with to; from {FIRST_DAY} to {LAST_DAY}, "
        f"at most {MAX_DAYS} days before to.",
    )
    last: Day | None = Field(None, alias="to", description="Last day of the range, with from.")
    currency: Annotated[
        str,
        BeforeValidator(_currency),
        WithJsonSchema({"type": "string", "pattern": f"^{CURRENCY.pattern}$"}),
    ] = Field(DEFAULT_CURRENCY, description="The currency money figures are in.")


class BadQueryError(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


def read_query(params: Mapping[str, str]) -> tuple[Period, str]:
    """The period and currency a dashboard request asks for."""
    try:
        query = DashboardQuery.model_validate(dict(params))
    except ValidationError as invalid:
        raise BadQueryError(invalid.errors()[0]["msg"]) from None
    try:
        period = period_from(params, utcnow().date())
    except BadPeriodError as error:
        raise BadQueryError(str(error)) from None
    return period, query.currency
