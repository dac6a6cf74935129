"""The audit trail in words: "Disabled feature flag p2p-transfers", "Adjusted balance of USD
wallet of Erica Murphy by +12.50 USD", with the actor and the record linked.

A row action's phrase comes from its label as the view declares it (`Adjust balance` ->
"Adjusted balance of"), so a new action reads without a line here; only the trail's own
verbs (create, export, sign-ins, ...) are spelled out below. Records are named by their
labels, looked up for a whole page at once: one query per table.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.shared.labels import humanize
from admin_views.shared.screens import Screen, inside_sentence
from core import personal_data
from models.ops import AuditLog

STAFF_TABLE = "admin_users"
ACTION_PREFIX = "action:"

IRREGULAR_PAST = {
    "freeze": "froze",
    "unfreeze": "unfroze",
    "reset": "reset",
    "set": "set",
    "put": "put",
    "send": "sent",
    "run": "ran",
    "shut": "shut",
    "undo": "undid",
}
PARTICLES = frozenset(
    {"to", "out", "off", "up", "in", "on", "into", "from", "back", "down", "away"}
)
"""A label word after which the rest of the label follows the record: "Sign out everywhere"
reads "Signed <record> out everywhere"; any other rest precedes it with "of"."""
DANGLING = frozenset({"to", "into", "from", "on", "in"})
"""Left alone at a label's end when the label asks for more ("Assign to…")."""
OBJECT_PRONOUNS = {"me": "themselves", "myself": "themselves"}
"""Labels speak to the staff member who clicks; the trail speaks about them."""


@dataclass(frozen=True)
class Phrase:
    """How one kind of entry reads around its record: `<verb> <noun> <record><after>`."""

    verb: str
    after: str = ""
    names_record: bool = True
    """False where the record is the actor themselves (signing in) or a whole table."""


OWN_VERBS = {
    "create": Phrase("Created"),
    "update": Phrase("Updated"),
    "delete": Phrase("Deleted"),
    "deactivate": Phrase("Deactivated"),
    "schedule": Phrase("Updated", after=" on schedule"),
    "export": Phrase("Exported", names_record=False),
    "login.success": Phrase("Signed in", names_record=False),
    "login.failure": Phrase("Failed to sign in", names_record=False),
    "login.refused": Phrase("Was refused sign-in", names_record=False),
    "login.lockout": Phrase("Was locked out", names_record=False),
    "logout": Phrase("Signed out", names_record=False),
    "password.change": Phrase("Changed the password of"),
    "two_factor.enable": Phrase("Turned on two-factor sign-in for"),
    "two_factor.disable": Phrase("Turned off two-factor sign-in for"),
    "session.revoke": Phrase("Revoked"),
    "flags.create_key": Phrase("Created a flag client key in"),
    "flags.revoke_key": Phrase("Revoked a flag client key in"),
    "approval:request": Phrase("Asked a second person about"),
}
"""The trail's own verbs, which no row action declares (see audit/trail.py's callers)."""


RECORD_PARTICLES = frozenset({"of", "for", "in", "to", "on"})
"""Words a phrase ends with before the record it names ("Changed the password of")."""


def action_label(action: str) -> str:
    """How the trail's Action filter names a stored action: "Adjust balance", "Signed in",
    "Changed the password"."""
    if action.startswith(ACTION_PREFIX):
        return humanize(action.removeprefix(ACTION_PREFIX).replace("-", "_"))
    own = OWN_VERBS.get(action)
    if own is None:
        return humanize(action.replace(".", "_"))
    words = f"{own.verb}{own.after}".split()
    if own.names_record and not own.after and words[-1] in RECORD_PARTICLES:
        words = words[:-1]
    return " ".join(words)


def past_tense(verb: str) -> str:
    word = verb.lower()
    if word in IRREGULAR_PAST:
        past = IRREGULAR_PAST[word]
    elif word.endswith("e"):
        past = word + "d"
    elif re.fullmatch(r".*[^aeiou]y", word):
        past = word[:-1] + "ied"
    elif re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", word):
        past = word + word[-1] + "ed"  # stop -> stopped: one syllable, consonant-vowel-consonant
    else:
        past = word + "ed"
    return past[:1].upper() + past[1:] if verb[:1].isupper() else past


def action_phrase(label: str) -> Phrase:
    """A row action's label in the past tense, around the record it acted on."""
    words = re.sub(r"\(.*?\)|…|\.\.\.", " ", label).split()
    if not words:
        return Phrase("Changed")
    verb, rest = past_tense(words[0]), [OBJECT_PRONOUNS.get(w.lower(), w) for w in words[1:]]
    if rest and rest[-1].lower() in DANGLING:
        rest = rest[:-1]
    if not rest:
        return Phrase(verb)
    if rest[0].lower() in PARTICLES:
        return Phrase(verb, after=" " + " ".join(rest))
    return Phrase(f"{verb} {' '.join(rest)} of")


@dataclass(frozen=True)
class Named:
    """A record or a staff member as staff read them: a label, linked when they may look."""

    label: str
    url: str = ""

    def html(self) -> Markup:
        if self.url:
            return Markup('<a href="{}">{}</a>').format(self.url, self.label)
        return escape(self.label)


