"""Export: the list's own query (its filters, search and sort) streamed as CSV or JSON,
with what a reader needs beside the list's columns, audited with what was asked for."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.parts.listing import Listing
from admin_views.shared import export
from admin_views.shared.label_rows import with_label_rows
from models.base import FixedPoint, utcnow

EXPORT_TYPES = ("csv", "json")


class Exporting(Listing, Audited):
    export_types: ClassVar[list[str]] = list(EXPORT_TYPES)
    export_extra: ClassVar[dict[str, str]] = {}
    """What a reader of an export needs beside the list's columns, by column or path
    through related rows, with its header: `{"wallet.user.email": "Customer email"}`.
    A table's currency always goes with its amounts."""

    async def export_response(self, request: Request, export_type: str) -> Response:
        """Stream the filtered list; audited with what was asked for."""
        columns = self.export_columns()
        relationships = frozenset(door.relation_names(self))
        stmt = self.filtered_query(request)
        for name in columns:
            if name in relationships or "." in name:
                stmt = stmt.options(self.loader(name))
        async with self.session_maker() as db, db.begin():
            asked = {"format": export_type, "query": dict(request.query_params)}
            await self.audit(db, request, "export", None, None, asked)
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
            option = selectinload(attribute) if option is None else option.selectinload(attribute)
            model = attribute.property.mapper.class_
        return option
