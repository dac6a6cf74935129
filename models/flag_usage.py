"""How often the flag doors answered each flag: per environment, variant and hour."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UtcDateTime, UUIDKey, check


class FlagEvaluationCount(UUIDKey, Base):
    """Answers given by the feed and OFREP in one hour, counted in memory by each worker and
    added here in batches (flags/usage.py). Written by the app only; never a flag change."""

    __tablename__ = "flag_evaluation_counts"
    __table_args__ = (
        sa.UniqueConstraint("flag_key", "environment", "variant", "hour"),
        # When a flag was last answered (the stale rule, the list's badges) is one probe of
        # this index; the unique one above would read every hour the flag was ever counted.
        sa.Index("ix_flag_evaluation_counts_flag_key_hour", "flag_key", "hour"),
        check(
            "count >= 0",
            "count_non_negative",
            fields=("count",),
            message="A count is 0 or more.",
            minimum=0,
        ),
    )

    flag_key: Mapped[str] = mapped_column(sa.String(100))
    environment: Mapped[str] = mapped_column(sa.String(40))
    variant: Mapped[str] = mapped_column(sa.String(100))
    """The variant answered; `on` or `off` for a flag without variants, `error` for an
    answer that could not be evaluated."""
    hour: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    """The start of the UTC hour the answers were counted in."""
    count: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def __str__(self) -> str:
        return f"{self.flag_key} {self.variant} in {self.environment}"
