"""The flag doors' own short way through the app.

Millions of devices poll the flag doors, and they need nothing of the staff layers: no
session, no CSRF, no database (they answer from memory), none of the admin's routes — yet
on the app's one stack each layer still costs a call, and the router tries every staff
route before theirs (about half a door's time in-process). Requests under the doors'
prefixes take a stack of their own instead, built from the same layers where the doors
need them: request id and security headers, proxies and allowed hosts, CORS, the body
limit, the API's error answers, and a router holding the doors' routes alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from core import url_paths


class FastDoors:
    """Sends HTTP requests under `prefixes` to `doors`, everything else on down."""

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...], doors: ASGIApp) -> None:
        self.app = app
        self.prefixes = prefixes
        self.doors = doors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.doors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def door_stack(
    routes: Sequence[BaseRoute],
    layers: Sequence[Middleware],
    handlers: Mapping[Any, Any],
) -> ASGIApp:
    """`routes` behind `layers` (outermost first), their errors answered by `handlers`."""
    router = Router(routes=list(routes))
    url_paths.remember(router)
    app: ASGIApp = ExceptionMiddleware(router, handlers=dict(handlers))
    for cls, args, kwargs in reversed(layers):
        app = cls(app, *args, **kwargs)
    return app
