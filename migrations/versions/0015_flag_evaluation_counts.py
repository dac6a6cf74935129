"""Flag evaluation counts: how often the feed and OFREP answered each flag, per
environment, variant and hour (flags/usage.py writes them in batches).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 05:43:58.406580
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flag_evaluation_counts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=40), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("hour", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_flag_evaluation_counts_count_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_evaluation_counts")),
        sa.UniqueConstraint(
            "flag_key",
            "environment",
            "variant",
            "hour",
            name=op.f("uq_flag_evaluation_counts_flag_key_environment_variant_hour"),
        ),
    )
    with op.batch_alter_table("flag_evaluation_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_evaluation_counts_hour"), ["hour"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flag_evaluation_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_evaluation_counts_hour"))

    op.drop_table("flag_evaluation_counts")
