"""CORS for some paths only: the flag doors a web app on another origin calls.

The admin and the staff API never answer CORS: a page on another origin must not read what a
signed-in staff member's cookie would fetch. The flag doors hold no cookie-bound data (app
keys travel in headers), so the origins in FLAGS_CORS_ORIGINS may call them.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PREFLIGHT_MAX_AGE_S = 86_400
"""Browsers keep a preflight's answer this long (Chromium caps it at two hours)."""


class PathCorsMiddleware:
    """Starlette's CORS answers, for requests under `prefixes`; other paths pass as they
    came, with no CORS header at all."""

    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str], origins: Sequence[str]) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "If-None-Match", "Authorization", "X-API-Key"],
            expose_headers=["ETag"],
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
