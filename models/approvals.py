"""Four eyes: a risky change waits here until a second staff member approves it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    Base,
    JSONDocument,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    list_index,
)
from models.people import AdminUser

DEFAULT_THRESHOLDS: dict[str, Decimal] = {
    "CAD": Decimal("700.00"),
    "EUR": Decimal("500.00"),
    "GBP": Decimal("400.00"),
    "MXN": Decimal("10000.00"),
    "USD": Decimal("500.00"),
}
"""Money moved by one action above which a second person approves, until staff change the
`four_eyes.threshold.<currency>` setting."""


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    """Approved and waiting for its maker (an export to download); everything else runs at
    the moment it is approved and goes straight to executed or failed."""
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ApprovalRequest(UUIDKey, Timestamps, Base):
    """A guarded change asked by one staff member (the maker), approved or rejected by
    another (the checker). The change itself is kept as it was asked (`params`) and runs
    through the same code as an unguarded one, once, when approved."""

    lookup_by = ("record_label", "action_label")

    __tablename__ = "approval_requests"
    __table_args__ = (
        check(
            "checker_id IS NULL OR checker_id <> maker_id",
            "checker_is_not_maker",
            fields=("checker",),
            message="The staff member who asked cannot approve their own request.",
        ),
        check(
            "length(reason) >= 5",
            "reason_given",
            fields=("reason",),
            message="Say why, in at least 5 characters.",
        ),
        list_index("approval_requests", "status"),
        list_index("approval_requests", "maker_id"),
    )

    table_name: Mapped[str] = mapped_column(sa.String(64))
    """The screen's table the change is on (`wallets`)."""
    action: Mapped[str] = mapped_column(sa.String(64))
    """The action's name on that screen (`adjust`), or `edit`, or `export`."""
    action_label: Mapped[str] = mapped_column(sa.String(100))
    permission: Mapped[str] = mapped_column(sa.String(120))
    """What doing the change needs (`wallets:action:adjust`); the checker needs it too."""
    record_ids: Mapped[list[str]] = mapped_column(JSONDocument(), default=list)
    record_label: Mapped[str] = mapped_column(sa.String(300))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)
    """The change as asked: the action's form as submitted, an edit's fields, an export's
    query string."""
    preview: Mapped[str] = mapped_column(sa.Text, default="")
    """The effect, in words: "balance 120.00 → 1,020.00 USD"."""
    rule: Mapped[str] = mapped_column(sa.String(300))
    """Why a second person is needed: "900.00 USD is above the 500.00 USD threshold"."""
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(
        choice(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    maker_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="RESTRICT")
    )
    checker_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="RESTRICT")
    )
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    executed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    """What running it did ("Made ADJ-…") or why it could not run."""

    maker: Mapped[AdminUser] = relationship(foreign_keys=[maker_id])
    checker: Mapped[AdminUser | None] = relationship(foreign_keys=[checker_id])

    def __str__(self) -> str:
        return f"{self.action_label}: {self.record_label}"
