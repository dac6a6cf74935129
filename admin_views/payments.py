"""Screens for money: wallets, the transaction ledger, payment methods.

Balances and transactions are never edited on screen: money moves only through its own
rules (the ledger), so wallets can be frozen and unfrozen but not edited, and the ledger
is read-only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from wtforms import RadioField, TextAreaField, validators

from admin_views.base import ReadOnlyView, StaffView
from admin_views.shared.actions import ActionContext, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, RelatedFilter, YesNoFilter
from admin_views.shared.formatting import money
from admin_views.shared.four_eyes import above_threshold
from admin_views.shared.money import amount_field, moved
from admin_views.shared.once import SubmittedOnceForm, key_for
from admin_views.shared.related import Related
from admin_views.shared.search import Exact
from core import personal_data
from ledger import corrections
from models.base import utcnow
from models.payments import (
    CURRENCIES,
    PaymentMethod,
    TransactionStatus,
    TransactionType,
    Wallet,
    WalletStatus,
    WalletTransaction,
)
from models.people import User

MENU = "Payments"


def reason_field(*, description: str) -> TextAreaField:
    return TextAreaField(
        "Reason",
        validators=[validators.InputRequired(), validators.Length(min=5, max=255)],
        description=description,
    )


async def wallet_facts(
    _view: WalletAdmin, db: AsyncSession, wallet: Wallet
) -> list[tuple[str, str]]:
    email = await db.scalar(sa.select(User.email).where(User.id == wallet.user_id))
    return [
        ("Customer", personal_data.shown_column(User, "email", email) or ""),
        ("Wallet", str(wallet)),
        ("Balance", money(wallet.balance, wallet.currency)),
        ("Status", str(wallet.status)),
    ]


async def transaction_facts(
    _view: WalletTransactionAdmin, db: AsyncSession, transaction: WalletTransaction
) -> list[tuple[str, str]]:
    facts = [
        ("Transaction", transaction.reference),
        ("Type", str(transaction.type).replace("_", " ")),
        ("Status", str(transaction.status)),
        ("Amount", money(transaction.amount, transaction.currency)),
    ]
    if transaction.type == TransactionType.PURCHASE:
        refunded = await corrections.refunded(db, transaction.id)
        facts += [
            ("Refunded so far", money(refunded, transaction.currency)),
            ("Left to refund", money(-transaction.amount - refunded, transaction.currency)),
        ]
    return facts


async def adjustment(
    _db: AsyncSession, wallet: Wallet, params: dict[str, Any]
) -> tuple[Decimal, str, str]:
    signed = params["amount"] if params["direction"] == "credit" else -params["amount"]
    after = wallet.balance + signed
    return (
        signed,
        wallet.currency,
        f"balance {money(wallet.balance)} → {money(after, wallet.currency)}",
    )


async def refund_amount(
    db: AsyncSession, purchase: WalletTransaction, params: dict[str, Any]
) -> tuple[Decimal, str, str]:
    amount = params["amount"] or await corrections.refundable(db, purchase)
    return (
        amount,
        purchase.currency,
        f"refund {money(amount, purchase.currency)} of {purchase.reference} to the customer",
    )


async def reversal_amount(
    _db: AsyncSession, original: WalletTransaction, _params: dict[str, Any]
) -> tuple[Decimal, str, str]:
    return (
        original.amount,
        original.currency,
        f"reverse {original.reference}: {money(-original.amount, original.currency)} "
        "back to the wallet",
    )


class AdjustmentForm(SubmittedOnceForm):
    direction = RadioField(
        "Direction",
        choices=[("credit", "Credit: add to the balance"), ("debit", "Debit: take from it")],
        validators=[validators.InputRequired()],
    )
    amount = amount_field("Amount", description="In the wallet's currency.")
    reason = reason_field(description="Kept on the transaction and in the audit trail.")


class RefundForm(SubmittedOnceForm):
    amount = amount_field(
        "Amount", required=False, description="Leave empty to refund all that is left."
    )
    reason = reason_field(description="Shown on the customer's refund.")


class ReversalForm(SubmittedOnceForm):
    reason = reason_field(description="Why the transaction is undone; kept on the reversal.")


class WalletAdmin(StaffView, model=Wallet):
    default_access = {
        "admin": ("*",),
        "operations": ("view", "action:freeze", "action:unfreeze"),
        "support": ("view",),
        "analyst": ("view", "export"),
    }
    icon = "fa-solid fa-wallet"
    personal_data = True
    can_edit = False
    can_delete = False
    column_list = [Wallet.user, Wallet.currency, Wallet.balance, Wallet.status, Wallet.updated_at]
    column_searchable_list = ["user.email", "user.last_name"]
    search_exact = {Exact.EMAIL: ["user.email"], Exact.UUID: [Wallet.id]}
    column_sortable_list = [Wallet.balance, Wallet.updated_at, Wallet.created_at]
    column_labels = {Wallet.user: "Customer"}
    export_extra = {"user.email": "Customer email"}
    column_filters = [
        ChoiceFilter(Wallet.status),
        ChoiceFilter(Wallet.currency, values=list(CURRENCIES)),
        RelatedFilter(Wallet.user_id, "Customer"),
        DateRangeFilter(Wallet.created_at, "Opened"),
    ]
    form_columns = [Wallet.user, Wallet.currency]
    form_args = {"currency": {"validators": [validators.AnyOf(CURRENCIES)]}}
    related = [
        Related(
            "Transactions",
            WalletTransaction.wallet_id,
            (
                WalletTransaction.reference,
                WalletTransaction.type,
                WalletTransaction.status,
                WalletTransaction.amount,
                WalletTransaction.fee,
                WalletTransaction.created_at,
            ),
            limit=20,
        ),
    ]

    @row_action(
        "freeze",
        "Freeze",
        confirm="Freeze {record}? Nothing moves until unfrozen.",
        when=lambda wallet: wallet.status == WalletStatus.ACTIVE,
        reason=True,
    )
    async def freeze(self, _db: AsyncSession, wallet: Wallet, _context: ActionContext) -> None:
        wallet.status = WalletStatus.FROZEN

    @row_action("unfreeze", "Unfreeze", when=lambda wallet: wallet.status == WalletStatus.FROZEN)
    async def unfreeze(self, _db: AsyncSession, wallet: Wallet, _context: ActionContext) -> None:
        wallet.status = WalletStatus.ACTIVE

    @row_action(
        "adjust",
        "Adjust balance",
        form=AdjustmentForm,
        one_row=True,
        facts=wallet_facts,
        when=lambda wallet: wallet.status == WalletStatus.ACTIVE,
        four_eyes=above_threshold(adjustment),
    )
    async def adjust(
        self, db: AsyncSession, wallet: Wallet, context: ActionContext
    ) -> dict[str, Any]:
        amount = context.params["amount"]
        signed = amount if context.params["direction"] == "credit" else -amount
        return await moved(
            corrections.adjust(
                db,
                wallet.id,
                signed,
                context.params["reason"],
                key_for(context.params, wallet.id),
                utcnow(),
            )
        )


class WalletTransactionAdmin(ReadOnlyView, model=WalletTransaction):
    default_access = {"admin": ("*",), "support": ("view",), "analyst": ("view", "export")}
    name = "Transaction"
    icon = "fa-solid fa-money-bill-transfer"
    personal_data = True
    column_list = [
        WalletTransaction.reference,
        WalletTransaction.type,
        WalletTransaction.status,
        WalletTransaction.amount,
        WalletTransaction.fee,
        WalletTransaction.merchant,
        WalletTransaction.created_at,
    ]
    column_searchable_list = [WalletTransaction.reference, WalletTransaction.description]
    export_extra = {
        "wallet": "Wallet",
        "wallet.user.email": "Customer email",
        "description": "Description",
        "posted_at": "Posted",
    }
    search_exact = {
        Exact.REFERENCE: [WalletTransaction.reference],
        Exact.UUID: [WalletTransaction.id],
    }
    column_sortable_list = [WalletTransaction.amount, WalletTransaction.created_at]
    column_filters = [
        ChoiceFilter(WalletTransaction.type),
        ChoiceFilter(WalletTransaction.status),
        ChoiceFilter(WalletTransaction.currency, values=list(CURRENCIES)),
        RelatedFilter(WalletTransaction.wallet_id, "Wallet"),
        RelatedFilter(WalletTransaction.merchant_id, "Merchant"),
        DateRangeFilter(WalletTransaction.created_at, "Made"),
        DateRangeFilter(WalletTransaction.posted_at, "Posted"),
    ]

    @row_action(
        "refund",
        "Refund",
        form=RefundForm,
        one_row=True,
        facts=transaction_facts,
        when=lambda txn: (
            txn.type == TransactionType.PURCHASE and txn.status == TransactionStatus.POSTED
        ),
        four_eyes=above_threshold(refund_amount),
    )
    async def refund(
        self, db: AsyncSession, purchase: WalletTransaction, context: ActionContext
    ) -> dict[str, Any]:
        amount = context.params["amount"] or await corrections.refundable(db, purchase)
        return await moved(
            corrections.refund(
                db,
                purchase,
                amount,
                context.params["reason"],
                key_for(context.params, purchase.id),
                utcnow(),
            )
        )

    @row_action(
        "reverse",
        "Reverse",
        form=ReversalForm,
        one_row=True,
        facts=transaction_facts,
        when=lambda txn: (
            txn.status == TransactionStatus.POSTED and txn.type != TransactionType.REVERSAL
        ),
        four_eyes=above_threshold(reversal_amount),
    )
    async def reverse(
        self, db: AsyncSession, original: WalletTransaction, context: ActionContext
    ) -> dict[str, Any]:
        return await moved(
            corrections.reverse(
                db,
                original,
                context.params["reason"],
                key_for(context.params, original.id),
                utcnow(),
            )
        )


class PaymentMethodAdmin(StaffView, model=PaymentMethod):
    """Cards and bank accounts: only the last four digits exist, shown masked."""

    default_access = {"admin": ("*",), "analyst": ("view", "export")}
    icon = "fa-solid fa-credit-card"
    personal_data = True
    column_list = [
        PaymentMethod.user,
        PaymentMethod.kind,
        PaymentMethod.brand,
        PaymentMethod.last_four,
        PaymentMethod.exp_month,
        PaymentMethod.exp_year,
        PaymentMethod.is_default,
        PaymentMethod.status,
    ]
    column_searchable_list = [PaymentMethod.last_four, PaymentMethod.holder_name, "user.email"]
    search_exact = {
        Exact.EMAIL: ["user.email"],
        Exact.UUID: [PaymentMethod.id],
        Exact.LAST_FOUR: [PaymentMethod.last_four],
    }
    column_labels = {PaymentMethod.user: "Customer"}
    export_extra = {"user.email": "Customer email"}
    column_filters = [
        ChoiceFilter(PaymentMethod.kind),
        ChoiceFilter(PaymentMethod.status),
        YesNoFilter(PaymentMethod.is_default, "Default"),
        RelatedFilter(PaymentMethod.user_id, "Customer"),
    ]
    form_columns = [
        PaymentMethod.user,
        PaymentMethod.kind,
        PaymentMethod.brand,
        PaymentMethod.last_four,
        PaymentMethod.exp_month,
        PaymentMethod.exp_year,
        PaymentMethod.holder_name,
        PaymentMethod.is_default,
        PaymentMethod.status,
    ]
    form_args = {
        "last_four": {
            "validators": [
                validators.Regexp(r"^\d{4}$", message="Exactly the last four digits, e.g. 4242.")
            ],
            "description": "Only the last four digits: a full card number is never stored.",
        }
    }
