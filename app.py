"""Composition root: builds the Starlette app, its middleware, the admin and its views."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

import admin_views
import api
from admin_views.shared import four_eyes
from admin_views.site import STATIC_FILES, STATIC_URL, StaffAdmin
from api.errors import ApiError, api_error, http_error
from auth.middleware import CsrfMiddleware, StaffSessionMiddleware
from core import hosts, url_paths
from core.body_limit import BodyLimitMiddleware
from core.cors import PathCorsMiddleware
from core.database import Database
from core.fast_doors import FastDoors, door_stack
from core.logging import configure_logging
from core.middleware import SecurityHeadersMiddleware
from core.outage import DatabaseOutageMiddleware
from core.settings import Settings, load_settings
from flags.client_keys import doors_line
from flags.store import FlagStore
from jobs import analytics_refresh, campaign_schedule

log = logging.getLogger(__name__)


def cors_middleware(settings: Settings) -> list[Middleware]:
    """CORS on the flag doors for FLAGS_CORS_ORIGINS; none when it names no origin."""
    if not settings.flags_cors_origins:
        return []
    return [
        Middleware(PathCorsMiddleware, prefixes=api.FLAG_DOORS, origins=settings.flags_cors_origins)
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    settings.check_serving()
    configure_logging(settings.log_level)
    database = Database(settings)

    flag_store = FlagStore(
        database,
        default_environment=settings.flags_environment,
        stream_limit=settings.flag_stream_limit,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await flag_store.refresh(force=True)
        log.log(*doors_line(settings, flag_store.snapshot))
        # Startup built a large, permanent heap (views, forms, templates, mappers); frozen,
        # the collector stops rescanning it, which took tens of ms per full collection.
        gc.collect()
        gc.freeze()
        background = [
            asyncio.create_task(flag_store.run()),
            asyncio.create_task(campaign_schedule.run_forever(database)),
            asyncio.create_task(analytics_refresh.run_forever(database)),
        ]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await database.dispose()

    # Every response passes these first: who asks, for which host, with which headers.
    edge = [
        Middleware(SecurityHeadersMiddleware, production=settings.is_production),
        # Before anything reads the client's address or the request's URL.
        *hosts.middleware(settings),
    ]
    body_limit = Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    handlers = {ApiError: api_error, HTTPException: http_error}
    routes = api.routes()
    doors = door_stack(
        [route for route in routes if getattr(route, "path", "").startswith(api.FLAG_DOORS)],
        [*edge, *cors_middleware(settings), body_limit],
        handlers,
    )
    app = Starlette(
        routes=[*routes, Mount(STATIC_URL, StaticFiles(directory=STATIC_FILES), name="static")],
        middleware=[
            Middleware(FastDoors, prefixes=api.FLAG_DOORS, doors=doors),
            *edge,
            body_limit,
            # Outside the session middleware: its own lookups need the database too.
            Middleware(DatabaseOutageMiddleware),
            Middleware(
                StaffSessionMiddleware,
                settings=settings,
                database=database,
                alongside={four_eyes.WAITING: four_eyes.waiting_by_permission},
            ),
            Middleware(CsrfMiddleware, settings=settings),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.flags = flag_store
    admin = StaffAdmin(app, settings=settings, database=database)
    admin_views.register(admin)
    url_paths.remember(app.router)
    # The JSON search door searches the same screens as the admin's search box.
    app.state.admin = admin
    return app
