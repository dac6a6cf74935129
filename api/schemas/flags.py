"""What the two flag doors share: a version as the engine reads it, and conditional GETs."""

from __future__ import annotations

from pydantic import BaseModel, Field

_NUMBER = "(0|[1-9][0-9]*)"
_PRE = "(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD = "[0-9a-zA-Z-]+"
VERSION = rf"{_NUMBER}(\.{_NUMBER}(\.{_NUMBER})?)?(-{_PRE}(\.{_PRE})*)?(\+{_BUILD}(\.{_BUILD})*)?"
"""A version as `flags.engine.parse_version` reads it: semver's own grammar with optional
minor and patch."""
VERSION_OR_EMPTY = rf"^(|\s*{VERSION}\s*)$"
"""Surrounding whitespace allowed; empty means "not given"."""


class Conditional(BaseModel):
    """The request headers of a GET (or OFREP POST) answered with an ETag."""

    if_none_match: str | None = Field(
        None,
        alias="If-None-Match",
        description="ETags of answers held, comma-separated, or *: 304 when one matches.",
    )
