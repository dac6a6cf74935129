"""Search: trigram indexes for substring search on PostgreSQL (pg_trgm); nothing on SQLite.

The list search looks for `ILIKE '%term%'` over the searchable text columns; a GIN index
with `gin_trgm_ops` answers that without reading the table. SQLite has no such index and
keeps scanning, with the same results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = {
    "users": ("email", "first_name", "last_name", "phone"),
    "merchants": ("name", "legal_name", "contact_email", "phone"),
    "wallet_transactions": ("reference", "description"),
    "support_tickets": ("reference", "subject"),
}
"""The text columns each big table's list search looks in."""


def _indexes() -> list[tuple[str, str, str]]:
    return [
        (f"ix_{table}_{column}_trgm", table, column)
        for table, columns in SEARCHED.items()
        for column in columns
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in _indexes():
        op.create_index(
            name,
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _column in reversed(_indexes()):
        op.drop_index(name, table_name=table)
    # The extension stays: other schemas in the database may use it, and it holds no data.
