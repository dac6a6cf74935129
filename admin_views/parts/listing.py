"""The list: filters, search and sort in one query that the export reads too, then a
page of it by key (no OFFSET past the first pages) with a count that estimates when long."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqladmin import ModelView
from sqladmin.pagination import Pagination
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.shared import keyset, search
from admin_views.shared.counting import EXACT_PARAM, EXACT_VALUE, RowCount, row_count
from admin_views.shared.label_rows import with_label_rows
from admin_views.shared.labels import humanize
from admin_views.shared.staff_form import UNSTORABLE

FILTER_CHOICES = "swipesavvy.filter_choices"
"""Where a list request keeps its filters' choices, read with its rows."""


class Listing(ModelView):
    page_size: ClassVar[int] = 25
    page_size_options: ClassVar[list[int]] = [25, 50, 100]
    estimate_count_above: ClassVar[int] = 10_000
    """Lists longer than this (by PostgreSQL's estimate) show "about N" instead of counting."""
    search_exact: ClassVar[dict[search.Exact, list[search.Field]]] = {}
    """Columns compared for equality when the term looks like an email, a UUID, a phone
    number or a reference, e.g. `{Exact.EMAIL: [User.email], Exact.UUID: [User.id]}`;
    any other term is a substring of the `column_searchable_list` columns
    (admin_views/shared/search.py)."""

    def search_query(self, stmt: sa.Select, term: str) -> sa.Select:
        return search.search(stmt, self.model, term, door.search_fields(self), self.search_exact)

    def filtered_query(self, request: Request) -> sa.Select:
        """The list's rows: filters, then search, then sort; no paging."""
        for name, value in request.query_params.multi_items():
            if UNSTORABLE.search(value):
                raise HTTPException(
                    400, f"{humanize(name)}: control characters (such as NUL) cannot be searched."
                )
        stmt = self.list_query(request)
        for filter_ in self.get_filters():
            stmt = filter_.apply(stmt, request)
        term = request.query_params.get("search")
        if term:
            stmt = self.search_query(stmt=stmt, term=term)
        return self.sort_query(stmt, request)

    async def list(self, request: Request) -> Pagination:
        page = self.validate_page_number(request.query_params.get("page"), 1)
        page_size = self.validate_page_number(request.query_params.get("pageSize"), self.page_size)
        most = max(self.page_size_options)  # a larger size asked for is cut to this
        if page_size < 1:
            raise HTTPException(400, f"Rows per page: a whole number from 1 to {most}.")
        page_size = min(page_size, most)
        stmt = self.filtered_query(request)
        shown = stmt
        for relation in door.list_relations(self):
            shown = shown.options(with_label_rows(relation))
        order = keyset.order_for(self.model, self.sorting(request))
        after, before = (request.query_params.get(p) for p in (keyset.AFTER, keyset.BEFORE))
        # The page's reads share one session: each session costs a connection's checkout and
        # reset (on SQLite, hand-offs to its thread; on PostgreSQL, a ping).
        async with self.session_maker(expire_on_commit=False) as db:

            async def rows_of(query: sa.Select) -> list[Any]:
                return list((await db.execute(query)).scalars().unique().all())

            async def run_query(query: sa.Select) -> list[Any]:
                return list((await db.execute(query)).all())

            rows = None
            if page == 1 and not (after or before):
                # A first page that is not full holds every row: no count or estimate to ask
                # for (an exact search answers one row).
                rows = await rows_of(shown.limit(page_size))
            if rows is not None and len(rows) < page_size:
                count = RowCount(len(rows))
            else:
                count = await row_count(
                    db,
                    stmt,
                    estimate_above=self.estimate_count_above,
                    exact=request.query_params.get(EXACT_PARAM) == EXACT_VALUE,
                )
            page = min(max(page, 1), Pagination.max_page(count, page_size))
            if rows is None and order is not None and (after or before):
                direction = keyset.AFTER if after else keyset.BEFORE
                seek = keyset.seek(shown, order, after or before or "", direction)
                rows = await rows_of(seek.limit(page_size))
                rows = rows if after else rows[::-1]
            elif rows is None:
                rows = await rows_of(shown.limit(page_size).offset((page - 1) * page_size))
            request.scope[FILTER_CHOICES] = {
                filter_.parameter_name: await filter_.lookups(request, self.model, run_query)
                for filter_ in self.get_filters()
            }
        pagination = keyset.KeysetPagination(rows=rows, page=page, page_size=page_size, count=count)
        pagination.order = order
        return pagination

    def filter_choices(self, request: Request, filter_: Any) -> list[tuple[str, Any]]:
        """A filter's choices (value, label), read with the list's rows by `list`."""
        return request.scope[FILTER_CHOICES][filter_.parameter_name]

    def sorting(self, request: Request) -> list[tuple[str, bool]]:
        """The list's sort as (column name, descending): asked for, else the default."""
        sort_by = request.query_params.get("sortBy")
        if sort_by:
            return [(sort_by, request.query_params.get("sort", "asc") == "desc")]
        return door.default_sort(self)

    def sort_query(self, stmt: sa.Select, request: Request) -> sa.Select:
        """The asked-for or default sort, then the primary key: a total order, so pages
        neither repeat nor skip rows that share a sort value."""
        stmt = super().sort_query(stmt, request)
        sorting = self.sorting(request)
        keys = list(sa.inspect(self.model).local_table.primary_key.columns)
        if len(keys) == 1 and keys[0].name not in {name for name, _ in sorting}:
            stmt = stmt.order_by(keys[0].desc() if sorting[-1][1] else keys[0].asc())
        return stmt
