"""Search: an index on a card's last four, so four digits typed in the search box are an
index lookup on payment methods, not a scan.

Built CONCURRENTLY on PostgreSQL, outside the migration's transaction, so a live database
keeps taking writes while it is built.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_payment_methods_last_four"


def _concurrently() -> dict[str, bool]:
    return {"postgresql_concurrently": True} if op.get_bind().dialect.name == "postgresql" else {}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(NAME, "payment_methods", ["last_four"], **_concurrently())


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="payment_methods", **_concurrently())
