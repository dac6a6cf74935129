"""A list's rows, built in Python the way Django's admin builds them (`items_for_result`).

The rows were most of a list page's cost: rendered by the async template, every cell paid
for an `auto_await` per expression, a macro call per link and the column's label looked up
again. Here what depends only on the column (its label, whether it is a relation and whether
it links) is decided once per page, each row asks only what is its own (its id, its links,
whether this staff member may open, edit or delete it, its values through `get_list_value`,
so masking and personal data still apply), and the markup is joined with every value
escaped. The markup is the template's, without its indentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from sqladmin import ModelView, gettext
from sqladmin.helpers import get_object_identifier
from starlette.requests import Request

from admin_views import sqladmin_door as door


@dataclass(frozen=True)
class _Column:
    name: str
    cell: str
    """The cell's opening tag, label included."""
    relation: bool
    linked: bool


def _link(url: Any, text: Any) -> str:
    """A related row by its label, linked to its page when the staff member may open it."""
    url = str(url)
    return f'<a href="{escape(url)}">{escape(text)}</a>' if url else str(escape(text))


ARROWS = {"asc": ("ascending", "up", "desc"), "desc": ("descending", "down", "asc")}
"""A sorted column's direction: its `aria-sort`, its arrow, and the direction a click asks."""


class RowTable(ModelView):
    def header_cells(self, request: Request) -> Markup:
        """The `<th>`s of a list page: a sortable column's label links to the list sorted by
        it (ascending; the sorted column turns its direction), from the first page."""
        labels = door.column_labels(self)
        sortable = set(door.sort_names(self))
        kept = [
            (key, value)
            for key, value in request.query_params.multi_items()
            if key not in ("page", "after", "before", "sortBy", "sort")
        ]
        base = str(request.url.replace(query=""))
        sorted_by = request.query_params.get("sortBy")
        direction = request.query_params.get("sort")
        html = []
        for name in door.list_names(self):
            label = escape(labels.get(name, name))
            html.append(f'<th data-column="{escape(name)}">')
            if name not in sortable:
                html.append(f"{label}</th>")
                continue
            if name == sorted_by and direction in ARROWS:
                aria, arrow, turned = ARROWS[direction]
                url = escape(f"{base}?{urlencode([*kept, ('sortBy', name), ('sort', turned)])}")
                html.append(
                    f'<a href="{url}" aria-sort="{aria}"><i class="fa-solid fa-arrow-{arrow}">'
                    f"</i> {label}</a></th>"
                )
            else:
                url = escape(f"{base}?{urlencode([*kept, ('sortBy', name), ('sort', 'asc')])}")
                html.append(f'<a href="{url}">{label}</a></th>')
        return Markup("".join(html))  # noqa: S704 - each value above went through escape()

    def _row_columns(self) -> list[_Column]:
        labels = door.column_labels(self)
        relations = set(door.relation_names(self))
        unlinked = set(door.unlinked_relations(self))
        columns = []
        for number, name in enumerate(door.list_names(self)):
            title = ' class="staff-row-title"' if number == 0 else ""
            cell = f'<td data-label="{escape(labels.get(name, name))}"{title}>'
            columns.append(_Column(name, cell, name in relations, name not in unlinked))
        return columns

    async def row_table(self, request: Request, rows: Sequence[Any]) -> Markup:
        """The `<tr>`s of a list page for these rows."""
        columns = self._row_columns()
        query = f"?{request.url.query}" if request.url.query else ""
        select = (
            '<input class="form-check-input m-0 align-middle select-box" type="checkbox" '
            f'aria-label="{escape(gettext("Select item"))}">'
        )
        view_title, edit_title = escape(gettext("View")), escape(gettext("Edit"))
        delete_title = escape(gettext("Delete"))
        html: list[str] = []
        for row in rows:
            pk = escape(get_object_identifier(row))
            html.append(f'<tr><td class="staff-select"><input type="hidden" value="{pk}">')
            html.append(f'{select}</td><td class="staff-row-links text-nowrap">')
            if await self.check_can_view_details(request, row):
                url = door.record_url(self, request, row)
                if url:
                    html.append(
                        f'<a href="{escape(url)}" title="{view_title}">'
                        '<i class="fa-solid fa-eye me-1"></i></a>'
                    )
            if await self.check_can_edit(request, row):
                url = door.edit_url(self, request, row)
                html.append(
                    f'<a href="{escape(url)}{escape(query)}" title="{edit_title}">'
                    '<i class="fa-solid fa-pen-to-square me-1"></i></a>'
                )
            if await self.check_can_delete(request, row):
                html.append(
                    f'<a href="#" data-name="{escape(self.name)}" data-pk="{pk}" '
                    f'data-url="{escape(door.delete_url(self, request, row))}" '
                    'data-bs-toggle="modal" data-bs-target="#modal-delete" '
                    f'title="{delete_title}"><i class="fa-solid fa-trash me-1"></i></a>'
                )
            html.append("</td>")
            for column in columns:
                html.append(column.cell)
                html.append(await self._cell(request, row, column))
                html.append("</td>")
            html.append("</tr>\n")
        return Markup("".join(html))  # noqa: S704 - each value above went through escape()

    async def _cell(self, request: Request, row: Any, column: _Column) -> str:
        value, formatted = await self.get_list_value(row, column.name, request)
        if not column.relation:
            return str(escape(formatted))
        if isinstance(value, list):
            links = (
                _link(door.record_url(self, request, item) if column.linked else "", label)
                for item, label in zip(value, formatted, strict=False)
            )
            if self.show_compact_lists:
                return "".join(f"({link}) " for link in links)
            return "".join(f"{link}<br>" for link in links)
        if column.linked:
            return _link(door.related_url(self, request, row, column.name), formatted)
        return str(escape(formatted))
