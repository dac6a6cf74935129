"""Running the back office: daily rollups, the audit trail, runtime settings."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.personal_data import values_of
from models.base import (
    Base,
    CreatedAt,
    FixedPoint,
    JSONDocument,
    Timestamps,
    UUIDKey,
    check,
)
from models.people import AdminUser


class DashboardAnalytics(UUIDKey, Timestamps, Base):
    """A pre-aggregated figure: one row per day, metric and dimension."""

    __tablename__ = "dashboard_analytics"
    __table_args__ = (
        sa.UniqueConstraint("day", "metric", "dimension"),
        check(
            "length(metric) > 0",
            "metric_not_empty",
            fields=("metric",),
            message="Metric cannot be empty.",
        ),
        sa.Index("ix_dashboard_analytics_metric_day", "metric", "day"),
    )

    day: Mapped[date] = mapped_column(sa.Date)
    metric: Mapped[str] = mapped_column(sa.String(64))
    dimension: Mapped[str] = mapped_column(sa.String(64), default="")
    """A breakdown such as a transaction type; empty for the overall figure."""
    value: Mapped[Decimal] = mapped_column(FixedPoint(20, 4))

    def __str__(self) -> str:
        label = f"{self.metric}[{self.dimension}]" if self.dimension else self.metric
        return f"{self.day.isoformat()} {label}"


class AuditLog(UUIDKey, CreatedAt, Base):
    """Who changed what. Append-only; each row carries the hash of the one before it."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        check(
            "length(action) > 0",
            "action_not_empty",
            fields=("action",),
            message="Action cannot be empty.",
        ),
        check(
            "sequence >= 1",
            "sequence_positive",
            fields=("sequence",),
            message="Sequence starts at 1.",
            minimum=1,
        ),
        sa.Index("ix_audit_logs_entity_type_entity_id", "entity_type", "entity_id"),
        sa.Index(
            "ix_audit_logs_action_ip_address_created_at", "action", "ip_address", "created_at"
        ),
    )

    sequence: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    """Position in the hash chain, gapless from 1."""
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="RESTRICT"), index=True
    )
    actor_email: Mapped[str | None] = mapped_column(sa.String(255))
    """Kept beside the id so the trail still reads after a staff account is renamed."""
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(
        JSONDocument(), info=values_of("entity_type")
    )
    after: Mapped[dict[str, Any] | None] = mapped_column(
        JSONDocument(), info=values_of("entity_type")
    )
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    actor: Mapped[AdminUser | None] = relationship(back_populates="audit_entries")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.entity_type}"


DEFAULT_ACCESS_APPLIED = "roles.default_access_applied"
"""The setting in which `migrate` remembers the default-role grants it gave, so a grant staff
removed is never given again; replacing demo data keeps it."""


class RuntimeSetting(UUIDKey, Timestamps, Base):
    """A setting staff can change while the app runs. Secret values are never shown."""

    __tablename__ = "settings"
    __table_args__ = (
        check("length(key) > 0", "key_not_empty", fields=("key",), message="Key cannot be empty."),
    )

    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    value: Mapped[Any] = mapped_column(JSONDocument())
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    is_secret: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="SET NULL")
    )

    updated_by: Mapped[AdminUser | None] = relationship()

    def masked_fields(self) -> frozenset[str]:
        """A secret setting's value is never shown, exported or audited in clear."""
        return frozenset({"value"}) if self.is_secret else frozenset()

    def __str__(self) -> str:
        return self.key
