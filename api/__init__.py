"""Plain Starlette routes beside the admin screens."""

from starlette.routing import BaseRoute

from api import health


def routes() -> list[BaseRoute]:
    return [*health.routes]
