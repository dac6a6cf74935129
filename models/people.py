"""App customers and staff: users, admin_users, roles, admin_sessions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.personal_data import Kind, personal, shown
from models.base import (
    Base,
    JSONDocument,
    SoftDelete,
    StringList,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    list_index,
    loaded,
    trigram_index,
    utcnow,
)

if TYPE_CHECKING:
    from models.ops import AuditLog
    from models.payments import PaymentMethod, Wallet
    from models.support import SupportTicket


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


class KycStatus(StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class SessionKind(StrEnum):
    BROWSER = "browser"
    API = "api"


class User(UUIDKey, Timestamps, SoftDelete, Base):
    """A customer of the mobile app. Deactivated, never deleted."""

    lookup_by = ("email", "first_name", "last_name")
    """Grows with the business: relationship fields to it search as you type by these."""

    __tablename__ = "users"
    __table_args__ = (
        check(
            "email = lower(email)",
            "email_lowercase",
            fields=("email",),
            message="Email addresses are stored in lower case.",
        ),
        check(
            "length(country) = 2 AND upper(country) = country",
            "country_iso",
            fields=("country",),
            message="Use a two-letter country code, e.g. US.",
        ),
        check(
            "(status = 'deactivated') = (deactivated_at IS NOT NULL)",
            "deactivated_at",
            fields=("deactivated_at",),
            message="Deactivated users have a deactivation time, others none.",
        ),
        *(list_index("users", c) for c in ("status", "kyc_status", "email_verified")),
        *(trigram_index("users", c) for c in ("email", "first_name", "last_name", "phone")),
    )

    email: Mapped[str] = mapped_column(sa.String(255), unique=True, info=personal(Kind.EMAIL))
    phone: Mapped[str | None] = mapped_column(sa.String(32), unique=True, info=personal(Kind.PHONE))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date, info=personal(Kind.DATE))
    country: Mapped[str] = mapped_column(sa.String(2), default="US")
    status: Mapped[str] = mapped_column(choice(UserStatus, "status"), default=UserStatus.ACTIVE)
    kyc_status: Mapped[str] = mapped_column(
        choice(KycStatus, "kyc_status"), default=KycStatus.UNVERIFIED
    )
    email_verified: Mapped[bool] = mapped_column(default=False)
    """The customer confirmed their email address (separate from KYC identity checks)."""
    last_active_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    wallets: Mapped[list[Wallet]] = relationship(back_populates="user")
    payment_methods: Mapped[list[PaymentMethod]] = relationship(back_populates="user")
    tickets: Mapped[list[SupportTicket]] = relationship(back_populates="user")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def deactivate(self, now: datetime) -> None:
        self.status = UserStatus.DEACTIVATED
        self.deactivated_at = now

    def __str__(self) -> str:
        return f"{self.full_name} · {shown(Kind.EMAIL, self.email)}"


class Role(UUIDKey, Timestamps, Base):
    """A staff role: a named list of permission strings such as `merchants:edit`."""

    __tablename__ = "roles"
    __table_args__ = (
        check(
            "name = lower(name) AND length(name) > 0",
            "name_slug",
            fields=("name",),
            message="Use a lower-case name without spaces.",
        ),
    )

    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    permissions: Mapped[list[str]] = mapped_column(StringList(100), default=list)

    admins: Mapped[list[AdminUser]] = relationship(back_populates="role")

    def __str__(self) -> str:
        return self.name


class AdminUser(UUIDKey, Timestamps, Base):
    """A staff account that signs in to the back office."""

    __tablename__ = "admin_users"
    __table_args__ = (
        check(
            "email = lower(email)",
            "email_lowercase",
            fields=("email",),
            message="Email addresses are stored in lower case.",
        ),
        check(
            "failed_login_count >= 0",
            "failed_login_count_non_negative",
            fields=("failed_login_count",),
            message="Cannot be negative.",
            minimum=0,
        ),
        check(
            "lockout_count >= 0",
            "lockout_count_non_negative",
            fields=("lockout_count",),
            message="Cannot be negative.",
            minimum=0,
        ),
    )

    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255), info={"secret": True})
    role_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("roles.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    """Failed sign-ins since the last success or lockout."""
    lockout_count: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    """Lockouts in a row since the last success; each one lasts twice as long."""
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login_ip: Mapped[str | None] = mapped_column(sa.String(45))
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64), info={"secret": True})
    """Base32 seed of the staff member's authenticator app; set means two-factor is on."""
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    """The 30-second step of the last accepted code, so a code works only once."""
    time_zone: Mapped[str] = mapped_column(
        sa.String(64), default="UTC", server_default=sa.text("'UTC'")
    )
    """IANA name (`Europe/Paris`) the screens show times in; stored times stay UTC."""

    role: Mapped[Role] = relationship(back_populates="admins")
    sessions: Mapped[list[AdminSession]] = relationship(back_populates="admin_user")
    assigned_tickets: Mapped[list[SupportTicket]] = relationship(back_populates="assignee")
    audit_entries: Mapped[list[AuditLog]] = relationship(back_populates="actor")

    def __str__(self) -> str:
        return self.full_name or self.email


class AdminSession(UUIDKey, Timestamps, Base):
    """A staff sign-in: a browser session or an API refresh-token family."""

    label_loads = ("admin_user",)
    """Named in the label when loaded: see `loaded`."""

    __tablename__ = "admin_sessions"
    __table_args__ = (
        check(
            "expires_at > created_at",
            "expires_after_issue",
            fields=("expires_at",),
            message="A session must expire after it starts.",
        ),
        sa.Index("ix_admin_sessions_admin_user_id_revoked_at", "admin_user_id", "revoked_at"),
    )

    admin_user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("admin_users.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(choice(SessionKind, "kind"), default=SessionKind.BROWSER)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, info={"secret": True})
    """SHA-256 of the session or refresh token; the token itself is never stored."""
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(100))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    data: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument(), default=dict, server_default=sa.text("'{}'")
    )
    """Small per-session state for the screens (flash messages, pending enrolment)."""
    retired_token_hashes: Mapped[list[str]] = mapped_column(
        JSONDocument(), default=list, server_default=sa.text("'[]'"), info={"secret": True}
    )
    """Hashes of refresh tokens this API session has rotated away; reuse means theft."""

    admin_user: Mapped[AdminUser] = relationship(back_populates="sessions")

    def __str__(self) -> str:
        staff = loaded(self, "admin_user")
        owner = f" of {staff}" if staff is not None else ""
        started = f" · {self.created_at:%-d %b %Y}" if self.created_at else ""
        return f"{str(self.kind).capitalize()} session{owner}{started}"
