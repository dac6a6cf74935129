"""Forms whose submission takes effect once, however often it arrives.

The form carries a random key from the moment it is shown; a double click, a browser
retry or a resubmitted page sends the same key again. Each selected row gets its own key
derived from it, so the ledger (or any door) can recognise the repeat and answer the first
result instead of doing the work twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from wtforms import HiddenField, validators

from admin_views.shared.staff_form import StaffForm


class SubmittedOnceForm(StaffForm):
    idempotency_key = HiddenField(
        default=lambda: uuid.uuid4().hex,
        validators=[
            validators.InputRequired(),
            validators.Regexp(
                r"^[0-9a-f]{32}$", message="This form is damaged: open it again from the list."
            ),
        ],
    )


def key_for(params: dict[str, Any], row_id: uuid.UUID) -> str:
    """The idempotency key of this submission for one row."""
    return str(uuid.uuid5(uuid.UUID(hex=params["idempotency_key"]), str(row_id)))
