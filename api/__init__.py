"""Plain Starlette routes beside the admin screens: health, the staff API, the flag feeds."""

from starlette.routing import BaseRoute

from api import auth, dashboard, flag_feed, health, ofrep, openapi


def routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *auth.routes,
        *dashboard.routes,
        *flag_feed.routes,
        *ofrep.routes,
        *openapi.routes,
    ]
