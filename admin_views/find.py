"""The search box's full answer as a page: `/admin/search?q=`, every group and its hits."""

from __future__ import annotations

from sqladmin import expose
from starlette.requests import Request
from starlette.responses import Response

from admin_views import sqladmin_door as door
from admin_views.base import StaffPage
from admin_views.shared.find_anything import CAP, BadTermError, find_anything
from auth.middleware import current_staff


class FindAnythingPage(StaffPage):
    name = "Search"
    icon = "fa-solid fa-magnifying-glass"
    open_to_all_staff = True
    """Every role may search; each table is searched only for roles that may view it."""

    def is_visible(self, request: Request) -> bool:
        # Reached from the header's search button and the `/` key, not the menu.
        return False

    @expose("/search", identity="search")
    async def search(self, request: Request) -> Response:
        staff = current_staff(request)
        assert staff is not None  # is_accessible let only signed-in staff through
        asked = request.query_params.get("q", "")
        context = {"title": "Search", "term": asked, "findings": None, "problem": "", "cap": CAP}
        status = 200
        if asked:
            try:
                context["findings"] = await find_anything(
                    request, door.admin_of(self).views, staff, asked
                )
            except BadTermError as error:
                context["problem"], status = str(error), 400
        return await self.templates.TemplateResponse(
            request, "staff/find_results.html", context, status_code=status
        )
