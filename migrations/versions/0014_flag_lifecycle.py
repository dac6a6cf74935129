"""Flag lifecycle: a flag is archived (kept, served to no app) rather than deleted, and the
moment production began serving it fully on or fully off is kept, for "stale after 30 days
at 100% or 0%".

A flag already settled is taken as settled since it last changed (`updated_at`): the last
moment anything about it is known to have changed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 05:10:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

flags = sa.table(
    "feature_flags",
    sa.column("enabled", sa.Boolean()),
    sa.column("rollout_percentage", models.base.Percent()),
    sa.column("updated_at", models.base.UtcDateTime()),
    sa.column("settled_since", models.base.UtcDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("feature_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", models.base.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("settled_since", models.base.UtcDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_feature_flags_archived_at"), ["archived_at"], unique=False
        )
    # models.flags.settled, as SQL: off, or at 0%, or on at 100%.
    settled = sa.or_(
        sa.not_(flags.c.enabled),
        flags.c.rollout_percentage == Decimal(0),
        flags.c.rollout_percentage == Decimal(100),
    )
    op.execute(flags.update().where(settled).values(settled_since=flags.c.updated_at))


def downgrade() -> None:
    with op.batch_alter_table("feature_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feature_flags_archived_at"))
        batch_op.drop_column("settled_since")
        batch_op.drop_column("archived_at")
