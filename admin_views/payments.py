"""Screens for money: wallets, the transaction ledger, payment methods."""

from __future__ import annotations

from admin_views.base import ReadOnlyView, StaffView
from models.payments import PaymentMethod, Wallet, WalletTransaction

MENU = "Payments"


class WalletAdmin(StaffView, model=Wallet):
    icon = "fa-solid fa-wallet"
    column_list = [
        Wallet.user,
        Wallet.currency,
        Wallet.balance,
        Wallet.status,
        Wallet.updated_at,
    ]
    column_sortable_list = [Wallet.balance, Wallet.status, Wallet.created_at]


class WalletTransactionAdmin(ReadOnlyView, model=WalletTransaction):
    name = "Transaction"
    icon = "fa-solid fa-money-bill-transfer"
    column_list = [
        WalletTransaction.reference,
        WalletTransaction.type,
        WalletTransaction.status,
        WalletTransaction.amount,
        WalletTransaction.fee,
        WalletTransaction.currency,
        WalletTransaction.merchant,
        WalletTransaction.created_at,
    ]
    column_searchable_list = [WalletTransaction.reference]
    column_sortable_list = [WalletTransaction.amount, WalletTransaction.created_at]


class PaymentMethodAdmin(StaffView, model=PaymentMethod):
    icon = "fa-solid fa-credit-card"
    column_list = [
        PaymentMethod.user,
        PaymentMethod.kind,
        PaymentMethod.brand,
        PaymentMethod.last_four,
        PaymentMethod.is_default,
        PaymentMethod.status,
        PaymentMethod.created_at,
    ]
    column_searchable_list = [PaymentMethod.last_four, PaymentMethod.holder_name]
