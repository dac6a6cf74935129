"""A role's permission strings as a grid: a row per screen, a column per verb.

The grid is what the strings grant, wildcards expanded (`*`, `merchants:*`, `*:view`,
`users:action:*`), so staff read and edit boxes rather than strings. Saving turns the ticked
boxes back into strings: a string the role already had stays while every box it covers is
still ticked (so `*` survives an unchanged save), the rest is spelled out box by box, and
strings no box shows (an unknown table, a verb no screen offers) are kept only while their
own box stays ticked. A string that is new and names no table, page, verb or action that
exists is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from admin_views.shared.screens import PERSONAL_DATA, TABLE_VERBS, Screen
from auth.permissions import ACTION_PREFIX, WILDCARD, allows, is_well_formed

ALL_ACTIONS = f"{ACTION_PREFIX}{WILDCARD}"
COLUMNS = (*TABLE_VERBS, "actions")

Cell = tuple[str, str]
"""(resource, verb) of one box, e.g. ("users", "action:suspend")."""


class UnknownPermissionsError(ValueError):
    def __init__(self, wrong: list[str]) -> None:
        super().__init__(
            f"Not a permission: {', '.join(wrong)}. Use <table>:<verb>, e.g. merchants:edit."
        )
        self.wrong = wrong


@dataclass(frozen=True)
class Box:
    permission: str
    label: str
    ticked: bool


@dataclass(frozen=True)
class Row:
    screen: Screen
    verbs: list[Box | None]
    """One per verb of `TABLE_VERBS`; None where the screen does not offer the verb."""
    all_actions: Box | None
    actions: list[Box]


@dataclass(frozen=True)
class Grid:
    columns: tuple[str, ...]
    rows: list[Row]
    others: list[Box]
    """Granted strings no box shows, listed so they are kept or removed knowingly."""


def _box(resource: str, verb: str, label: str, granted: Iterable[str]) -> Box:
    return Box(f"{resource}:{verb}", label, allows(granted, resource, verb))


def cells(screens: list[Screen]) -> list[Cell]:
    """Every box of the grid, in reading order."""
    found: list[Cell] = []
    for screen in screens:
        found += [(screen.resource, verb) for verb in screen.verbs]
        if screen.actions:
            found.append((screen.resource, ALL_ACTIONS))
            found += [(screen.resource, f"{ACTION_PREFIX}{name}") for name in screen.actions]
    return found


def _covers(permission: str, every: list[Cell]) -> set[Cell]:
    return {cell for cell in every if allows([permission], *cell)}


def grid(granted: Iterable[str], screens: list[Screen]) -> Grid:
    granted = list(granted)
    rows = []
    for screen in screens:
        resource = screen.resource
        rows.append(
            Row(
                screen=screen,
                verbs=[
                    _box(resource, verb, verb, granted) if verb in screen.verbs else None
                    for verb in TABLE_VERBS
                ],
                all_actions=_box(resource, ALL_ACTIONS, "all", granted) if screen.actions else None,
                actions=[
                    _box(resource, f"{ACTION_PREFIX}{name}", label, granted)
                    for name, label in screen.actions.items()
                ],
            )
        )
    every = cells(screens)
    others = [Box(p, p, True) for p in granted if not _covers(p, every)]
    return Grid(COLUMNS, rows, others)


def _known(permission: str, screens: dict[str, Screen]) -> bool:
    """Whether a string names a table or page, and a verb or action, that exist."""
    if not is_well_formed(permission):
        return False
    if permission == WILDCARD:
        return True
    resource, _, verb = permission.partition(":")
    if resource == WILDCARD:
        return verb in (WILDCARD, *TABLE_VERBS, ALL_ACTIONS)
    screen = screens.get(resource)
    if screen is None:
        return False
    named_action = verb.removeprefix(ACTION_PREFIX) if verb.startswith(ACTION_PREFIX) else None
    return (
        verb == WILDCARD
        or verb in screen.verbs
        or (bool(screen.actions) and verb == ALL_ACTIONS)
        or named_action in screen.actions
    )


def settle(posted: Iterable[str], had: list[str], screens: list[Screen]) -> list[str]:
    """The strings to store for the boxes ticked (`posted`), given what the role `had`."""
    ticked_strings = list(dict.fromkeys(p.strip() for p in posted if p.strip()))
    by_resource = {screen.resource: screen for screen in screens}
    wrong = [p for p in ticked_strings if p not in had and not _known(p, by_resource)]
    if wrong:
        raise UnknownPermissionsError(wrong)
    every = cells(screens)
    ticked = {cell for cell in every if allows(ticked_strings, *cell)}
    kept = [
        p
        for p in had
        if p in ticked_strings or ((covered := _covers(p, every)) and covered <= ticked)
    ]
    kept_cover = {cell for cell in every if allows(kept, *cell)}
    spelled = [
        p
        for p in ticked_strings
        if p not in kept and not ((covered := _covers(p, every)) and covered <= kept_cover)
    ]
    return kept + spelled


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(granted: Iterable[str], screens: list[Screen]) -> str:
    """One line for the roles list: "Everything", or "Views 12 tables and 1 page, edits 4"."""
    granted = list(granted)
    if WILDCARD in granted:
        return "Everything"
    tables = [s for s in screens if s.is_table]
    pages = [s for s in screens if not s.is_table and s != PERSONAL_DATA]

    def tables_allowing(verb: str) -> int:
        return sum(verb in s.verbs and allows(granted, s.resource, verb) for s in tables)

    acting = sum(
        any(allows(granted, s.resource, f"{ACTION_PREFIX}{name}") for name in s.actions)
        for s in tables
    )
    viewed = (
        (tables_allowing("view"), "table"),
        (sum(allows(granted, s.resource, "view") for s in pages), "page"),
    )
    views = [_count(n, noun) for n, noun in viewed if n]
    parts = [f"views {' and '.join(views)}"] if views else []
    parts += [
        f"{verb}s {n}"
        for verb in ("create", "edit", "delete", "export")
        if (n := tables_allowing(verb))
    ]
    if acting:
        parts.append(f"runs actions on {acting}")
    if allows(granted, PERSONAL_DATA.resource, "view"):
        parts.append("sees personal data")
    every = cells(screens)
    others = sum(not _covers(p, every) for p in granted)
    if others:
        parts.append(_count(others, "other permission"))
    text = ", ".join(parts) or "nothing"
    return text[:1].upper() + text[1:]
