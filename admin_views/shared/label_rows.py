"""Eager loading of the rows a record's label names.

A row's own related row (a ticket's customer, a transaction's wallet) comes in the same
statement, joined: with a list's 25 rows that is one statement where loading it by key
took one more per relation (a tickets list read its tickets, then their customers, then
their assignees). A row's many related rows (a customer's wallets) come in one more
statement each, by key, as a join would repeat the row for each of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import joinedload, selectinload


def eager(attribute: Any, within: Any = None) -> Any:
    """Eager loading of a relation, joined when it is one row, by key when many; `within`
    the loading of the relation it hangs from."""
    if attribute.property.uselist:
        return selectinload(attribute) if within is None else within.selectinload(attribute)
    return joinedload(attribute) if within is None else within.joinedload(attribute)


def with_label_rows(attribute: Any) -> Any:
    """Eager loading of a related row together with the rows its label names (a wallet
    is "USD wallet of Erica Murphy"), so labels never fetch a row at a time."""
    option = eager(attribute)
    target = attribute.property.mapper.class_
    for name in getattr(target, "label_loads", ()):
        option = eager(getattr(target, name), option)
    return option


def own_label_rows(model: type) -> list[Any]:
    """Eager loading of the rows the model's own label names."""
    return [eager(getattr(model, name)) for name in getattr(model, "label_loads", ())]
