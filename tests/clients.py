"""HTTP clients for an app built from given settings (production mode, tighter limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from app import create_app
from core.settings import Environment, Settings


@asynccontextmanager
async def client_for(
    settings: Settings, base_url: str = "http://testserver", **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    if overrides.get("env") is Environment.PRODUCTION:
        # Production serves only where it is told it is reached: here, at `base_url`.
        reached = {"public_url": base_url, "allowed_hosts": (httpx.URL(base_url).host,)}
        overrides = reached | overrides
    app = create_app(replace(settings, **overrides))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
    finally:
        await app.state.database.dispose()
