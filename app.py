"""Composition root: builds the Starlette app, the admin and its views from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqladmin import Admin
from starlette.applications import Starlette

import admin_views
import api
from auth.backend import StaffAuthBackend
from core.database import Database
from core.logging import configure_logging
from core.settings import Settings, load_settings

ADMIN_TITLE = "SwipeSavvy Admin"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await database.dispose()

    app = Starlette(routes=api.routes(), lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    admin = Admin(
        app,
        engine=database.engine,
        session_maker=database.sessions,
        base_url="/admin",
        title=ADMIN_TITLE,
        authentication_backend=StaffAuthBackend(settings, database),
    )
    admin_views.register(admin)
    return app