@dataclass(frozen=True)
class Sentence:
    verb: str
    noun: str = ""
    record: Named | None = None
    after: str = ""

    def _parts(self) -> tuple[str, str]:
        head = " ".join(part for part in (self.verb, self.noun) if part)
        return head, self.after

    def text(self) -> str:
        head, after = self._parts()
        record = f" {self.record.label}" if self.record else ""
        return f"{head}{record}{after}"

    def html(self) -> Markup:
        head, after = self._parts()
        record = Markup(" ") + self.record.html() if self.record else Markup("")
        return Markup('<span class="staff-audit-sentence">{}{}{}</span>').format(
            head, record, after
        )


@dataclass(frozen=True)
class Change:
    """One field an entry changed, as the detail page shows it."""

    label: str
    before: str
    after: str


def _money(after: dict[str, Any]) -> str:
    """ " by +12.50 USD" for an entry that moved money."""
    try:
        amount = Decimal(str(after["amount"]))
    except (KeyError, InvalidOperation):
        return ""
    currency = after.get("currency")
    return f" by {amount:+,.2f}" + (f" {currency}" if currency else "")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _key(table: str, entity_id: str | None) -> tuple[str, str]:
    return table, entity_id or ""


class Reading:
    """A page of entries, with the records they name looked up once."""

    def __init__(
        self, tables: dict[str, Screen], records: dict[tuple[str, str], Any], request: Request
    ) -> None:
        self.tables = tables
        self.records = records
        self.request = request

    def _named(self, table: str, entity_id: str | None) -> Named | None:
        if entity_id is None:
            return None
        record = self.records.get(_key(table, entity_id))
        screen = self.tables.get(table)
        if record is None or screen is None or screen.view is None:
            return Named(entity_id)
        return Named(str(record), door.record_url(screen.view, self.request, record))

    def actor(self, entry: AuditLog) -> Named:
        if entry.actor_id is None:
            return Named(entry.actor_email or "system")
        found = self._named(STAFF_TABLE, str(entry.actor_id))
        return found if found is not None else Named(entry.actor_email or "")

    def phrase(self, entry: AuditLog) -> Phrase:
        if entry.action.startswith(ACTION_PREFIX):
            name = entry.action.removeprefix(ACTION_PREFIX)
            screen = self.tables.get(entry.entity_type)
            label = screen.actions.get(name) if screen else None
            return action_phrase(label or humanize(name.replace("-", "_")))
        return OWN_VERBS.get(entry.action) or Phrase(humanize(entry.action.replace(".", "_")))

    def sentence(self, entry: AuditLog) -> Sentence:
        phrase = self.phrase(entry)
        screen = self.tables.get(entry.entity_type)
        after = phrase.after + _money(entry.after or {})
        if entry.action == "export":
            plural = (
                inside_sentence(screen.title) if screen else humanize(entry.entity_type).lower()
            )
            kind = str((entry.after or {}).get("format", "")).upper()
            return Sentence(phrase.verb, plural, after=f" as {kind}" if kind else "")
        if not phrase.names_record:
            reason = (entry.after or {}).get("reason")
            return Sentence(phrase.verb, after=f" ({reason})" if reason else after)
        record = self._named(entry.entity_type, entry.entity_id)
        noun = screen.noun if screen else humanize(entry.entity_type).lower()
        if record is not None and _names_itself(record.label, noun):
            noun = ""
        return Sentence(phrase.verb, noun, record, after)

    def changes(self, entry: AuditLog) -> list[Change]:
        before = personal_data.shown_in(entry, "before", entry.before) or {}
        after = personal_data.shown_in(entry, "after", entry.after) or {}
        screen = self.tables.get(entry.entity_type)
        labels = door.column_labels(screen.view) if screen and screen.view else {}
        keys = [*before, *(key for key in after if key not in before)]
        return [
            Change(
                labels.get(key) or humanize(key), _shown(before.get(key)), _shown(after.get(key))
            )
            for key in keys
        ]


def _names_itself(label: str, noun: str) -> bool:
    """Whether a label already says what it is ("USD wallet of ..."): the noun would repeat."""
    last = noun.split()[-1] if noun else ""
    return bool(last) and re.search(rf"\b{re.escape(last)}\b", label, re.IGNORECASE) is not None


def _ids(values: Iterable[str | None]) -> set[uuid.UUID]:
    found = set()
    for value in values:
        try:
            found.add(uuid.UUID(str(value)))
        except ValueError:
            continue  # ids of rows that are not keyed by UUID (a setting's key) stay as text
    return found


async def _labelled(db: AsyncSession, model: type[Any], ids: set[uuid.UUID]) -> list[Any]:
    """The rows, with the rows their labels name (`label_loads`) in the same query."""
    named = [joinedload(getattr(model, name)) for name in getattr(model, "label_loads", ())]
    return list(await db.scalars(sa.select(model).where(model.id.in_(ids)).options(*named)))


async def read(
    db: AsyncSession, entries: list[AuditLog], tables: dict[str, Screen], request: Request
) -> Reading:
    """Look up every record and actor the entries name, one query per table."""
    wanted: dict[str, list[str | None]] = {}
    for entry in entries:
        wanted.setdefault(entry.entity_type, []).append(entry.entity_id)
        if entry.actor_id is not None:
            wanted.setdefault(STAFF_TABLE, []).append(str(entry.actor_id))
    records: dict[tuple[str, str], Any] = {}
    for table, values in wanted.items():
        screen = tables.get(table)
        ids = _ids(values)
        if screen is None or screen.view is None or not ids:
            continue
        for row in await _labelled(db, screen.view.model, ids):
            records[_key(table, str(row.id))] = row
    return Reading(tables, records, request)
