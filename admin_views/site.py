"""The admin site: SQLAdmin with our sign-in, permissions, templates, and POST-only changes."""

from __future__ import annotations

from pathlib import Path
from types import MethodType

from sqladmin import Admin, BaseView, ModelView
from sqladmin._menu import CategoryMenu, ViewMenu
from sqladmin.authentication import login_required
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin_views.shared import formatting, insights
from admin_views.shared.form_errors import apply_to_form, general_errors
from auth.authorization import StaffAuthorization
from auth.backend import StaffAuthBackend
from auth.middleware import csrf_token_for, current_staff
from core import outage
from core.database import Database
from core.settings import Settings

TITLE = "SwipeSavvy Admin"
TEMPLATES = Path(__file__).parent / "templates"
STATIC_URL = "/static"
STATIC_FILES = Path(__file__).parent / "static"


class StaffCategoryMenu(CategoryMenu):
    """A menu group shown only when the staff member may open something in it."""

    def is_accessible(self, request: Request) -> bool:
        return any(
            child.is_visible(request) and child.is_accessible(request) for child in self.children
        )


class StaffAdmin(Admin):
    """SQLAdmin at /admin, where nothing that changes data answers a GET, and a database
    that cannot answer is a 503 page, never a 500 or an error printed on a form.

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
            # Inside SQLAdmin's own ServerErrorMiddleware, which would answer 500 first.
            middlewares=[Middleware(outage.DatabaseOutageMiddleware)],
        )
        outage.watch_swallowing_logger()
        self.authentication_backend = StaffAuthBackend(settings, database, self.templates)
        self.admin.state.settings = settings
        self.admin.state.database = database
        self.templates.env.globals["csrf_token"] = lambda request: csrf_token_for(request, settings)
        self.templates.env.globals["current_staff"] = current_staff
        self.templates.env.globals["static_url"] = lambda path: f"{STATIC_URL}/{path}"
        self.templates.env.globals["apply_field_errors"] = apply_to_form
        self.templates.env.globals["general_errors"] = general_errors
        self.templates.env.filters["figure"] = insights.figure
        self.templates.env.filters["heat"] = insights.heat
        self.templates.env.filters["duration"] = insights.duration
        self.templates.env.filters.update(formatting.TIME_FILTERS)
        self.templates.env.globals["time_zone"] = formatting.zone_name
        self._post_only("logout")

    def _build_menu(self, view: ModelView | BaseView) -> None:
        if not view.category:
            super()._build_menu(view)
            return
        menu = StaffCategoryMenu(name=view.category, icon=view.category_icon)
        menu.add_child(ViewMenu(view=view, name=view.name, icon=view.icon))
        self._menu.add(menu)

    @login_required
    async def index(self, request: Request) -> Response:
        """Home is the dashboard, for whoever may see it."""
        for view in self._views:
            home = isinstance(view, insights.InsightsPage) and view.is_home
            if home and view.is_accessible(request):
                return await view.render(request)
        return await super().index(request)

    # SQLAdmin's create, edit and delete catch every exception and show its text; an
    # outage is lifted out of that and answered by the outage middleware instead.
    async def create(self, request: Request) -> Response:
        with outage.surfacing():
            return await super().create(request)

    async def edit(self, request: Request) -> Response:
        with outage.surfacing():
            return await super().edit(request)

    async def delete(self, request: Request) -> Response:
        with outage.surfacing():
            return await super().delete(request)

    @login_required
    async def export(self, request: Request) -> Response:
        """Stream what the list shows, instead of loading every row first."""
        await self._export(request)
        view = self._find_model_view(request.path_params["identity"])
        return await view.export_response(request, request.path_params["export_type"])

    def _post_only(self, name: str) -> None:
        self._route(name).methods = {"POST"}

    def _route(self, name: str) -> Route:
        for route in self.admin.router.routes:
            if isinstance(route, Route) and route.name == name:
                return route
        raise RuntimeError(f"SQLAdmin has no route named {name!r}")

    def _handle_action_decorated_func(
        self,
        func: MethodType,
        view: type[BaseView | ModelView],
        view_instance: BaseView | ModelView,
    ) -> None:
        super()._handle_action_decorated_func(func, view, view_instance)
        if not hasattr(func, "_action"):
            return
        # GET shows the action's page (its form or a confirmation); only POST changes data.
        self._route(f"action-{view_instance.identity}-{func._slug}").methods = {"GET", "POST"}
        spec = getattr(func, "spec", None)
        if spec is not None and func._slug in view_instance._custom_actions_confirmation:
            plural = getattr(view_instance, "name_plural", "rows").lower()
            view_instance._custom_actions_confirmation[func._slug] = spec.confirmation(
                f"the selected {plural}"
            )
