"""The staff API's error body (api/errors.py) and the answers every staff route shares."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from api.operations import Answer
from api.schemas import Absent, left_out_unless


class ApiErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code_field: ClassVar[str] = "error"

    error: str = Field(description="A stable, machine-readable code.")
    message: str = Field(description="What went wrong, for people.")
    fields: dict[str, str] | Absent = left_out_unless(
        "Where the refusal is about fields: each field at fault, by name, with its message."
    )


NOT_SIGNED_IN = Answer(
    "No valid access token, and no admin session.",
    ApiErrorBody,
    codes=("not_authenticated",),
    headers=("WWW-Authenticate",),
)
NO_CSRF_TOKEN = Answer(
    "Sent with the admin session's cookie but without its CSRF token in X-CSRF-Token.",
    ApiErrorBody,
    codes=("csrf_failed",),
)
DATABASE_UNAVAILABLE = Answer(
    "The database is not answering or too slow; nothing was changed.",
    ApiErrorBody,
    codes=("database_unavailable", "database_timeout"),
    headers=("Retry-After", "Cache-Control"),
)
PAYLOAD_TOO_LARGE = Answer(
    "The request body is over the server's limit.", ApiErrorBody, codes=("payload_too_large",)
)
BAD_JSON_BODY = Answer(
    "The body is not JSON, not an object, or a field is missing, mistyped or too long.",
    ApiErrorBody,
    codes=("parse_error", "invalid_request"),
)
