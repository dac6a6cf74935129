"""The admin site: SQLAdmin with our sign-in, permissions, templates, and POST-only changes."""

from __future__ import annotations

from pathlib import Path
from types import MethodType

from sqladmin import Admin, BaseView, ModelView
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from auth.authorization import StaffAuthorization
from auth.backend import StaffAuthBackend
from auth.middleware import csrf_token_for, current_staff
from core.database import Database
from core.settings import Settings

TITLE = "SwipeSavvy Admin"
TEMPLATES = Path(__file__).parent / "templates"
STATIC_URL = "/static"
STATIC_FILES = Path(__file__).parent / "static"


class StaffAdmin(Admin):
    """SQLAdmin at /admin, where nothing that changes data answers a GET.

    Stock SQLAdmin signs out and runs `@action`s on GET; here both take POST only, so the
    CSRF middleware sees them.
    """

    def __init__(self, app: Starlette, *, settings: Settings, database: Database) -> None:
        # A sessionmaker of our own: SQLAdmin reconfigures the one it is given.
        session_maker = async_sessionmaker(database.engine, expire_on_commit=False)
        super().__init__(
            app,
            session_maker=session_maker,
            base_url="/admin",
            title=TITLE,
            favicon_url=f"{STATIC_URL}/favicon.svg",
            templates_dir=str(TEMPLATES),
            authorization_backend=StaffAuthorization(),
        )
        self.authentication_backend = StaffAuthBackend(settings, database, self.templates)
        self.admin.state.settings = settings
        self.admin.state.database = database
        self.templates.env.globals["csrf_token"] = lambda request: csrf_token_for(request, settings)
        self.templates.env.globals["current_staff"] = current_staff
        self.templates.env.globals["static_url"] = lambda path: f"{STATIC_URL}/{path}"
        self._post_only("logout")

    def _post_only(self, name: str) -> None:
        for route in self.admin.router.routes:
            if isinstance(route, Route) and route.name == name:
                route.methods = {"POST"}
                return
        raise RuntimeError(f"SQLAdmin has no route named {name!r} to restrict")

    def _handle_action_decorated_func(
        self,
        func: MethodType,
        view: type[BaseView | ModelView],
        view_instance: BaseView | ModelView,
    ) -> None:
        super()._handle_action_decorated_func(func, view, view_instance)
        if hasattr(func, "_action"):
            self._post_only(f"action-{view_instance.identity}-{func._slug}")
