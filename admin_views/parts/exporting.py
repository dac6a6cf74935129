"""Export: the list's own query (its filters, search and sort) streamed as CSV or JSON,
with what a reader needs beside the list's columns, audited with what was asked for.

An export of more than `EXPORT_APPROVAL_ROWS` rows of a table holding personal data leaves
only with a second person's approval (four eyes): its link answers with a page asking the
reason, which records an approval request instead of streaming; once approved, the staff
member who asked downloads it once from the request's page (admin_views/approvals.py)."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from wtforms import Form

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.parts.listing import Listing
from admin_views.shared import export, four_eyes
from admin_views.shared.actions import with_reason
from admin_views.shared.counting import RowCount, row_count
from admin_views.shared.filters import ALL
from admin_views.shared.label_rows import eager, with_label_rows
from auth.middleware import actor, current_staff
from models.base import FixedPoint, utcnow

EXPORT_TYPES = ("csv", "json")
EXPORT = "export"
"""The action an export's approval request names."""
EXPORT_APPROVAL_ROWS = 10_000
"""An export of more rows than this, of a table holding personal data, needs a second person."""
ExportReasonForm = with_reason(None)


class Exporting(Listing, Audited):
    export_types: ClassVar[list[str]] = list(EXPORT_TYPES)
    export_extra: ClassVar[dict[str, str]] = {}
    """What a reader of an export needs beside the list's columns, by column or path
    through related rows, with its header: `{"wallet.user.email": "Customer email"}`.
    A table's currency always goes with its amounts."""
    personal_data: ClassVar[bool] = False
    """The rows are about people (customers, staff) or name them in their export: more than
    `EXPORT_APPROVAL_ROWS` of them at once leave only with a second person's approval."""

    async def export_response(self, request: Request, export_type: str) -> Response:
        """Stream the filtered list, audited with what was asked for; an export that needs
        a second person answers with the page that asks the reason instead."""
        if await self.export_needs_approval(request):
            return await self.export_reason_page(request, export_type, ExportReasonForm(), 200)
        async with self.session_maker() as db, db.begin():
            await self.audit_export(db, request, export_type)
        return self.export_stream(request, export_type)

    async def export_needs_approval(self, request: Request) -> bool:
        """Personal data, and more than `EXPORT_APPROVAL_ROWS` rows: counted only that far,
        so a table of millions costs no more than a page of ten thousand."""
        if not self.personal_data:
            return False
        capped = self.filtered_query(request).order_by(None).limit(EXPORT_APPROVAL_ROWS + 1)
        async with self.session_maker() as db:
            found = await db.scalar(sa.select(sa.func.count()).select_from(capped.subquery()))
        return int(found or 0) > EXPORT_APPROVAL_ROWS

    @expose("/export/{export_type}", methods=["POST"])
    async def ask_export(self, request: Request) -> Response:
        """The reason page's form: the export becomes a request for a second person. It
        posts to the export's own address (SQLAdmin's route there takes GET only)."""
        export_type = request.path_params["export_type"]
        staff = current_staff(request)
        if staff is None or not self.can_export or not await self.check_can_export(request):
            raise HTTPException(403)
        if export_type not in self.export_types:
            raise HTTPException(404)
        if not await self.export_needs_approval(request):
            # Fewer rows by now: the export itself, as its link gives it.
            return RedirectResponse(str(request.url), status_code=303)
        form = ExportReasonForm(await request.form())
        if not form.validate():
            return await self.export_reason_page(request, export_type, form, 400)
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            rows = await self.export_rows(db, request)
            approval = await four_eyes.ask(
                db,
                actor(request),
                staff,
                four_eyes.Asked(
                    table=self.resource(),
                    action=EXPORT,
                    action_label=f"Export ({export_type.upper()})",
                    permission=f"{self.resource()}:{EXPORT}",
                    # An export changes no row: it names none, and reads as its list.
                    records=[],
                    params={"format": export_type, "query": request.url.query},
                    needed=self.export_needed(request, rows),
                    reason=form.data["reason"],
                ),
            )
            approval.record_label = f"{self.name_plural}: {rows} rows"
        Flash.info(
            request,
            f"{approval.rule} Nothing is exported until another staff member approves it; "
            "then you download it once from this page.",
            title="Export: sent for approval",
        )
        return RedirectResponse(four_eyes.page_url(request, approval.id), status_code=303)

    async def export_reason_page(
        self, request: Request, export_type: str, form: Form, status_code: int
    ) -> Response:
        async with self.session_maker() as db:
            rows = await self.export_rows(db, request)
        back = str(request.url_for("admin:list", identity=self.identity))
        return await self.templates.TemplateResponse(
            request,
            "staff/export_reason.html",
            {
                "form": form,
                "needed": self.export_needed(request, rows),
                "export_type": export_type,
                "model_view": self,
                "back": f"{back}?{request.url.query}" if request.url.query else back,
                "title": f"Export {export_type.upper()}: {self.name_plural}",
            },
            status_code=status_code,
        )

    async def export_rows(self, db: AsyncSession, request: Request) -> RowCount:
        """How many rows an export that needs a second person holds: counted, not the
        planner's estimate, for the staff member who approves it (asked rarely)."""
        return await row_count(
            db, self.filtered_query(request), estimate_above=self.estimate_count_above, exact=True
        )

    def export_needed(self, request: Request, rows: RowCount) -> four_eyes.Needed:
        return four_eyes.Needed(
            f"An export of more than {EXPORT_APPROVAL_ROWS:,} rows of personal data needs a "
            "second person.",
            f"{rows} rows of {self.name_plural.lower()} {self.filters_in_words(request)}",
        )

    def filters_in_words(self, request: Request) -> str:
        """The list's filters and search, as the staff member who approves reads them."""
        titles: dict[str, str] = {}
        for filter_ in self.get_filters():
            titles[filter_.parameter_name] = filter_.title
            for end, word in (("start_parameter", "from"), ("end_parameter", "to")):
                if name := getattr(filter_, end, None):
                    titles[name] = f"{filter_.title} {word}"
        said = []
        for name, value in request.query_params.multi_items():
            if name == "search" and value:
                said.append(f"search “{value}”")
            elif name in titles and value and value != ALL:
                said.append(f"{titles[name]} {value}")
        return f"with these filters: {'; '.join(said)}" if said else "with no filters"

    async def audit_export(
        self,
        db: AsyncSession,
        request: Request,
        export_type: str,
        approved: dict[str, Any] | None = None,
    ) -> None:
        """The export's audit entry, in the caller's transaction; `approved` names the
        approval request it was downloaded for and both staff members."""
        asked = {"format": export_type, "query": dict(request.query_params)}
        await self.audit(db, request, EXPORT, None, None, asked | (approved or {}))

    def export_stream(self, request: Request, export_type: str) -> StreamingResponse:
        """The filtered list as a file, read in batches while it is sent."""
        columns = self.export_columns()
        relationships = frozenset(door.relation_names(self))
        stmt = self.filtered_query(request)
        for name in columns:
            if name in relationships or "." in name:
                stmt = stmt.options(self.loader(name))
        filename = f"{self.resource()}-{utcnow():%Y%m%d-%H%M%S}.{export_type}"
        if export_type == "csv":
            labels = {**door.column_labels(self), **self.export_extra}
            body = export.csv_stream(self.session_maker, stmt, columns, labels.get, relationships)
            media = "text/csv; charset=utf-8"
        else:
            body = export.json_stream(self.session_maker, stmt, columns, relationships)
            media = "application/json"
        return StreamingResponse(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def export_columns(self) -> list[str]:
        columns = self.get_export_columns()
        table = sa.inspect(self.model).columns
        has_money = any(isinstance(column.type, FixedPoint) for column in table)
        currency = ["currency"] if has_money and "currency" in table else []
        extra = [name for name in [*currency, *self.export_extra] if name not in columns]
        return [*columns, *extra]

    def loader(self, path: str) -> Any:
        """Eager loading for what an export names: a related row with the rows its label
        names, or the rows along a path to a column (`wallet.user.email`)."""
        if "." not in path:
            return with_label_rows(getattr(self.model, path))
        model, option = self.model, None
        for step in path.split(".")[:-1]:
            attribute = getattr(model, step)
            option = eager(attribute, option)
            model = attribute.property.mapper.class_
        return option


def listed_as(request: Request, query: str) -> Request:
    """`request` as if it had asked for the list with `query` (a stored query string), for
    the list's own filters to read: an approved export downloads what was approved."""
    return Request({**request.scope, "query_string": query.encode("latin-1")})
