"""Changes a confirmed action would make (a copy of a state, a restore), as staff read them:
the field's label, its value now and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin_views import sqladmin_door as door
from admin_views.shared.labels import humanize
from admin_views.shared.wording import Said, Wording

Difference = tuple[str, Any, Any]
"""(field, its value now, its value after)."""


@dataclass(frozen=True)
class ShownChange:
    """A field's label and its change in words (before, after, what it left alone)."""

    field: str
    said: Said


def shown(view: Any, found: list[Difference], wording: Wording) -> list[ShownChange]:
    """Each change as staff read it: the field's label, its value before and after."""
    labels = door.column_labels(view)
    return [
        ShownChange(str(labels.get(name) or humanize(name)), wording.change(name, old, new))
        for name, old, new in found
    ]


def in_words(view: Any, found: list[Difference], wording: Wording) -> str:
    """The changes in one line, for an approval request: "Rollout: 10% → 100%; ..."."""
    return "; ".join(f"{c.field}: {c.said.in_line()}" for c in shown(view, found, wording))
