"""Staff time zones: each staff member reads times in the IANA zone they pick (UTC until then).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), server_default=sa.text("'UTC'"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("time_zone")
