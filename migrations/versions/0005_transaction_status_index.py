"""Lists: an index for the transactions list filtered by status, newest first.

Without it, PostgreSQL gathers every transaction of a status (hundreds of thousands of
`failed` or `pending` ones at scale) and sorts them to show 25.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_wallet_transactions_status_created_at"


def upgrade() -> None:
    with op.batch_alter_table("wallet_transactions", schema=None) as batch_op:
        batch_op.create_index(NAME, ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wallet_transactions", schema=None) as batch_op:
        batch_op.drop_index(NAME)
