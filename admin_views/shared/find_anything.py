"""One search box for everything: a term looked for in every table the staff member may view.

Each table is searched as its own list searches (admin_views/shared/search.py), so "see all"
opens the list with `?search=<term>` and lands on the same rows, more of them. A term of a
kind (an email, a UUID, a phone number, a reference, four digits: a card's last four) is only
looked for in the tables that declare its kind, where an index answers it at once; anything
else is a substring of the searchable columns. Within a table, whole-value matches come
before prefixes, prefixes before the rest.

Each table is searched in its own session and task; the whole answer waits at most
`BOUND_S`, and a table still running then is reported as still searching, never waited for.
Tables the role may not view are never queried: their rows, counts and labels cannot leak.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.base import StaffView
from admin_views.shared import search
from admin_views.shared.formatting import COLOUR_OF
from admin_views.shared.label_rows import own_label_rows
from admin_views.shared.staff_form import UNSTORABLE
from auth.permissions import allows
from auth.sessions import Staff

GROUPS: dict[str, str] = {
    "users": "Customers",
    "wallets": "Wallets",
    "wallet_transactions": "Transactions",
    "support_tickets": "Tickets",
    "merchants": "Merchants",
    "admin_users": "Staff",
    "feature_flags": "Flags",
    "ai_campaigns": "Campaigns",
    "payment_methods": "Payment methods",
}
"""The tables searched, by permission name, in the order their groups are shown."""
CAP = 5
"""Hits shown per group; "see all" opens the list for the rest."""
BOUND_S = 1.5
"""The longest the whole answer waits, in seconds."""
SERVER_BOUND_MS = 3_000
"""How long PostgreSQL works on one table's search, in ms: past the answer's bound, so a
table that was still running is not cut off before the answer gave up on it."""
MAX_TERM = 200
"""Characters: longer than any email, reference or name staff paste."""


class BadTermError(ValueError):
    """A term that cannot be searched; the message says why, in the staff member's words."""


@dataclass(frozen=True)
class Hit:
    label: str
    url: str
    badge: str
    """The record's state in one word ("active", "open", "on"); empty when it has none."""
    colour: str
    """The badge's colour, as the lists colour the same word."""


@dataclass(frozen=True)
class Group:
    table: str
    title: str
    list_name: str
    """The list's own name, for "see all in <list>"."""
    see_all: str
    """The list filtered by the same term."""
    hits: list[Hit] = field(default_factory=list)
    more: bool = False
    """More rows match than the hits shown."""
    searching: bool = False
    """The table did not answer within the bound."""


@dataclass(frozen=True)
class Findings:
    term: str
    kind: str
    """The kind the term was read as (`email`, `uuid`, ..., or `text`)."""
    groups: list[Group]


def checked_term(raw: str | None) -> str:
    """The term to search for, or BadTermError saying what is wrong with it."""
    term = (raw or "").strip()
    if not term:
        raise BadTermError("Type something to search for.")
    if len(term) > MAX_TERM:
        raise BadTermError(f"Search for at most {MAX_TERM} characters.")
    if UNSTORABLE.search(term):
        raise BadTermError("Control characters (such as NUL) cannot be searched.")
    if not any(character.isalnum() for character in term):
        raise BadTermError("Type letters or digits to search for.")
    return term


def searched_views(views: Sequence[Any], staff: Staff) -> list[StaffView]:
    """The searched tables' screens the staff member may view, in group order."""
    by_table = {view.resource(): view for view in views if isinstance(view, StaffView)}
    return [
        by_table[table]
        for table in GROUPS
        if table in by_table and allows(staff.permissions, table, "view")
    ]


