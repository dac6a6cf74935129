"""Money actions on screens: amounts as staff type them, ledger answers as action results."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

from wtforms import DecimalField, Field, Form, validators

from admin_views.shared.actions import ActionRefusedError, AlreadyDoneError
from ledger.postings import CENT, LedgerRefusedError, Posted

MOST_AT_ONCE = Decimal("1000000.00")
"""The largest amount one staff action may move."""


def whole_cents(_form: Form, field: Field) -> None:
    """A finite amount in cents; stops before range checks, which cannot compare NaN."""
    if field.data is None:
        return
    if not field.data.is_finite():
        raise validators.StopValidation("Enter an amount, e.g. 12.50.")
    if field.data != field.data.quantize(CENT):
        raise validators.StopValidation("At most two decimal places (cents).")


def amount_field(label: str, *, required: bool = True, description: str = "") -> DecimalField:
    presence = validators.InputRequired() if required else validators.Optional()
    return DecimalField(
        label,
        places=2,
        validators=[
            presence,
            whole_cents,
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
