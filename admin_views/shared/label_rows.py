"""Eager loading of the rows a record's label names."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload


def with_label_rows(attribute: Any) -> Any:
    """Eager loading of a related row together with the rows its label names (a wallet
    is "USD wallet of Erica Murphy"), so labels never fetch a row at a time."""
    option = selectinload(attribute)
    target = attribute.property.mapper.class_
    for name in getattr(target, "label_loads", ()):
        option = option.selectinload(getattr(target, name))
    return option


def own_label_rows(model: type) -> list[Any]:
    """Eager loading of the rows the model's own label names."""
    return [selectinload(getattr(model, name)) for name in getattr(model, "label_loads", ())]
