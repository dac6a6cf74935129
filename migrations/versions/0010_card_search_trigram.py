"""Search: trigram indexes on payment methods' searched text (last four, holder's name), on
PostgreSQL; nothing on SQLite.

The search box and the payment methods list look for `ILIKE '%term%'` in these columns;
without an index PostgreSQL reads every card (over a second at 1.3M cards). Built
CONCURRENTLY, outside the migration's transaction, so a live database keeps taking writes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("last_four", "holder_name")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for column in COLUMNS:
            op.create_index(
                f"ix_payment_methods_{column}_trgm",
                "payment_methods",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                postgresql_concurrently=True,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for column in reversed(COLUMNS):
            op.drop_index(
                f"ix_payment_methods_{column}_trgm",
                table_name="payment_methods",
                postgresql_concurrently=True,
            )
