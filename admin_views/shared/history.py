"""A record's history on its page, read from the audit trail (the one source): every change
to the record, and to the rows that hold its other parts (a flag's state in each
environment), newest first, with who, when and why, and each field before → after.

A view switches it on by declaring `history = History()` (the record's own row), or
`History(strands=...)` naming each row that makes up the record under a label (an
environment), which the panel then filters by. Pages are by key (the entry's sequence in
the trail), so the hundredth page costs what the first does. Where the row's screen offers
the `restore` action (admin_views/shared/restore.py) to this staff member, each change but
the newest of its row links to restoring the row as that change left it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.shared import audit_words
from admin_views.shared.formatting import moment
from admin_views.shared.labels import humanize
from admin_views.shared.screens import tables_by_resource
from admin_views.shared.wording import PLAIN, Said, Wording
from audit.versions import typed
from core import personal_data
from models.ops import AuditLog

PAGE_SIZE = 20
PICKED = "history"
"""The query parameter naming the strand shown (all when absent)."""
OLDER, NEWER = "history_before", "history_after"
"""The query parameters of a page's cursor: changes before (older than) or after an entry."""
ANCHOR = "history"
SAID_APART = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "revision",
        "environment",
        "copied_from",
        "reason",
        "restored_from",
        "restored_version",
        "approval_request",
        "requested_by",
        "refreshed",
    }
)
"""What an entry keeps beside the fields it changed: said in its sentence, not as a change."""
RESTORE = "restore"


@dataclass(frozen=True)
class Strand:
    """The entries of one row that is part of a record, under a label (its environment)."""

    key: str
    label: str
    table: str
    entity_id: str
    view: Any
    """The screen of the row (for field labels and its `restore` action)."""
    leaves_out: sa.ColumnElement[bool] | None = None
    """Entries of the row that belong to another strand (a copy into another environment,
    recorded on the flag's own row too)."""


Strands = Callable[[Any, AsyncSession, Any], Awaitable[list[Strand]]]
"""(view, session, record) -> the strands of the record's history."""


async def own_row(view: Any, _db: AsyncSession, record: Any) -> list[Strand]:
    return [Strand("", "", view.resource(), str(record.id), view)]


@dataclass(frozen=True)
class Change:
    """A field's label and its change in words; a creation's `said.before` is empty."""

    label: str
    said: Said


@dataclass(frozen=True)
class Version:
    """One change as the panel shows it."""

    sequence: int
    strand: Strand
    said: str
    actor: Markup
    when: Markup
    reason: str
    asked_by: str
    """Who asked for a change a second person approved (the actor approved it)."""
    revision: Any
    changes: list[Change]
    restore_url: str
    entry_url: str


@dataclass(frozen=True)
class Panel:
    strands: list[Strand]
    picked: str
    pick_urls: list[tuple[str, str, bool]]
    """(label, URL, whether it is the one shown), "All" first."""
    versions: list[Version]
    newer_url: str
    older_url: str


