"""What an audit entry says about a row: its column values, secrets masked, and diffs."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from audit.trail import MASK, plain


@cache
def declared_secret(model: type[Any]) -> frozenset[str]:
    """The columns a model declares secret (`info={"secret": True}`)."""
    return frozenset(c.key for c in sa.inspect(model).columns if c.info.get("secret"))


def masked_fields(obj: Any) -> frozenset[str]:
    """Columns declared secret on the model, plus any the row itself says are secret."""
    declared = declared_secret(type(obj))
    per_row = getattr(obj, "masked_fields", None)
    return declared | frozenset(per_row()) if callable(per_row) else declared


def snapshot(obj: Any) -> dict[str, Any]:
    """Every column of the row as plain JSON values, secrets replaced by a mask; columns
    the app derives from the others (`info={"derived": True}`) are left out, as no one
    changes them."""
    hidden = masked_fields(obj)
    return {
        column.key: MASK if column.key in hidden else plain(getattr(obj, column.key))
        for column in sa.inspect(type(obj)).columns
        if not column.info.get("derived")
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after); bookkeeping columns left out."""
    changed = [
        key for key in after if key not in ("updated_at",) and before.get(key) != after.get(key)
    ]
    return {key: before.get(key) for key in changed}, {key: after[key] for key in changed}
