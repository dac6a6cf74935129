"""Plain Starlette routes beside the admin screens: health probes and the staff JSON API."""

from starlette.routing import BaseRoute

from api import auth, health


def routes() -> list[BaseRoute]:
    return [*health.routes, *auth.routes]
