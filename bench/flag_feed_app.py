"""The production app plus one bare route: the ceiling the flag doors are measured against.

The bare route goes through the same server, middleware and router as the feed, so the
ratio between them is the cost of evaluating flags, not of the stack.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import create_app

CEILING_PATH = "/bench/ceiling"


def _fixed_body() -> dict[str, Any]:
    """A feed-shaped document of about 2.7 kB."""
    flags = {
        f"feature-{n:02d}-rollout": {
            "enabled": True,
            "variant": "treatment" if n % 3 == 0 else None,
            "value": {"colour": "#00f", "limit": 25} if n % 3 == 0 else True,
        }
        for n in range(36)
    }
    return {"revision": 1234, "flags": flags}


FIXED_BODY = _fixed_body()


async def ceiling(_request: Request) -> JSONResponse:
    return JSONResponse(FIXED_BODY)


def create() -> Starlette:
    app = create_app()
    app.router.routes.insert(0, Route(CEILING_PATH, ceiling, methods=["GET"]))
    return app
