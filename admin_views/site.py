"""The admin site: SQLAdmin with our sign-in, permissions, templates, and POST-only changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import MethodType

import jinja2
from sqladmin import BaseView, ModelView
from sqladmin.authentication import login_required
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from admin_views.shared import formatting, insights
from admin_views.shared.filters import choice_links
from admin_views.shared.form_errors import apply_to_form, general_errors
from admin_views.shared.navigation import back_to, may_view
from admin_views.shared.screens import inside_sentence
from admin_views.shared.sidebar import sidebar
from admin_views.sqladmin_door import DoorAdmin
from auth.authorization import StaffAuthorization
from auth.backend import StaffAuthBackend
from auth.middleware import csrf_token_for, current_staff
from core import outage, personal_data
from core.database import Database
from core.middleware import request_id
from core.plain_errors import error_response
from core.settings import Settings
from flags import words as flag_words

TITLE = "SwipeSavvy Admin"
TEMPLATES = Path(__file__).parent / "templates"
STATIC_URL = "/static"
STATIC_FILES = Path(__file__).parent / "static"
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: ("That cannot be shown", "Something in the address or the form was not as expected."),
    403: ("Not allowed", "Your role does not open this page. Ask an administrator if you need it."),
    404: ("Page not found", "There is no such page or record here; it may have been removed."),
    405: ("Not opened this way", "This address only takes a form; start again from its page."),
    500: ("Something went wrong", "The error was logged and nothing more was done. Try again."),
}
"""The title and explanation of an error page, by status; a specific message replaces the latter."""

log = logging.getLogger(__name__)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the process, keyed by name and source checksum, so an
    app built again in the same process (the test suite, a reloading server) does not
    compile every template again: compiling is most of a first page's cost."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if code := self._code.get(bucket.key):
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


@dataclass(frozen=True)
class TableLink:
    name: str
    url: str


class StaffAdmin(DoorAdmin):
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
        self.authentication_backend = StaffAuthBackend(settings, database, self.templates)
        self.admin.state.settings = settings
        self.admin.state.database = database
        self.templates.env.bytecode_cache = COMPILED_TEMPLATES
        # In production the templates never change under a running server; checking each
        # one's file on every use was about 30 stat() calls a page.
        self.templates.env.auto_reload = not settings.is_production
        self.templates.env.globals["csrf_token"] = lambda request: csrf_token_for(request, settings)
        self.templates.env.globals["current_staff"] = current_staff
        self.templates.env.globals["may_view"] = may_view
        self.templates.env.globals["static_url"] = lambda path: f"{STATIC_URL}/{path}"
        self.templates.env.globals["apply_field_errors"] = apply_to_form
        self.templates.env.globals["general_errors"] = general_errors
        self.templates.env.filters["inside_sentence"] = inside_sentence
        self.templates.env.filters["figure"] = insights.figure
        self.templates.env.filters["heat"] = insights.heat
        self.templates.env.filters["duration"] = insights.duration
        self.templates.env.filters["targeting_words"] = flag_words.targeting_words
        self.templates.env.filters["variants_words"] = flag_words.variants_words
        self.templates.env.filters["prerequisites_words"] = flag_words.prerequisites_words
        self.templates.env.filters["value_words"] = flag_words.value_words
        self.templates.env.filters.update(formatting.TIME_FILTERS)
        self.templates.env.globals["time_zone"] = formatting.zone_name
        self.templates.env.globals["sidebar"] = sidebar
        self.templates.env.globals["choice_links"] = choice_links
        self.templates.env.globals["shown"] = lambda obj, name: personal_data.shown_in(
            obj, name, getattr(obj, name)
        )
        self.post_only("logout")
        self.record_pages: dict[str, str] = {}
        """Route names of the pages that show a table's records (see `StaffPage`)."""
        # Errors on admin routes (SQLAdmin's 403/404, the router's 405, any 500) are pages
        # of the admin; the API's JSON errors are answered outside, by the app.
        self.admin.exception_handlers = {
            HTTPException: self._error_page,
            Exception: self._error_page,
        }

    @login_required
    async def index(self, request: Request) -> Response:
        """Home is the dashboard, for whoever may see it."""
        for view in self.views:
            home = isinstance(view, insights.InsightsPage) and view.is_home
            if home and view.is_accessible(request):
                return await view.render(request)
        return await super().index(request)

    async def _error_page(self, request: Request, exc: Exception) -> Response:
        """What went wrong, inside the layout (the sidebar when signed in), with ways back: the
        previous page, the table's list when the staff member may open it, and home."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        phrase = HTTPStatus(status).phrase
        title, explanation = ERROR_PAGES.get(status, (phrase, ""))
        detail = exc.detail if isinstance(exc, HTTPException) else ""
        message = detail if detail and detail != phrase else explanation
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        context = {
            "status_code": status,
            "error_title": title,
            "message": message,
            "table": self._table_link(request),
            "back": back_to(request, ""),
            "request_id": request_id(request.scope),
        }
        try:
            response = await self.templates.TemplateResponse(
                request, "sqladmin/error.html", context, status_code=status
            )
        except Exception:
            # The page itself failed to draw: the plain page still says what happened.
            log.exception("the %s error page failed to render", status)
            return error_response(request.url.path, status, "error", title, message, headers)
        response.headers.update(headers)
        return response

    def _table_link(self, request: Request) -> TableLink | None:
        """The list of the table an error happened on, if the staff member may open it."""
        identity = request.path_params.get("identity")
        if identity is None or current_staff(request) is None:
            return None
        for view in self.views:
            if isinstance(view, ModelView) and view.identity == identity:
                if not view.is_accessible(request):
                    return None
                url = str(request.url_for("admin:list", identity=identity))
                return TableLink(f"Back to {view.name_plural.lower()}", url)
        return None

    def list_confirmation(self, func: MethodType, view: BaseView | ModelView, stock: str) -> str:
        spec = getattr(func, "spec", None)
        if spec is None:
            return stock
        plural = getattr(view, "name_plural", "rows").lower()
        return spec.confirmation(f"the selected {plural}") or stock
