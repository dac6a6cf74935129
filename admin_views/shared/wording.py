"""A field's value, and a change to it, as staff read them: in a record's history, on the
page that confirms a copy or a restore, and in an approval request's preview.

Nothing is cut: two values that differ never read the same. A change short enough to take
in at a glance is said whole on both sides. A longer list or mapping (a flag's variants
with their payloads, a segment's allow-list) is said as the items that differ only — as
they were, or removed, before; as they are, or added, after — and how many others the
change left alone, as an audit diff folds the lines a change did not touch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SHORT = 80
"""Characters of a side said whole; a change to a longer list says only what differs."""
SEPARATOR = " · "
"""Between the items of a folded side."""
NOTHING = "—"
"""A folded side with no item of its own (items only added, or only removed)."""


@dataclass(frozen=True)
class Item:
    """One item of a list or mapping, for a change to say only the items that differ."""

    key: str
    """What the item is, the same on both sides (a variant's name, a user id)."""
    value: Any
    """The item as stored: the item changed where this differs."""
    text: str
    """The item as staff read it."""


@dataclass(frozen=True)
class Said:
    """A change in words."""

    before: str
    after: str
    unchanged: str = ""
    """How many items the change left alone ("3 others unchanged") when the sides list only
    the items that differ; empty when they say the whole values."""

    def in_line(self) -> str:
        """ "10% → 100%", "yearly 10 → yearly 5 (3 others unchanged)"."""
        return f"{self.before} → {self.after}" + (f" ({self.unchanged})" if self.unchanged else "")


def exactly(value: Any) -> str:
    """A value's JSON, for two values whose words read the same."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Wording:
    """How a screen says its values, and the changes between them. A screen whose values
    read in words of their own (a flag's variants, its rules) subclasses it."""

    def value(self, _name: str, value: Any) -> str:
        """The whole value, as staff read it."""
        if value is None or value == "" or value == [] or value == {}:
            return "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return ", ".join(value)
        return self.item(value)

    def item(self, value: Any) -> str:
        """One item of a list or one value of a mapping, as staff read it."""
        return exactly(value) if isinstance(value, Mapping | list) else str(value)

    def items(self, _name: str, value: Any) -> list[Item] | None:
        """`value` as items, for a change to name only those that differ; None for a value
        that is not a list or mapping."""
        if isinstance(value, Mapping):
            return [Item(str(k), item, f"{k}: {self.item(item)}") for k, item in value.items()]
        if isinstance(value, list):
            return [Item(exactly(item), item, self.item(item)) for item in value]
        return None

    def change(self, name: str, before: Any, after: Any) -> Said:
        """`before` → `after` of field `name`: whole when short, else folded to the items
        that differ."""
        whole = Said(self.value(name, before), self.value(name, after))
        if whole.before == whole.after and before != after:
            return Said(exactly(before), exactly(after))
        if len(whole.before) <= SHORT and len(whole.after) <= SHORT:
            return whole
        was, now = self.items(name, before), self.items(name, after)
        return (was and now and folded(was, now)) or whole


def folded(was: list[Item], now: list[Item]) -> Said | None:
    """The items that differ between `was` and `now`, and how many did not; None where
    folding would hide something: no item left alone, an item twice, or the items kept
    in another order (a flag's variants are picked in their order)."""
    old = {item.key: item for item in was}
    new = {item.key: item for item in now}
    kept = [key for key in old if key in new]
    if len(old) < len(was) or len(new) < len(now) or kept != [k for k in new if k in old]:
        return None
    alone = {key for key in kept if old[key].value == new[key].value}
    if not alone:
        return None
    before, after = [], []
    for key in dict.fromkeys([*old, *new]):
        if key in alone:
            continue
        was_text = old[key].text if key in old else ""
        now_text = new[key].text if key in new else ""
        if was_text == now_text:
            was_text, now_text = exactly(old[key].value), exactly(new[key].value)
        before += [was_text] if was_text else []
        after += [now_text] if now_text else []
    others = len(alone)
    return Said(
        SEPARATOR.join(before) or NOTHING,
        SEPARATOR.join(after) or NOTHING,
        f"{others:,} other{'' if others == 1 else 's'} unchanged",
    )


PLAIN = Wording()
"""Values in plain words, for a screen that declares none of its own."""


def words_of(view: Any) -> Wording:
    """How a view's values read: as its history says them (a flag's rules in words),
    so an approval's preview and the change it becomes read alike."""
    history = getattr(view, "history", None)
    return history.words if history is not None else PLAIN
