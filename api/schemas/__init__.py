"""The JSON API's request and response bodies and query parameters, one module per area.

The routes validate against these models and the OpenAPI document is generated from them;
on the flag doors (hot paths) they document answers rendered without them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict, SkipJsonSchema


class Closed(BaseModel):
    """An answer body: exactly these properties; each is present unless it has a default."""

    model_config = ConfigDict(extra="forbid")


def one_of(values: Any) -> Any:
    """A `Literal` of these values, sorted: enums and constants become the schema's enum."""
    return Literal[tuple(sorted(v.value if isinstance(v, Enum) else v for v in values))]


Absent = SkipJsonSchema[None]
"""`X | Absent`: a property an answer leaves out rather than sending null."""


def left_out_unless(description: str) -> Any:
    """The field of an `X | Absent`: optional, and documented without pydantic's `null`
    default, which no answer carries."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


def _no_default(schema: JsonDict) -> None:
    schema.pop("default", None)


class Conditional(BaseModel):
    """The request headers of an answer with an ETag: the flag doors and this document."""

    if_none_match: str | None = Field(
        None,
        alias="If-None-Match",
        description="ETags of answers held, comma-separated, or *: 304 when one matches.",
    )


class IfMatch(BaseModel):
    """The request header of a change to a record read with an ETag (the management API)."""

    if_match: str | None = Field(
        None,
        alias="If-Match",
        description="The record's ETag as read: the change goes ahead only while it is current.",
    )