async def find_anything(
    request: Request, views: Sequence[Any], staff: Staff, raw_term: str | None
) -> Findings:
    """Up to `CAP` hits per table the staff member may view, found within `BOUND_S`."""
    term = checked_term(raw_term)
    found = search.kind_of(term)
    kind = found[0] if found else None
    chosen = [
        view for view in searched_views(views, staff) if kind is None or view.search_exact.get(kind)
    ]
    tasks = [asyncio.create_task(_hits(request, view, term, kind)) for view in chosen]
    _, running = await asyncio.wait(tasks, timeout=BOUND_S) if tasks else (set(), set())
    for task in running:
        task.cancel()  # no answer waits past the bound
    groups = []
    for view, task in zip(chosen, tasks, strict=True):
        if task in running:
            groups.append(_group(request, view, term, searching=True))
        elif hits := task.result():
            groups.append(_group(request, view, term, hits=hits[:CAP], more=len(hits) > CAP))
    return Findings(term=term, kind=kind.value if kind else "text", groups=groups)


def _group(request: Request, view: StaffView, term: str, **found: Any) -> Group:
    table = view.resource()
    see_all = request.url_for("admin:list", identity=view.identity).include_query_params(
        search=term
    )
    return Group(
        table=table,
        title=GROUPS[table],
        list_name=view.name_plural,
        see_all=str(see_all),
        **found,
    )


async def _hits(
    request: Request, view: StaffView, term: str, kind: search.Exact | None
) -> list[Hit]:
    stmt = view.list_query(request)
    if kind and view.search_exact.get(kind):
        stmt = view.search_query(stmt, term)
    else:
        stmt = view.search_query(stmt, term).order_by(_closeness(view, term))
    for name, descending in door.default_sort(view):
        column = getattr(view.model, name)
        stmt = stmt.order_by(column.desc() if descending else column.asc())
    stmt = stmt.order_by(view.model.id).options(*own_label_rows(view.model)).limit(CAP + 1)
    async with view.session_maker() as db:
        if db.get_bind().dialect.name == "postgresql":
            # The server stops too, soon after the answer stopped waiting for this table.
            await db.execute(sa.text(f"SET LOCAL statement_timeout = {SERVER_BOUND_MS}"))
        rows = (await db.execute(stmt)).unique().scalars().all()
    return [_hit(request, view, row) for row in rows]


def _hit(request: Request, view: StaffView, row: Any) -> Hit:
    word = badge(row)
    return Hit(
        label=str(row), url=_record_url(request, view, row), badge=word, colour=_colour(word)
    )


def _closeness(view: StaffView, term: str) -> Any:
    """0 where a searchable column is the term, 1 where one starts with it, else 2;
    columns behind a relationship (`user.email`) count as substrings."""
    columns = [
        _text(getattr(view.model, name)) for name in door.search_fields(view) if "." not in name
    ]
    if not columns:
        return sa.literal(2)
    lowered = term.lower()
    return sa.case(
        (sa.or_(*(sa.func.lower(column) == lowered for column in columns)), 0),
        (sa.or_(*(column.ilike(f"{term}%") for column in columns)), 1),
        else_=2,
    )


def _text(column: Any) -> Any:
    if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum):
        return column
    return sa.cast(column, sa.String)


def _record_url(request: Request, view: StaffView, row: Any) -> str:
    """The record's own page where its table has one (the customer page), else its detail."""
    page = door.admin_of(view).record_pages.get(view.resource())
    if page:
        return str(request.url_for(page, pk=str(row.id)))
    return str(request.url_for("admin:details", identity=view.identity, pk=str(row.id)))


def _colour(word: str) -> str:
    return "green" if word == "on" else COLOUR_OF.get(word, "secondary")


def badge(row: Any) -> str:
    """A record's state in one word: its status, a flag's on/off, a staff account's state."""
    status = getattr(row, "status", None)
    if status is not None:
        return str(status)
    if isinstance(getattr(row, "enabled", None), bool):
        return "on" if row.enabled else "off"
    if isinstance(getattr(row, "is_active", None), bool):
        return "active" if row.is_active else "disabled"
    return ""
