"""The ceiling the flag doors are measured against: the fastest thing a user could run instead.

A bare Starlette app with one route returning a fixed feed-shaped 2.7 kB JSON body, served by
uvicorn with uvloop and httptools — no middleware, no database, no evaluation. Our `serve`
is measured against it in the same run and pinning (bench/flag_feed.py).

    python -m uvicorn bench.flag_feed_ceiling:app --loop uvloop --http httptools
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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


app = Starlette(routes=[Route(CEILING_PATH, ceiling, methods=["GET"])])