@dataclass(frozen=True)
class History:
    """Declared on a view: its record page lists the record's changes."""

    strands: Strands = own_row
    words: Wording = PLAIN
    page_size: int = PAGE_SIZE

    async def panel(self, view: Any, request: Request, record: Any) -> Panel:
        async with view.session_maker() as db:
            strands = await self.strands(view, db, record)
            picked = request.query_params.get(PICKED, "")
            shown = [s for s in strands if s.key == picked] or strands
            picked = picked if len(shown) < len(strands) or len(strands) == 1 else ""
            entries, newer, older = await self._page(db, shown, request)
            newest = await _newest(db, shown)
            reading = await audit_words.read(
                db, entries, tables_by_resource(door.admin_of(view)), request
            )
        by_row = {(s.table, s.entity_id): s for s in shown}
        labels = {s.key: s.label for s in strands}
        base = request.url.remove_query_params([PICKED, OLDER, NEWER])
        versions = [
            self._version(view, request, reading, entry, by_row, labels, newest)
            for entry in entries
        ]
        return Panel(
            strands=strands,
            picked=picked,
            pick_urls=_pick_urls(base, strands, picked),
            versions=versions,
            newer_url=_at(base, picked, NEWER, entries[0].sequence) if newer else "",
            older_url=_at(base, picked, OLDER, entries[-1].sequence) if older else "",
        )

    async def _page(
        self, db: AsyncSession, shown: list[Strand], request: Request
    ) -> tuple[list[AuditLog], bool, bool]:
        """A page of entries, newest first, and whether there are newer and older ones."""
        stmt = sa.select(AuditLog).where(sa.or_(*map(_entries_of, shown)))
        older, newer = _cursor(request, OLDER), _cursor(request, NEWER)
        if newer is not None and older is None:
            stmt = stmt.where(AuditLog.sequence > newer).order_by(AuditLog.sequence.asc())
            found = list(await db.scalars(stmt.limit(self.page_size + 1)))
            more = len(found) > self.page_size
            return found[: self.page_size][::-1], more, True
        if older is not None:
            stmt = stmt.where(AuditLog.sequence < older)
        found = list(
            await db.scalars(stmt.order_by(AuditLog.sequence.desc()).limit(self.page_size + 1))
        )
        return found[: self.page_size], older is not None, len(found) > self.page_size

    def _version(
        self,
        view: Any,
        request: Request,
        reading: audit_words.Reading,
        entry: AuditLog,
        by_row: dict[tuple[str, str], Strand],
        labels: dict[str, str],
        newest: set[int],
    ) -> Version:
        strand = by_row[(entry.entity_type, entry.entity_id or "")]
        after = personal_data.shown_in(entry, "after", entry.after) or {}
        restore_url = ""
        if entry.sequence not in newest and self._may_restore(strand.view, request):
            action = door.action_url(strand.view, request, RESTORE)
            restore_url = f"{action}?pks={strand.entity_id}&entry={entry.sequence}"
        audit_view = reading.tables.get(AuditLog.__tablename__)
        entry_url = (
            door.record_url(audit_view.view, request, entry)
            if audit_view is not None and audit_view.view is not None
            else ""
        )
        return Version(
            sequence=entry.sequence,
            strand=strand,
            said=_said(reading, entry, after, labels),
            actor=reading.actor(entry).html(),
            when=moment(entry.created_at),
            reason=str(after.get("reason") or ""),
            asked_by=str(after.get("requested_by") or ""),
            revision=after.get("revision"),
            changes=self._changes(strand, entry, after),
            restore_url=restore_url,
            entry_url=entry_url,
        )

    def _may_restore(self, view: Any, request: Request) -> bool:
        specs = getattr(view, "action_specs", {})
        return RESTORE in specs and RESTORE in door.usable_actions(view, request)

    def _changes(self, strand: Strand, entry: AuditLog, after: dict[str, Any]) -> list[Change]:
        """The fields the entry changed, before → after; a creation's values as given."""
        made = entry.before is None
        before = personal_data.shown_in(entry, "before", entry.before) or {}
        labels = door.column_labels(strand.view)
        names = [*before, *(name for name in after if name not in before)]
        return [
            Change(
                str(labels.get(name) or humanize(name)),
                self._said(strand, name, made, before, after),
            )
            for name in names
            if name not in SAID_APART and not (made and after.get(name) in (None, "", [], {}))
        ]

    def _said(
        self, strand: Strand, name: str, made: bool, before: dict[str, Any], after: dict[str, Any]
    ) -> Said:
        model = strand.view.model
        now = typed(model, name, after.get(name))
        if made:
            return Said("", self.words.value(name, now))
        return self.words.change(name, typed(model, name, before.get(name)), now)


def _entries_of(strand: Strand) -> sa.ColumnElement[bool]:
    own = sa.and_(AuditLog.entity_type == strand.table, AuditLog.entity_id == strand.entity_id)
    return own if strand.leaves_out is None else sa.and_(own, sa.not_(strand.leaves_out))


async def _newest(db: AsyncSession, shown: list[Strand]) -> set[int]:
    """Each row's newest entry: restoring it would change nothing."""
    found = await db.execute(
        sa.select(sa.func.max(AuditLog.sequence))
        .where(sa.or_(*map(_entries_of, shown)))
        .group_by(AuditLog.entity_type, AuditLog.entity_id)
    )
    return {sequence for (sequence,) in found}


def _said(
    reading: audit_words.Reading,
    entry: AuditLog,
    after: dict[str, Any],
    labels: dict[str, str],
) -> str:
    """ "Disabled", "Copied state from Staging", "Restored revision 3"."""
    if version := after.get("restored_version"):
        return f"Restored {version}"
    if source := after.get("copied_from"):
        return f"Copied from {labels.get(str(source)) or source}"
    phrase = reading.phrase(entry)
    return phrase.verb.removesuffix(" of") + phrase.after


def version_name(entry: AuditLog) -> str:
    """How staff name the version a change made: its row's revision where the row keeps
    one, else the change's number in the trail."""
    revision = (entry.after or {}).get("revision")
    return f"revision {revision}" if revision is not None else f"change #{entry.sequence}"


def _cursor(request: Request, name: str) -> int | None:
    text = request.query_params.get(name, "")
    return int(text) if text.isdigit() and len(text) < 19 else None


def _at(base: URL, picked: str, name: str, sequence: int) -> str:
    query = {name: str(sequence)} | ({PICKED: picked} if picked else {})
    return f"{base.include_query_params(**query)}#{ANCHOR}"


def _pick_urls(base: URL, strands: list[Strand], picked: str) -> list[tuple[str, str, bool]]:
    if len(strands) < 2:
        return []
    urls = [("All", f"{base}#{ANCHOR}", not picked)]
    for strand in strands:
        url = f"{base.include_query_params(**{PICKED: strand.key})}#{ANCHOR}"
        urls.append((strand.label, url, strand.key == picked))
    return urls
