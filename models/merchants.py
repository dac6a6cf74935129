"""Partner merchants where customers spend and earn cashback."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    Base,
    JSONDocument,
    Percent,
    StringList,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    choice,
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


class Merchant(UUIDKey, Timestamps, Base):
    """A business that accepts SwipeSavvy payments."""

    __tablename__ = "merchants"
    __table_args__ = (
        sa.CheckConstraint("cashback_rate >= 0 AND cashback_rate <= 100", name="cashback_rate"),
        sa.CheckConstraint("contact_email = lower(contact_email)", name="email_lowercase"),
        sa.CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL", name="rejection_reason"
        ),
        sa.Index("ix_merchants_status_created_at", "status", "created_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    legal_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    website: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(
        choice(MerchantStatus, "status"), default=MerchantStatus.PENDING, index=True
    )
    category: Mapped[str] = mapped_column(
        choice(MerchantCategory, "category"), default=MerchantCategory.OTHER, index=True
    )
    cashback_rate: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0.00"))
    """Share of each purchase returned to the customer, in percent."""
    tags: Mapped[list[str]] = mapped_column(StringList(), default=list)
    address: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    """Set instead of deleting the row: merchants are never hard-deleted."""

    transactions: Mapped[list[WalletTransaction]] = relationship(back_populates="merchant")

    def __str__(self) -> str:
        return self.name
