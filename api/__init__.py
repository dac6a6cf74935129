"""Plain Starlette routes beside the admin screens: health, the staff API, the flag feeds.

Each area declares its operations (api/operations.py); the routes and the OpenAPI document
are both made from them.
"""

from starlette.routing import BaseRoute

from api import (
    actions,
    approvals,
    auth,
    dashboard,
    event_stream,
    flag_feed,
    flags,
    health,
    ofrep,
    openapi,
    search,
    segments,
)
from api.operations import Operation

FLAG_DOORS = ("/ofrep/", "/api/feature-flags/")
"""Where the flag doors are: the only paths that answer CORS (FLAGS_CORS_ORIGINS)."""


def operations() -> list[Operation]:
    served = [
        *health.operations,
        *auth.operations,
        *dashboard.operations,
        *search.operations,
        *actions.operations,
        *approvals.operations,
        *flags.operations,
        *segments.operations,
        *flag_feed.operations,
        *ofrep.operations,
        *event_stream.operations,
    ]
    return [*served, openapi.serving(served)]


def routes() -> list[BaseRoute]:
    return [operation.route() for operation in operations()]
