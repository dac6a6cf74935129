"""The mobile flag feed's query and answer (api/flag_feed.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas import Absent, Closed, left_out_unless, one_of
from api.schemas.ofrep import EventStreamEntry, Refetch
from api.schemas.versions import VERSION_OR_EMPTY
from flags.engine import PLATFORMS

MAX_USER_ID = 256
MAX_APP_VERSION = 64
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 256
ATTRIBUTE_PREFIX = "attr."


class FeedQuery(Refetch):
    """The feed's parameters. Attributes for flag rules travel as `attr.<name>=<value>`,
    which a model (and OpenAPI) cannot list: the operation's description tells of them."""

    platform: one_of(["", *PLATFORMS]) = Field(
        "", description="The app's platform; empty is the same as leaving it out."
    )
    app_version: Annotated[str, Field(max_length=MAX_APP_VERSION, pattern=VERSION_OR_EMPTY)] = (
        Field("", description="The app's version, such as 4.2 or 4.2.1-beta.1.")
    )
    user_id: Annotated[str, Field(max_length=MAX_USER_ID)] = Field(
        "", description="The app user, for rollouts, splits and allow/deny lists; empty means none."
    )


class FeedFlag(Closed):
    enabled: Literal[True]
    variant: str | None
    value: Any = Field(description="Any JSON value.")


class FlagFeed(Closed):
    revision: int
    flags: dict[str, FeedFlag]
    eventStreams: list[EventStreamEntry]  # noqa: N815 - OFREP's name, as in its bulk answer
    stale: Literal[True] | Absent = left_out_unless("Present when the flags may be old.")
