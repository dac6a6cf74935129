"""Demo rows for a table `generate.py` has no batch for, made from the table's columns.

A table added as a model and a view gets demo rows with no edit here: its choices and yes/no
columns go through every value in turn (as `Weighted.deal` does), foreign keys point at rows
written earlier in the same run, numbers stay within the `minimum`/`maximum` its `check`
constraints declare, text within the column's length. A table whose rows must follow rules
its columns do not show (sums that match, states that fit together) gets a hand-written
`Batch` in `generate.py` instead, which this then leaves alone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.types import TypeDecorator, TypeEngine

from models import Base

Row = dict[str, Any]
Make = Callable[[int, datetime], Any]
"""Makes the `n`th row's value for a column, given the row's one point in time."""
ROWS_PER_VALUE = 3
"""Each choice and yes/no answer shows up this many times, as in the hand-written tables."""
MINIMUM_ROWS = 12
KEPT_IDS = 200
"""Ids remembered per table for later foreign keys: enough to spread rows, cheap at 1M."""
DEFAULT_RANGE = (1, 100)
"""Numbers with no declared bounds: positive, as amounts and counts mostly must be."""
PAST_DAYS = 90


def remember(ids: dict[str, list[Any]], table: str, rows: list[Row]) -> None:
    """Note that `table` is written and keep the first ids of its rows for foreign keys."""
    kept = ids.setdefault(table, [])
    kept.extend(row["id"] for row in rows[: KEPT_IDS - len(kept)] if "id" in row)


def unwritten(ids: dict[str, list[Any]]) -> Iterator[sa.Table]:
    """The tables, in foreign-key order, that nothing before has written."""
    return (table for table in Base.metadata.sorted_tables if table.name not in ids)


def rows(
    table: sa.Table, ids: dict[str, list[Any]], rng: random.Random, fake: Faker, now: datetime
) -> list[Row]:
    """Enough rows of `table` to show each of its choices and yes/no answers a few times."""
    choices = [len(c.type.enums) for c in table.columns if isinstance(c.type, sa.Enum)]
    booleans = [2 for c in table.columns if isinstance(c.type, sa.Boolean)]
    count = max(MINIMUM_ROWS, ROWS_PER_VALUE * max([*choices, *booleans], default=0))
    makers = {column.name: _value_for(column, ids, rng, fake) for column in table.columns}
    result = []
    for n in range(count):
        moment = now - timedelta(days=rng.randint(1, PAST_DAYS), seconds=rng.randint(0, 86_399))
        result.append({name: make(n, moment) for name, make in makers.items()})
    return result


def _value_for(
    column: sa.Column, ids: dict[str, list[Any]], rng: random.Random, fake: Faker
) -> Make:
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column
        known = ids.get(target.table.name) if target.name == "id" else None
        if known:
            return lambda n, _moment: known[n % len(known)]
        if column.nullable:
            return lambda _n, _moment: None
        raise ValueError(
            f"demo rows for {column.table.name} need {target.table.name} rows first: add a "
            f"`Batch({column.table.name!r}, ...)` to `DemoData.batches` in demo_data/generate.py"
        )
    if isinstance(column.type, sa.Enum):
        values = column.type.enums
        return lambda n, _moment: values[n % len(values)]
    kind = _python_type(column.type)
    low, high = _bounds(column)
    makers: dict[type, Make] = {
        uuid.UUID: lambda _n, _moment: uuid.UUID(int=rng.getrandbits(128), version=4),
        bool: lambda n, _moment: n % 2 == 0,
        int: (
            (lambda n, _moment: low + n)
            if column.unique or column.primary_key
            else (lambda _n, _moment: rng.randint(low, high))
        ),
        float: lambda _n, _moment: rng.uniform(low, high),
        Decimal: lambda _n, _moment: Decimal(rng.randint(low * 100, high * 100)).scaleb(-2),
        datetime: lambda _n, moment: moment,
        date: lambda _n, moment: moment.date(),
        dict: lambda _n, _moment: {},
        list: lambda _n, _moment: [],
        str: _text(column, fake),
    }
    if kind in makers:
        return makers[kind]
    if column.nullable:
        return lambda _n, _moment: None
    raise ValueError(
        f"demo rows cannot be made for {column.table.name}.{column.name} ({column.type}): add a "
        f"`Batch({column.table.name!r}, ...)` to `DemoData.batches` in demo_data/generate.py"
    )


def _python_type(column_type: TypeEngine[Any]) -> type:
    """What a column holds in Python; SQLAlchemy says `object` for JSON and our decorators."""
    if isinstance(column_type, sa.JSON):
        return dict
    try:
        kind = column_type.python_type
    except NotImplementedError:
        return object
    if kind is object and isinstance(column_type, TypeDecorator):
        return _python_type(column_type.impl_instance)
    return kind


def _text(column: sa.Column, fake: Faker) -> Make:
    length = getattr(column.type, "length", None)
    if "email" in column.name:
        return lambda n, _moment: f"demo{n}@example.com"
    if length is None:
        return lambda _n, _moment: fake.paragraph()
    if column.unique:
        # The number first: cut to the column's length, the values stay unique.
        return lambda n, _moment: f"{n} {fake.word()}"[:length]
    return lambda _n, _moment: fake.sentence(nb_words=4)[:length]


def _bounds(column: sa.Column) -> tuple[int, int]:
    """The range the table's `check` constraints declare for `column`, else `DEFAULT_RANGE`."""
    low, high = DEFAULT_RANGE
    for constraint in column.table.constraints:
        info = getattr(constraint, "info", {})
        if column.name in info.get("fields", ()):
            low = info["minimum"] if info.get("minimum") is not None else low
            high = info["maximum"] if info.get("maximum") is not None else high
    return low, max(low, high)
