"""Lists: every filter of a big table served by an index, in the list's default order.

A filter on a few values (a status, a currency, a yes/no) matches a large share of a big
table; an index on (column, created_at) hands those rows over already newest first, so a
page stops after 25 rows instead of sorting every match. These replace the single-column
indexes they start with. Date-range filters get a plain index on their column.

On PostgreSQL the indexes are built CONCURRENTLY, outside the migration's transaction, so
a live database keeps taking writes while the transactions table is indexed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED_BY = {
    "ai_campaigns": ("status", "channel"),
    "merchants": ("category",),
    "payment_methods": ("kind", "status", "is_default"),
    "support_tickets": ("status", "priority", "category", "channel"),
    "ticket_messages": ("author_type", "is_internal"),
    "users": ("kyc_status", "email_verified"),
    "wallet_transactions": ("currency",),
    "wallets": ("status", "currency"),
}
"""New (column, created_at) indexes."""
DATE_RANGES = {"ai_campaigns": ("starts_at", "ends_at"), "merchants": ("approved_at",)}
"""New single-column indexes for date-range filters."""
REPLACED = {
    "ai_campaigns": ("status", "channel"),
    "merchants": ("status", "category"),
    "payment_methods": ("status",),
    "support_tickets": ("status", "priority", "category"),
    "users": ("status", "kyc_status"),
    "wallet_transactions": ("status",),
    "wallets": ("status",),
}
"""Single-column indexes that a (column, created_at) index now covers."""


def _added() -> list[tuple[str, str, list[str]]]:
    listed = [
        (f"ix_{table}_{column}_created_at", table, [column, "created_at"])
        for table, columns in LISTED_BY.items()
        for column in columns
    ]
    ranges = [
        (f"ix_{table}_{column}", table, [column])
        for table, columns in DATE_RANGES.items()
        for column in columns
    ]
    return listed + ranges


def _replaced() -> list[tuple[str, str, list[str]]]:
    return [
        (f"ix_{table}_{column}", table, [column])
        for table, columns in REPLACED.items()
        for column in columns
    ]


def _concurrently() -> dict[str, bool]:
    return {"postgresql_concurrently": True} if _on_postgresql() else {}


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, columns in _added():
            op.create_index(name, table, columns, **_concurrently())
        for name, table, _columns in _replaced():
            op.drop_index(name, table_name=table, **_concurrently())


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, columns in _replaced():
            op.create_index(name, table, columns, **_concurrently())
        for name, table, _columns in reversed(_added()):
            op.drop_index(name, table_name=table, **_concurrently())
