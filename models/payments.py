"""Money: wallets, the append-only transaction ledger, and stored payment methods."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    Base,
    Money,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    currency_check,
    list_index,
    loaded,
    trigram_index,
)
from models.merchants import Merchant
from models.people import User

CURRENCIES = ("CAD", "EUR", "GBP", "MXN", "USD")
"""The currencies wallets are offered in."""


class WalletStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class TransactionType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    PURCHASE = "purchase"
    REFUND = "refund"
    CASHBACK = "cashback"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"


CREDIT_TYPES = frozenset(
    {
        TransactionType.DEPOSIT,
        TransactionType.REFUND,
        TransactionType.CASHBACK,
        TransactionType.TRANSFER_IN,
    }
)
DEBIT_TYPES = frozenset(
    {TransactionType.WITHDRAWAL, TransactionType.PURCHASE, TransactionType.TRANSFER_OUT}
)
"""Adjustments and reversals may go either way; every other type has a fixed sign."""


class TransactionStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PaymentMethodKind(StrEnum):
    CARD = "card"
    BANK_ACCOUNT = "bank_account"


class PaymentMethodStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REMOVED = "removed"


def new_transaction_reference(now: datetime) -> str:
    """A unique reference for a transaction made at `now`, e.g. `TXN-20261127-8F3K2Q9Z1C`."""
    return f"TXN-{now:%Y%m%d}-{secrets.token_hex(5).upper()}"


def _sql_list(values: frozenset[TransactionType]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))


class Wallet(UUIDKey, Timestamps, Base):
    """A customer's balance in one currency; it equals the sum of its posted transactions."""

    label_loads = ("user",)
    """Named in the label when loaded: see `loaded`."""

    __tablename__ = "wallets"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "currency"),
        check(
            "balance >= 0",
            "balance_non_negative",
            fields=("balance",),
            message="A balance cannot be negative.",
            minimum=0,
        ),
        currency_check("currency"),
        *(list_index("wallets", c) for c in ("status", "currency")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(choice(WalletStatus, "status"), default=WalletStatus.ACTIVE)

    user: Mapped[User] = relationship(back_populates="wallets")
    transactions: Mapped[list[WalletTransaction]] = relationship(back_populates="wallet")

    def __str__(self) -> str:
        user = loaded(self, "user")
        return f"{self.currency} wallet of {user.full_name}" if user else f"{self.currency} wallet"


class PaymentMethod(UUIDKey, Timestamps, Base):
    """A card or bank account on file. Only the last four digits are ever kept."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        check(
            "length(last_four) = 4",
            "last_four_length",
            fields=("last_four",),
            message="Exactly the last four digits.",
        ),
        check(
            "exp_month IS NULL OR (exp_month >= 1 AND exp_month <= 12)",
            "exp_month_range",
            fields=("exp_month",),
            message="Expiry month must be between 1 and 12.",
            minimum=1,
            maximum=12,
        ),
        check(
            "exp_year IS NULL OR (exp_year >= 2000 AND exp_year <= 2100)",
            "exp_year_range",
            fields=("exp_year",),
            message="Expiry year must be between 2000 and 2100.",
            minimum=2000,
            maximum=2100,
        ),
        check(
            "kind <> 'card' OR (exp_month IS NOT NULL AND exp_year IS NOT NULL)",
            "card_has_expiry",
            fields=("exp_month", "exp_year"),
            message="A card needs an expiry month and year.",
        ),
        sa.Index(
            "uq_payment_methods_one_default_per_user",
            "user_id",
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        ),
        *(list_index("payment_methods", c) for c in ("kind", "status", "is_default")),
        *(trigram_index("payment_methods", c) for c in ("last_four", "holder_name")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(choice(PaymentMethodKind, "kind"))
    brand: Mapped[str] = mapped_column(sa.String(40))
    """Card network (visa, mastercard, ...) or the bank's name."""
    last_four: Mapped[str] = mapped_column(sa.String(4), index=True, info={"display": "card"})
    exp_month: Mapped[int | None]
    exp_year: Mapped[int | None]
    holder_name: Mapped[str] = mapped_column(sa.String(200))
    is_default: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(
        choice(PaymentMethodStatus, "status"), default=PaymentMethodStatus.ACTIVE
    )

    user: Mapped[User] = relationship(back_populates="payment_methods")
    transactions: Mapped[list[WalletTransaction]] = relationship(back_populates="payment_method")

    def __str__(self) -> str:
        # Networks are stored as keys ("visa"); a label names them as a cardholder reads them.
        return f"{self.brand[:1].upper()}{self.brand[1:]} •••• {self.last_four}"


class WalletTransaction(UUIDKey, Timestamps, Base):
    """One money movement on a wallet. Append-only: corrections are new transactions.

    `amount` is signed (credits positive, debits negative) so a wallet's balance is the
    plain sum of its posted amounts. `fee` is platform revenue charged to the merchant
    or counterparty; it does not move the customer's balance.
    """

    __tablename__ = "wallet_transactions"
    __table_args__ = (
        check(
            "amount <> 0",
            "amount_not_zero",
            fields=("amount",),
            message="An amount cannot be zero.",
        ),
        check(
            "fee >= 0",
            "fee_non_negative",
            fields=("fee",),
            message="A fee cannot be negative.",
            minimum=0,
        ),
        check(
            f"(type NOT IN ({_sql_list(CREDIT_TYPES)}) OR amount > 0) AND "
            f"(type NOT IN ({_sql_list(DEBIT_TYPES)}) OR amount < 0)",
            "amount_sign_matches_type",
            fields=("amount",),
            message="Credits are positive and debits negative for this type.",
        ),
        check(
            "(status = 'posted') = (posted_at IS NOT NULL)",
            "posted_at_when_posted",
            fields=("posted_at",),
            message="Posted transactions have a posting time, others none.",
        ),
        check(
            "type NOT IN ('refund', 'reversal') OR related_transaction_id IS NOT NULL",
            "correction_has_original",
            fields=("related_transaction",),
            message="A refund or reversal must name the original transaction.",
        ),
        currency_check("currency"),
        sa.Index("ix_wallet_transactions_wallet_id_created_at", "wallet_id", "created_at"),
        sa.Index("ix_wallet_transactions_merchant_id_created_at", "merchant_id", "created_at"),
        *(list_index("wallet_transactions", c) for c in ("type", "status", "currency")),
        trigram_index("wallet_transactions", "reference"),
        trigram_index("wallet_transactions", "description"),
    )

    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """Unique external reference, e.g. `TXN-20261127-8F3K2Q9Z`."""
    wallet_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wallets.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(choice(TransactionType, "type"))
    status: Mapped[str] = mapped_column(
        choice(TransactionStatus, "status"), default=TransactionStatus.PENDING
    )
    amount: Mapped[Decimal] = mapped_column(Money())
    fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("merchants.id", ondelete="RESTRICT")
    )
    payment_method_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("payment_methods.id", ondelete="RESTRICT"), index=True
    )
    related_transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("wallet_transactions.id"), index=True
    )
    """The original transaction a refund or reversal corrects. NO ACTION rather than
    RESTRICT: checked at the end of a statement, so a chain can be dropped as a whole."""
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    wallet: Mapped[Wallet] = relationship(back_populates="transactions")
    merchant: Mapped[Merchant | None] = relationship(back_populates="transactions")
    payment_method: Mapped[PaymentMethod | None] = relationship(back_populates="transactions")
    related_transaction: Mapped[WalletTransaction | None] = relationship(
        remote_side="WalletTransaction.id"
    )

    def __str__(self) -> str:
        return self.reference
