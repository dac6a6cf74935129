"""Segments through the management API (api/segments.py): a segment with the flags using it,
the pages of the list, and the bodies that create and change one.

A request's fields are the Segments form's, by the same names: the API fills the form in
with them, so every value is checked by the form's, the screen's and the database's rules
and refused with their messages (422, per field). Types and lengths alone are checked here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.bodies import text
from api.schemas import Absent, Closed, left_out_unless, one_of
from flags.definition import KEY

MOST_SEGMENTS = 200
SegmentKey = Annotated[str, Field(max_length=100, pattern=KEY.pattern)]
HOW = ("included", "excluded")


class SegmentPath(BaseModel):
    key: SegmentKey = Field(description="The segment's key, as flags name it.")


class SegmentsQuery(BaseModel):
    after: SegmentKey | None = Field(
        None, description="Segments whose key comes after this one: the `next_after` of a page."
    )
    limit: int = Field(50, ge=1, le=MOST_SEGMENTS, description="At most this many, by key.")


class SegmentFields(BaseModel):
    """A segment's fields as the form takes them; each one left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    name: text(200) | Absent = left_out_unless("What staff call it; unique.")
    description: text(10_000) | Absent = left_out_unless("Who it is, for the people using it.")
    rules: list[Any] | Absent = left_out_unless(
        'Attribute rules, all of which must match: [{"attribute", "operator", "values"}]; '
        "with none, only the allow-list is in the segment."
    )
    allow_list: list[text(64)] | Absent = left_out_unless("User ids always in the segment.")
    deny_list: list[text(64)] | Absent = left_out_unless(
        "User ids never in the segment, whatever else says."
    )


class SegmentCreate(SegmentFields):
    key: text(100) = Field(
        description="1 to 100 lower-case letters, digits, dots, dashes or underscores; fixed "
        "once made: flags name it."
    )
    name: text(200) = Field(description="What staff call it; unique.")


class SegmentPatch(SegmentFields):
    key: text(100) | Absent = left_out_unless("Refused when it differs: a key never changes.")


class UseBody(Closed):
    flag: str = Field(description="The flag's key.")
    environment: str = Field(description="The environment's key.")
    how: one_of(HOW) = Field(  # type: ignore[valid-type]
        description="Whether the flag's state there targets the segment's users or leaves them out."
    )


class SegmentBody(Closed):
    key: str
    name: str
    description: str
    rules: list[Any]
    allow_list: list[str]
    deny_list: list[str]
    revision: int = Field(
        description="Moves on with every change; so does every using flag state's."
    )
    created_at: datetime
    updated_at: datetime
    used_by: list[UseBody] = Field(
        description="The flags' states that include or exclude it, flags by key, "
        "environments in their order: while any does, it cannot be deleted."
    )
    url: str = Field(description="The segment's page in the admin.")


class SegmentList(Closed):
    segments: list[SegmentBody] = Field(description="By key.")
    next_after: str | Absent = left_out_unless(
        "Send as `after` for the next page; absent on the last."
    )
