"""OFREP's request and answer bodies, named and shaped as the protocol's own document
(open-feature/protocol, service/openapi.yaml) has them, narrowed to what this server says.

Each model's title is the protocol's name, lower camel case, and names its schema in the
generated document; fields keep the protocol's names too.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from api.schemas import Absent, Closed, left_out_unless, one_of
from api.schemas.versions import VERSION_OR_EMPTY
from flags.engine import PLATFORMS, ErrorCode, Reason
from models.flags import FlagType

MAX_TARGETING_KEY = 256
SUPPORTED_TYPES = ("boolean", "string", "int", "float", "object")
Version = Annotated[str, Field(pattern=VERSION_OR_EMPTY)]


class OfrepErrorBody(Closed):
    code_field: ClassVar[str] = "errorCode"

    key: str | Absent = left_out_unless("The flag asked about, where there is one.")
    errorCode: str  # noqa: N815 - the protocol's name
    errorDetails: str  # noqa: N815 - the protocol's name


class Context(BaseModel):
    """The evaluation context: every property but targetingKey is an attribute that flag
    rules can test."""

    model_config = ConfigDict(title="context", extra="allow")

    targetingKey: Annotated[str, Field(max_length=MAX_TARGETING_KEY)] | None = None  # noqa: N815
    platform: one_of(PLATFORMS) | None = None
    appVersion: Version | None = None  # noqa: N815 - the protocol's name
    app_version: Version | None = None


VERSION_ATTRIBUTES = ("appVersion", "app_version")
"""The context's attributes that carry the app's version; the first wins when both are sent."""


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(title="evaluationRequest", extra="allow")

    context: Context = Field(default_factory=Context)


class Metadata(Closed):
    model_config = ConfigDict(title="metadata")

    revision: int
    flagType: one_of(FlagType)  # noqa: N815 - the protocol's name
    stale: Literal[True] | Absent = left_out_unless("Present when the flags may be old.")


class EvaluationSuccess(Closed):
    model_config = ConfigDict(title="evaluationSuccess")

    key: str
    value: Any = Field(description="Any JSON value.")
    reason: one_of(reason for reason in Reason if reason is not Reason.ERROR)
    variant: str
    metadata: Metadata


class EvaluationFailure(Closed):
    model_config = ConfigDict(title="evaluationFailure")

    key: str
    errorCode: one_of([*ErrorCode, "GENERAL"])  # noqa: N815 - the protocol's name
    errorDetails: str  # noqa: N815 - the protocol's name


class EventStreamEntry(Closed):
    """Where to hear of changes (OFREP ADR-0008): an SSE URL carrying the app key's token."""

    model_config = ConfigDict(title="eventStream")

    type: Literal["sse"]
    url: str
    inactivityDelaySec: NonNegativeInt  # noqa: N815 - the protocol's name


class EventStreamQuery(BaseModel):
    """How a stream is opened: at the URL an answer's `eventStreams` gave."""

    token: str | None = Field(
        None,
        description="The app key's stream token, from `eventStreams`; without it the stream "
        "takes the key from X-API-Key or Authorization, as the other flag doors do.",
    )


class Refetch(BaseModel):
    """What a re-fetch an event triggered says of the event (ADR-0008)."""

    flagConfigEtag: str = Field(  # noqa: N815 - the protocol's name
        "",
        description="The etag of the `refetchEvaluation` event that led to this request. A "
        "server that does not serve that version yet looks for it before answering; "
        "leave it out when polling.",
    )


class RefetchEvaluation(Closed):
    """The data of an event stream's `message`: the answers changed, fetch them again."""

    model_config = ConfigDict(title="refetchEvaluation")

    type: Literal["refetchEvaluation"]
    etag: str
    """The environment's flags' version, also the event's id."""
    lastModified: int  # noqa: N815 - the protocol's name
    """Unix seconds when this server first served that version."""


class BulkEvaluationSuccess(Closed):
    model_config = ConfigDict(title="bulkEvaluationSuccess")

    flags: list[EvaluationSuccess | EvaluationFailure]
    eventStreams: list[EventStreamEntry]  # noqa: N815 - the protocol's name


class Polling(Closed):
    enabled: bool
    minPollingIntervalMs: NonNegativeInt  # noqa: N815 - the protocol's name


class CacheInvalidation(Closed):
    polling: Polling


class FlagEvaluation(Closed):
    supportedTypes: list[Literal[SUPPORTED_TYPES]]  # noqa: N815 - the protocol's name


class Capabilities(Closed):
    cacheInvalidation: CacheInvalidation  # noqa: N815 - the protocol's name
    flagEvaluation: FlagEvaluation  # noqa: N815 - the protocol's name


class ConfigurationResponse(Closed):
    model_config = ConfigDict(title="configurationResponse")

    name: str
    capabilities: Capabilities


class FlagKey(BaseModel):
    """The single evaluation's path."""

    key: str = Field(description="The flag's key.")
