"""Stock SQLAdmin over the same models: the baseline `bench/admin_screens.py` measures against.

Each view sets only `column_list`, `column_searchable_list` and `column_filters` (stock
filters from `sqladmin.filters`, the closest to ours), on a bare Starlette app with
`sqladmin.Admin(app, engine)` and no authentication. Stock has no date-range filter: the
closest is `OperationColumnFilter` (one operation per column, e.g. `greater_than`). Stock's
export ignores filters and loads every row; its only limit is `export_max_rows`, which the
`Capped*` views (identities `user-capped`, `wallet-transaction-capped`) set to 100,000 so an
export of that many rows can be compared at all.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqladmin import Admin, ModelView
from sqladmin.filters import (
    BooleanFilter,
    ForeignKeyFilter,
    OperationColumnFilter,
    StaticValuesFilter,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from models.merchants import Merchant
from models.payments import CURRENCIES, WalletTransaction
from models.people import User
from models.support import SupportTicket

CAPPED_ROWS = 100_000


def _choices(column: Any) -> list[tuple[str, str]]:
    return [(value, value) for value in column.type.enums]


class StockUserAdmin(ModelView, model=User):
    column_list: ClassVar[list[Any]] = [
        User.email,
        User.first_name,
        User.last_name,
        User.status,
        User.kyc_status,
        User.country,
        User.last_active_at,
        User.created_at,
    ]
    column_searchable_list: ClassVar[list[Any]] = [
        User.email,
        User.first_name,
        User.last_name,
        User.phone,
    ]
    column_filters: ClassVar[list[Any]] = [
        StaticValuesFilter(User.status, _choices(User.status)),
        StaticValuesFilter(User.kyc_status, _choices(User.kyc_status)),
        BooleanFilter(User.email_verified),
        OperationColumnFilter(User.created_at),
        OperationColumnFilter(User.last_active_at),
    ]


class StockTransactionAdmin(ModelView, model=WalletTransaction):
    column_list: ClassVar[list[Any]] = [
        WalletTransaction.reference,
        WalletTransaction.type,
        WalletTransaction.status,
        WalletTransaction.amount,
        WalletTransaction.fee,
        WalletTransaction.merchant,
        WalletTransaction.created_at,
    ]
    column_searchable_list: ClassVar[list[Any]] = [
        WalletTransaction.reference,
        WalletTransaction.description,
    ]
    # Ours also filters by wallet; stock's ForeignKeyFilter would list all 1,000,000
    # wallets on every page, so that one is left out. The merchant one (20,000) is kept.
    column_filters: ClassVar[list[Any]] = [
        StaticValuesFilter(WalletTransaction.type, _choices(WalletTransaction.type)),
        StaticValuesFilter(WalletTransaction.status, _choices(WalletTransaction.status)),
        StaticValuesFilter(WalletTransaction.currency, [(c, c) for c in CURRENCIES]),
        ForeignKeyFilter(WalletTransaction.merchant_id, Merchant.name),
        OperationColumnFilter(WalletTransaction.created_at),
        OperationColumnFilter(WalletTransaction.posted_at),
    ]


class CappedUserAdmin(StockUserAdmin, model=User):
    name = "User (export capped)"
    export_max_rows = CAPPED_ROWS


class CappedTransactionAdmin(StockTransactionAdmin, model=WalletTransaction):
    name = "Transaction (export capped)"
    export_max_rows = CAPPED_ROWS


CappedUserAdmin.identity = "user-capped"
CappedTransactionAdmin.identity = "wallet-transaction-capped"


class StockTicketAdmin(ModelView, model=SupportTicket):
    column_list: ClassVar[list[Any]] = [
        SupportTicket.reference,
        SupportTicket.subject,
        SupportTicket.user,
        SupportTicket.status,
        SupportTicket.priority,
        SupportTicket.category,
        SupportTicket.assignee,
        SupportTicket.created_at,
    ]
    column_searchable_list: ClassVar[list[Any]] = [SupportTicket.reference, SupportTicket.subject]
    column_filters: ClassVar[list[Any]] = [
        StaticValuesFilter(SupportTicket.status, _choices(SupportTicket.status)),
        StaticValuesFilter(SupportTicket.priority, _choices(SupportTicket.priority)),
    ]


def create_stock_app(engine: AsyncEngine) -> Starlette:
    """A bare Starlette app with stock SQLAdmin at /admin, no authentication."""
    app = Starlette()
    admin = Admin(app, engine)
    views = (
        StockUserAdmin,
        StockTransactionAdmin,
        StockTicketAdmin,
        CappedUserAdmin,
        CappedTransactionAdmin,
    )
    for view in views:
        admin.add_view(view)
    return app
