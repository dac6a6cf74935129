"""What each JSON API operation is, declared beside its route: the route is made from it and
the OpenAPI document (api/openapi.py) is generated from it.

An operation names its method, path, endpoint, the pydantic models of its query, path and
header parameters and of its body, and each status it answers with its body's model.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Security = tuple[str, ...]
"""Schemes any one of which lets a request in (components.securitySchemes); empty: open."""
STAFF: Security = ("staffBearer", "staffSession")
APP: Security = ("appKey", "appBearer")
PUBLIC: Security = ()

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "Strong validator of this answer: send it back in If-None-Match.",
        "schema": {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
    },
    "Cache-Control": {
        "description": "How long and by whom this answer may be kept.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWW-Authenticate": {
        "description": "The scheme to sign in with: Bearer.",
        "schema": {"type": "string"},
    },
}
"""Response headers an answer may name, described once."""
CACHED = ("ETag", "Cache-Control")
CONVERTER = re.compile(r"{(\w+):\w+}")


@dataclass(frozen=True)
class Answer:
    """One status of an operation: what it means, its body's model, its headers."""

    description: str
    body: type[BaseModel] | None = None
    codes: tuple[str, ...] = ()
    """For an error body: the codes this answer can carry (the model's `code_field`)."""
    required: tuple[str, ...] = ()
    """Properties the model leaves optional that this answer always has."""
    headers: tuple[str, ...] = ()
    """Names in HEADERS."""
    media_type: str = "application/json"
    """The body's type; an event stream's `body` models each event's data."""

    def __post_init__(self) -> None:
        # Checked when the module is imported, so a slip stops the app, not a reader.
        unknown = set(self.headers) - set(HEADERS)
        assert not unknown, f"{self.description!r}: no header {sorted(unknown)} in HEADERS"
        assert not self.codes or self.code_field, f"{self.description!r}: codes need a code_field"

    @property
    def code_field(self) -> str | None:
        """The body's property that holds an error code, declared on its model."""
        return getattr(self.body, "code_field", None)


NOT_MODIFIED = Answer("The answer held (If-None-Match) is still current.", headers=CACHED)


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One method on one path: its route and its part of the document."""

    method: str
    path: str
    """As routed, converters included (`{key:flag_key}`)."""
    name: str
    """The route's name and the document's operationId."""
    summary: str
    tag: str
    responses: Mapping[int, Answer]
    security: Security
    endpoint: Callable[[Request], Awaitable[Response]]
    description: str | None = None
    query: type[BaseModel] | None = None
    """Each field a query parameter, by its alias."""
    path_params: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    """Request headers, as `If-None-Match`; credentials are the `security` schemes'."""
    body: type[BaseModel] | None = None
    """The JSON request body, read in validation mode; answers are documented as written."""
    body_required: bool = True

    @property
    def documented_path(self) -> str:
        return CONVERTER.sub(r"{\1}", self.path)

    def route(self) -> Route:
        return Route(self.path, self.endpoint, methods=[self.method], name=self.name)
