"""Feature flags through the management API (api/flags.py): a flag with every environment's
state, the pages of the list, and the bodies that create and change one.

A request's fields are the flag form's, by the same names: the API fills the form in with
them, so every value is checked by the form's, the screen's and the database's rules and
refused with their messages (422, per field). Types and lengths alone are checked here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.bodies import text
from api.schemas import Absent, Closed, left_out_unless, one_of
from flags.definition import KEY
from models.flags import PRODUCTION, FlagType

MOST_FLAGS = 200
NULLABLE = frozenset(
    {"min_app_version", "max_app_version", "default_value", "starts_at", "ends_at"}
)
"""A request's fields that may be sent as null (none); any other must have a value."""
ENVIRONMENT = r"^[a-z0-9][a-z0-9._-]{0,39}$"
FlagKey = Annotated[str, Field(max_length=100, pattern=KEY.pattern)]
Percent = Annotated[
    Decimal,
    Field(
        allow_inf_nan=False,
        description="Percent of users, 0 to 100, two places.",
    ),
]
ExactPercent = Annotated[
    str,
    Field(
        description="Percent of users, as text so no digit is lost.", pattern=r"^[0-9]+\.[0-9]+$"
    ),
]


class FlagPath(BaseModel):
    key: FlagKey = Field(description="The flag's key, as the app asks for it.")


class FlagsQuery(BaseModel):
    after: FlagKey | None = Field(
        None, description="Flags whose key comes after this one: the `next_after` of a page."
    )
    limit: int = Field(50, ge=1, le=MOST_FLAGS, description="At most this many, by key.")
    flag_type: one_of(FlagType) | None = Field(  # type: ignore[valid-type]
        None, description="Only flags of this type."
    )
    enabled: bool | None = Field(None, description="Only flags on (true) or off (false)…")
    archived: bool = Field(False, description="Archived flags instead of live ones.")
    stale: bool | None = Field(None, description="Only stale flags (true), or only fresh ones.")
    environment: Annotated[str, Field(max_length=40, pattern=ENVIRONMENT)] = Field(
        PRODUCTION, description="…in this environment."
    )


class StateFields(BaseModel):
    """A state's fields as the form takes them; each one left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | Absent = left_out_unless("On or off; turning a flag off never waits.")
    rollout_percentage: Percent | Absent = left_out_unless("Share of users who get it, 0 to 100.")
    platforms: list[text(16)] | Absent = left_out_unless("ios, android, web; empty means all.")
    min_app_version: text(32) | None = left_out_unless("Lowest app version, e.g. 4.2.0.")
    max_app_version: text(32) | None = left_out_unless("Highest app version.")
    allow_list: list[text(64)] | Absent = left_out_unless("User ids that always get it.")
    deny_list: list[text(64)] | Absent = left_out_unless("User ids that never get it.")
    rules: list[Any] | Absent = left_out_unless(
        'Attribute rules, all of which must match: [{"attribute", "operator", "values"}].'
    )
    variants: list[Any] | Absent = left_out_unless(
        'Weighted variants: [{"name", "weight", "payload"}]. Outside production only '
        "weights and payloads change: the names are the flag's."
    )
    default_value: Any = left_out_unless("What users outside the rollout get; any JSON.")
    starts_at: datetime | None = left_out_unless("Off before this moment (to the second).")
    ends_at: datetime | None = left_out_unless("Off from this moment (to the second).")
    included_segments: list[text(100)] | Absent = left_out_unless(
        "Segments (by key) whose users it targets too."
    )
    excluded_segments: list[text(100)] | Absent = left_out_unless(
        "Segments (by key) whose users never get it."
    )
    prerequisites: list[Any] | Absent = left_out_unless(
        'Flags it requires for the same user: [{"flag": key, "variant"?: name}].'
    )


class FlagFields(StateFields):
    """The flag's own fields, shared by every environment."""

    name: text(200) | Absent = left_out_unless("What staff call it.")
    description: text(10_000) | Absent = left_out_unless("What it is for.")
    flag_type: one_of(FlagType) | Absent = left_out_unless(  # type: ignore[valid-type]
        "release, experiment, operational, kill_switch or permission."
    )
    requires_review: bool | Absent = left_out_unless(
        "Changes wait for a second staff member's approval."
    )
    reason: text(500) | Absent = left_out_unless(
        "Why: needed (5 characters or more) when the change waits for a second person, "
        "who reads it; kept in the audit trail."
    )


class FlagCreate(FlagFields):
    key: text(100) = Field(
        description="1 to 100 lower-case letters, digits, dots, dashes or underscores; fixed "
        "once made: the app asks for it."
    )
    name: text(200) = Field(description="What staff call it.")


class FlagPatch(FlagFields):
    environment: Annotated[str, Field(max_length=40, pattern=ENVIRONMENT)] = Field(
        PRODUCTION,
        description="The environment whose state changes; the flag's own fields (name, "
        "description, type, review) change with production's only.",
    )
    key: text(100) | Absent = left_out_unless("Refused when it differs: a key never changes.")


class StateBody(Closed):
    enabled: bool
    rollout_percentage: ExactPercent
    platforms: list[str]
    min_app_version: str | None
    max_app_version: str | None
    allow_list: list[str]
    deny_list: list[str]
    rules: list[Any]
    variants: list[Any]
    default_value: Any = Field(description="Any JSON value, null for none.")
    starts_at: datetime | None
    ends_at: datetime | None
    included_segments: list[str]
    excluded_segments: list[str]
    prerequisites: list[Any]
    revision: int = Field(description="Moves on with every change of this state.")


class FlagBody(Closed):
    key: str
    name: str
    description: str
    flag_type: one_of(FlagType)  # type: ignore[valid-type]
    requires_review: bool
    archived_at: datetime | None = Field(
        description="When it was archived: no app is served it. Null while live."
    )
    stale_because: str | None = Field(
        description="Why it is time to remove it (past its type's lifetime, fully on or off "
        "in production for 30 days, or not evaluated by the feed or OFREP for 30 days); null "
        "while it is not stale."
    )
    created_at: datetime
    updated_at: datetime
    environments: dict[str, StateBody] = Field(
        description="Its state in each environment, by the environment's key."
    )
    url: str = Field(description="The flag's page in the admin.")


class FlagList(Closed):
    flags: list[FlagBody] = Field(description="By key.")
    next_after: str | Absent = left_out_unless(
        "Send as `after` for the next page; absent on the last."
    )
