"""Money actions on screens: amounts as staff type them, ledger answers as action results."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

from wtforms import DecimalField, Field, Form, validators

from admin_views.shared.actions import ActionRefusedError, AlreadyDoneError
from ledger.postings import CENT, LedgerRefusedError, Posted

MOST_AT_ONCE = Decimal("1000000.00")
"""The largest amount one staff action may move."""
LARGEST_STORED = Decimal("9999999999999999.99")
"""The largest amount a money column holds (`Money()`: 18 digits, 2 after the point)."""

TYPED = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")
"""An amount as staff type one: ASCII digits, then a point and one or two decimals. Not
what Python's Decimal also takes (`1_000`, `١٢`, `1e6`, ` 12`, `+12`, `12.`, `.5`, `NaN`):
a staff member who typed that meant something the form would only guess at. A minus is
read, so that the field's range says why it is refused: every money form takes positive
amounts only (an action's direction is its own field), and says so in its own words."""
TYPED_AS = "Enter digits, with at most two decimals after a point: 12, 12.5 or 12.50."


def typed_amount(_form: Form, field: Field) -> None:
    """Every amount field's check of the text as typed (`TYPED`), before any range.

    It stops the chain with one message: range checks never compare what is not a
    plain amount, and DecimalField's own "Not a valid decimal value." is replaced."""
    text = field.raw_data[0] if field.raw_data else ""
    if text and not TYPED.fullmatch(text):
        field.errors[:] = []
        raise validators.StopValidation(TYPED_AS)


def storable_amount(_form: Form, field: Field) -> None:
    """No larger than a money column holds: beyond it the database refuses the row."""
    if field.data is not None and abs(field.data) > LARGEST_STORED:
        raise validators.StopValidation(f"At most {LARGEST_STORED:,}: that is all it can hold.")


COLUMN_CHECKS = (typed_amount, storable_amount)
"""What a form field over a money column checks before the column's own bounds."""


def amount_field(label: str, *, required: bool = True, description: str = "") -> DecimalField:
    presence = validators.InputRequired() if required else validators.Optional()
    return DecimalField(
        label,
        places=2,
        validators=[
            presence,
            typed_amount,
            validators.NumberRange(
                min=CENT,
                max=MOST_AT_ONCE,
                message=f"Between 0.01 and {MOST_AT_ONCE:,} for one action.",
            ),
        ],
        description=description,
    )


async def moved(posting: Awaitable[Posted]) -> dict[str, Any]:
    """Run a ledger posting for a row action: its refusal refuses the action, a repeat of
    the same submission is reported as already done, and what it made goes to the audit."""
    try:
        posted = await posting
    except LedgerRefusedError as refused:
        raise ActionRefusedError(str(refused)) from None
    transaction = posted.transaction
    if posted.replayed:
        raise AlreadyDoneError(
            f"This form already made {transaction.reference}; nothing new was done."
        )
    return {
        "transaction": transaction.reference,
        "type": str(transaction.type),
        "amount": str(transaction.amount),
        "currency": transaction.currency,
        "description": transaction.description,
    }
