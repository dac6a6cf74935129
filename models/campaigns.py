"""Marketing: AI-assisted campaigns, their daily performance, and the AI model registry."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    Base,
    JSONDocument,
    Money,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    currency_check,
    list_index,
    loaded,
)
from models.people import AdminUser


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class CampaignChannel(StrEnum):
    PUSH = "push"
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


class ModelProvider(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    INTERNAL = "internal"
    OTHER = "other"


class ModelPurpose(StrEnum):
    COPYWRITING = "copywriting"
    SEGMENTATION = "segmentation"
    CHURN_PREDICTION = "churn_prediction"
    FRAUD_DETECTION = "fraud_detection"
    SUPPORT_ASSISTANT = "support_assistant"
    RECOMMENDATION = "recommendation"


class ModelStatus(StrEnum):
    TESTING = "testing"
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class AIModel(UUIDKey, Timestamps, Base):
    """A model in the AI registry that campaigns and tools can use."""

    __tablename__ = "ai_models"
    __table_args__ = (sa.UniqueConstraint("name", "version"),)

    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    provider: Mapped[str] = mapped_column(choice(ModelProvider, "provider"), index=True)
    version: Mapped[str] = mapped_column(sa.String(50))
    purpose: Mapped[str] = mapped_column(choice(ModelPurpose, "purpose"), index=True)
    status: Mapped[str] = mapped_column(
        choice(ModelStatus, "status"), default=ModelStatus.TESTING, index=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)

    campaigns: Mapped[list[AICampaign]] = relationship(back_populates="ai_model")

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class AICampaign(UUIDKey, Timestamps, Base):
    """A marketing campaign, with its audience, budget and schedule."""

    lookup_by = ("name",)
    """Grows with the business: relationship fields to it search as you type by these."""

    __tablename__ = "ai_campaigns"
    __table_args__ = (
        check(
            "budget >= 0",
            "budget_non_negative",
            fields=("budget",),
            message="Budget cannot be negative.",
            minimum=0,
        ),
        check(
            "spend >= 0",
            "spend_non_negative",
            fields=("spend",),
            message="Spend cannot be negative.",
            minimum=0,
        ),
        check(
            "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at",
            "schedule_order",
            fields=("ends_at",),
            message="The end must come after the start.",
        ),
        check(
            "status <> 'scheduled' OR starts_at IS NOT NULL",
            "scheduled_has_start",
            fields=("starts_at",),
            message="A scheduled campaign needs a start.",
        ),
        currency_check("currency"),
        sa.Index("ix_ai_campaigns_status_starts_at", "status", "starts_at"),
        *(list_index("ai_campaigns", c) for c in ("status", "channel")),
    )

    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(
        choice(CampaignStatus, "status"), default=CampaignStatus.DRAFT
    )
    channel: Mapped[str] = mapped_column(choice(CampaignChannel, "channel"))
    audience: Mapped[dict[str, Any]] = mapped_column(JSONDocument(), default=dict)
    """Who the campaign targets, e.g. {"countries": ["US"], "min_age": 21}."""
    budget: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    spend: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ai_model_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("ai_models.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="SET NULL"), index=True
    )

    ai_model: Mapped[AIModel | None] = relationship(back_populates="campaigns")
    created_by: Mapped[AdminUser | None] = relationship()
    performance: Mapped[list[CampaignPerformance]] = relationship(
        back_populates="campaign",
        order_by="CampaignPerformance.day",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    # Lifecycle. Staff move a campaign by hand; the schedule job (jobs/campaign_schedule.py)
    # moves it at its start and end. Each refuses a move that makes no sense, saying why.
    def launch(self, now: datetime) -> None:
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise ValueError(f"{self.name} is {self.status}; only drafts can be launched.")
        if self.ends_at is not None and self.ends_at <= now:
            raise ValueError(f"{self.name} has already ended.")
        if self.starts_at is not None and self.starts_at > now:
            self.status = CampaignStatus.SCHEDULED
        else:
            self.starts_at = self.starts_at or now
            self.status = CampaignStatus.ACTIVE

    def pause(self) -> None:
        if self.status != CampaignStatus.ACTIVE:
            raise ValueError(f"{self.name} is {self.status}, not active.")
        self.status = CampaignStatus.PAUSED

    def resume(self, now: datetime) -> None:
        if self.status != CampaignStatus.PAUSED:
            raise ValueError(f"{self.name} is {self.status}, not paused.")
        if self.ends_at is not None and self.ends_at <= now:
            raise ValueError(f"{self.name} has already ended; complete it instead.")
        self.status = CampaignStatus.ACTIVE

    def complete(self, now: datetime) -> None:
        if self.status not in (
            CampaignStatus.ACTIVE,
            CampaignStatus.PAUSED,
            CampaignStatus.SCHEDULED,
        ):
            raise ValueError(f"{self.name} is {self.status}; it cannot be completed.")
        self.status = CampaignStatus.COMPLETED
        if self.ends_at is None or self.ends_at > now:
            self.ends_at = now

    def __str__(self) -> str:
        return self.name


class CampaignPerformance(UUIDKey, Timestamps, Base):
    """One campaign's metrics for one day."""

    label_loads = ("campaign",)
    """Named in the label when loaded: see `loaded`."""

    __tablename__ = "campaign_performance"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "day"),
        check(
            "impressions >= 0 AND clicks >= 0 AND conversions >= 0",
            "counts_non_negative",
            fields=("impressions", "clicks", "conversions"),
            message="Counts cannot be negative.",
            minimum=0,
        ),
        check(
            "clicks <= impressions",
            "clicks_within_impressions",
            fields=("clicks",),
            message="Clicks cannot exceed impressions.",
        ),
        check(
            "spend >= 0 AND revenue >= 0",
            "money_non_negative",
            fields=("spend", "revenue"),
            message="Money cannot be negative.",
            minimum=0,
        ),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("ai_campaigns.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(sa.Date, index=True)
    impressions: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)
    conversions: Mapped[int] = mapped_column(default=0)
    spend: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    revenue: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    campaign: Mapped[AICampaign] = relationship(back_populates="performance")

    def __str__(self) -> str:
        campaign = loaded(self, "campaign")
        day = f"{self.day:%-d %b %Y}"
        return f"{campaign} · {day}" if campaign is not None else day
