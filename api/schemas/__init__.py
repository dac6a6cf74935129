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


def _no_default(schema: JsonDict) -> None:
    schema.pop("default", None)


Flag = Literal[True] | SkipJsonSchema[None]
"""Present (and true) or left out: rendered with `exclude_none`, or by hand."""


def present_when(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra=_no_default)
