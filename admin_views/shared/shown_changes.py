"""Changes a confirmed action would make (a copy of a state, a restore), as staff read them:
the field's label, its value now and after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from admin_views import sqladmin_door as door
from admin_views.shared.labels import humanize

Difference = tuple[str, Any, Any]
"""(field, its value now, its value after)."""
Words = Callable[[str, Any], str]
"""(field, value as the column holds it) -> the value as staff read it."""


@dataclass(frozen=True)
class ShownChange:
    field: str
    before: str
    after: str


def shown(view: Any, found: list[Difference], said: Words) -> list[ShownChange]:
    """Each change as staff read it: the field's label, its value before and after."""
    labels = door.column_labels(view)
    return [
        ShownChange(str(labels.get(name) or humanize(name)), said(name, old), said(name, new))
        for name, old, new in found
    ]


def in_words(view: Any, found: list[Difference], said: Words) -> str:
    """The changes in one line, for an approval request: "Rollout: 10% → 100%; ..."."""
    return "; ".join(f"{c.field}: {c.before} → {c.after}" for c in shown(view, found, said))
