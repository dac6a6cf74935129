"""Partner merchants where customers spend and earn cashback."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.personal_data import Kind, personal
from models.base import (
    Base,
    JSONDocument,
    Percent,
    SoftDelete,
    StringList,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    list_index,
    trigram_index,
)

if TYPE_CHECKING:
    from models.payments import WalletTransaction


class MerchantStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class MerchantCategory(StrEnum):
    GROCERY = "grocery"
    DINING = "dining"
    RETAIL = "retail"
    TRAVEL = "travel"
    FUEL = "fuel"
    ENTERTAINMENT = "entertainment"
    HEALTH = "health"
    SERVICES = "services"
    DIGITAL = "digital"
    OTHER = "other"


class Merchant(UUIDKey, Timestamps, SoftDelete, Base):
    """A business that accepts SwipeSavvy payments. Deactivated, never deleted."""

    lookup_by = ("name", "contact_email")
    """Grows with the business: relationship fields to it search as you type by these."""

    __tablename__ = "merchants"
    __table_args__ = (
        check(
            "cashback_rate >= 0 AND cashback_rate <= 100",
            "cashback_rate",
            fields=("cashback_rate",),
            message="Cashback must be between 0 and 100 percent.",
            minimum=0,
            maximum=100,
        ),
        check(
            "contact_email = lower(contact_email)",
            "email_lowercase",
            fields=("contact_email",),
            message="Email addresses are stored in lower case.",
        ),
        check(
            "status <> 'rejected' OR rejection_reason IS NOT NULL",
            "rejection_reason",
            fields=("rejection_reason",),
            message="A rejected merchant needs a reason.",
        ),
        *(list_index("merchants", c) for c in ("status", "category")),
        *(trigram_index("merchants", c) for c in ("name", "legal_name", "contact_email", "phone")),
    )

    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    legal_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(
        sa.String(255), unique=True, info=personal(Kind.EMAIL)
    )
    phone: Mapped[str | None] = mapped_column(sa.String(32), info=personal(Kind.PHONE))
    website: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(
        choice(MerchantStatus, "status"), default=MerchantStatus.PENDING
    )
    category: Mapped[str] = mapped_column(
        choice(MerchantCategory, "category"), default=MerchantCategory.OTHER
    )
    cashback_rate: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0.00"))
    """Share of each purchase returned to the customer, in percent."""
    tags: Mapped[list[str]] = mapped_column(StringList(), default=list)
    address: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    """Set instead of deleting the row: merchants are never hard-deleted."""

    transactions: Mapped[list[WalletTransaction]] = relationship(back_populates="merchant")

    def deactivate(self, now: datetime) -> None:
        self.deactivated_at = now

    def __str__(self) -> str:
        return self.name
