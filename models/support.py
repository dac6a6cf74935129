"""Customer support: tickets and the message thread on each."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import (
    Base,
    CreatedAt,
    StringList,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    list_index,
    trigram_index,
)
from models.people import AdminUser, User

TICKET_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketCategory(StrEnum):
    ACCOUNT = "account"
    PAYMENTS = "payments"
    CARDS = "cards"
    REWARDS = "rewards"
    MERCHANT = "merchant"
    TECHNICAL = "technical"
    OTHER = "other"


class TicketChannel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"


class MessageAuthor(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


def new_ticket_reference() -> str:
    """A short code customers can read out on the phone, e.g. `TCK-7KQ2M9XD`."""
    return "TCK-" + "".join(secrets.choice(TICKET_REFERENCE_ALPHABET) for _ in range(8))


class SupportTicket(UUIDKey, Timestamps, Base):
    """A customer's request for help."""

    lookup_by = ("reference", "subject")
    """Grows with the business: relationship fields to it search as you type by these."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        check(
            "length(subject) > 0",
            "subject_not_empty",
            fields=("subject",),
            message="Subject cannot be empty.",
        ),
        check(
            "first_response_at IS NULL OR first_response_at >= created_at",
            "first_response_after_creation",
            fields=("first_response_at",),
            message="The first response cannot come before the ticket.",
        ),
        check(
            "resolved_at IS NULL OR resolved_at >= created_at",
            "resolved_after_creation",
            fields=("resolved_at",),
            message="A ticket cannot be resolved before it was opened.",
        ),
        sa.Index("ix_support_tickets_status_priority", "status", "priority"),
        *(list_index("support_tickets", c) for c in ("status", "priority", "category", "channel")),
        trigram_index("support_tickets", "reference"),
        trigram_index("support_tickets", "subject"),
    )

    reference: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_ticket_reference)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(choice(TicketStatus, "status"), default=TicketStatus.OPEN)
    priority: Mapped[str] = mapped_column(
        choice(TicketPriority, "priority"), default=TicketPriority.NORMAL
    )
    category: Mapped[str] = mapped_column(
        choice(TicketCategory, "category"), default=TicketCategory.OTHER
    )
    channel: Mapped[str] = mapped_column(
        choice(TicketChannel, "channel"), default=TicketChannel.IN_APP
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="SET NULL"), index=True
    )
    tags: Mapped[list[str]] = mapped_column(StringList(), default=list)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="tickets")
    assignee: Mapped[AdminUser | None] = relationship(back_populates="assigned_tickets")
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket",
        order_by="TicketMessage.created_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __str__(self) -> str:
        return f"{self.reference} · {self.subject}"


class TicketMessage(UUIDKey, CreatedAt, Base):
    """One message in a ticket's thread; internal notes are visible to staff only."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        check(
            "length(body) > 0",
            "body_not_empty",
            fields=("body",),
            message="A message cannot be empty.",
        ),
        check(
            "author_type <> 'customer' OR is_internal = false",
            "customer_not_internal",
            fields=("is_internal",),
            message="Customers cannot write internal notes.",
        ),
        check(
            "author_type <> 'agent' OR author_admin_id IS NOT NULL",
            "agent_has_author",
            fields=("author_admin",),
            message="An agent message needs its author.",
        ),
        sa.Index("ix_ticket_messages_ticket_id_created_at", "ticket_id", "created_at"),
        *(list_index("ticket_messages", c) for c in ("author_type", "is_internal")),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("support_tickets.id", ondelete="CASCADE")
    )
    author_type: Mapped[str] = mapped_column(choice(MessageAuthor, "author_type"))
    author_admin_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="RESTRICT"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    is_internal: Mapped[bool] = mapped_column(default=False)

    ticket: Mapped[SupportTicket] = relationship(back_populates="messages")
    author_admin: Mapped[AdminUser | None] = relationship()

    def __str__(self) -> str:
        preview = self.body if len(self.body) <= 60 else self.body[:57] + "..."
        return f"{self.author_type}: {preview}"
