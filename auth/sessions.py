"""Staff sessions kept in `admin_sessions`: start, resolve, rotate, revoke.

A browser session is named by a random token in a signed cookie; an API session by its
current refresh token. Only SHA-256 hashes of tokens are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from auth.tokens import new_token, token_hash
from core.settings import Settings
from models.base import utcnow
from models.people import AdminSession, AdminUser, Role, SessionKind

TOUCH_EVERY = timedelta(seconds=60)
"""`last_seen_at` is written at most this often per session: idle timeouts are to the minute."""

Alongside = Callable[["sa.BindParameter[datetime]"], "sa.ScalarSelect[Any]"]
"""Something every page shows about the signed-in staff member (the approvals badge), read
in the session check's own statement rather than a round trip of its own: a scalar subquery
over `AdminUser` (the staff member's row), given the time of the request (a bound
parameter: the statement is built once, `BrowserSessions`)."""


@dataclass
class Staff:
    """The signed-in staff member a request acts for."""

    id: uuid.UUID
    email: str
    full_name: str
    role: str
    permissions: frozenset[str]
    session_id: uuid.UUID
    session_kind: str
    two_factor: bool
    time_zone: str
    """IANA name of the zone the staff member reads times in."""
    data: dict[str, Any] = field(default_factory=dict)
    alongside: dict[str, Any] = field(default_factory=dict)
    """What the session check read beside the session, by name (see `Alongside`)."""


def staff_from(
    admin: AdminUser, role: Role, session: AdminSession, alongside: dict[str, Any] | None = None
) -> Staff:
    return Staff(
        id=admin.id,
        email=admin.email,
        full_name=admin.full_name,
        role=role.name,
        permissions=frozenset(role.permissions),
        session_id=session.id,
        session_kind=session.kind,
        two_factor=admin.totp_secret is not None,
        time_zone=admin.time_zone,
        data=dict(session.data or {}),
        alongside=alongside or {},
    )


async def start_session(
    db: AsyncSession,
    admin: AdminUser,
    settings: Settings,
    *,
    kind: SessionKind,
    ip_address: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> tuple[str, AdminSession]:
    """A new session with a new token: never reuse an id from before sign-in (fixation)."""
    now = now or utcnow()
    token = new_token()
    row = AdminSession(
        admin_user_id=admin.id,
        kind=kind,
        token_hash=token_hash(token),
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=settings.session_lifetime_s),
        last_seen_at=now,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:512] or None,
        data={},
    )
    db.add(row)
    await db.flush()
    return token, row


def _live(now: datetime | sa.BindParameter[datetime]) -> list[sa.ColumnElement[bool]]:
    return [
        AdminSession.revoked_at.is_(None),
        AdminSession.expires_at > now,
        AdminUser.is_active.is_(True),
    ]


class BrowserSessions:
    """Resolves a cookie's session in one statement, built once: the same statement object
    each request (its values bound when run) spares the building and the cache-key walk that
    SQLAlchemy does for a statement built anew, most of the check's own CPU."""

    def __init__(self, alongside: Mapping[str, Alongside] | None = None) -> None:
        now = sa.bindparam("now", type_=AdminSession.expires_at.type)
        self.names = tuple(alongside or {})
        self.statement = (
            sa.select(
                AdminSession,
                AdminUser,
                Role,
                *(read(now).label(name) for name, read in (alongside or {}).items()),
            )
            .join(AdminUser, AdminSession.admin_user_id == AdminUser.id)
            .join(Role, AdminUser.role_id == Role.id)
            .where(
                AdminSession.token_hash == sa.bindparam("token_hash"),
                AdminSession.kind == SessionKind.BROWSER,
                *_live(now),
            )
        )

    async def resolve(
        self, db: AsyncSession, token: str, settings: Settings, now: datetime | None = None
    ) -> Staff | None:
        """The staff member behind a cookie token, if the session is live; touches it. What
        `alongside` named is read in the same statement and kept in `Staff.alongside`."""
        now = now or utcnow()
        found = (
            await db.execute(self.statement, {"token_hash": token_hash(token), "now": now})
        ).first()
        if found is None:
            return None
        session, admin, role, *values = found
        last_seen = session.last_seen_at or session.created_at
        if now - last_seen > timedelta(seconds=settings.session_idle_timeout_s):
            await revoke(db, session.id, "idle timeout", now)
            return None
        if now - last_seen >= TOUCH_EVERY:
            session.last_seen_at = now
        return staff_from(admin, role, session, dict(zip(self.names, values, strict=True)))


async def resolve_api_session(
    db: AsyncSession, session_id: uuid.UUID, admin_id: uuid.UUID, now: datetime | None = None
) -> Staff | None:
    """The staff member behind an access token's session, if it is still live."""
    now = now or utcnow()
    found = (
        await db.execute(
            sa.select(AdminSession, AdminUser, Role)
            .join(AdminUser, AdminSession.admin_user_id == AdminUser.id)
            .join(Role, AdminUser.role_id == Role.id)
            .where(
                AdminSession.id == session_id,
                AdminSession.admin_user_id == admin_id,
                AdminSession.kind == SessionKind.API,
                *_live(now),
            )
        )
    ).first()
    if found is None:
        return None
    session, admin, role = found
    return staff_from(admin, role, session)


async def save_data(db: AsyncSession, session: uuid.UUID | str, data: dict[str, Any]) -> None:
    """Store a session's screen state; `session` is its id or its token's hash."""
    where = (
        AdminSession.id == session
        if isinstance(session, uuid.UUID)
        else AdminSession.token_hash == session
    )
    await db.execute(sa.update(AdminSession).where(where).values(data=data))


async def revoke(db: AsyncSession, session_id: uuid.UUID, reason: str, now: datetime) -> bool:
    result = await db.execute(
        sa.update(AdminSession)
        .where(AdminSession.id == session_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(result.rowcount)


def _revoke_all_statement(admin_id: uuid.UUID, reason: str, now: datetime) -> sa.Update:
    return (
        sa.update(AdminSession)
        .where(AdminSession.admin_user_id == admin_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


async def revoke_all(db: AsyncSession, admin_id: uuid.UUID, reason: str) -> int:
    result = await db.execute(_revoke_all_statement(admin_id, reason, utcnow()))
    return int(result.rowcount)


async def rotate_refresh_token(
    db: AsyncSession, presented: str, settings: Settings, now: datetime | None = None
) -> tuple[str, AdminSession, AdminUser, Role] | None:
    """Swap a refresh token for a new one. Reusing a rotated-away token revokes the session.

    A refresh token reads `<session id>.<secret>`. Returns None when it is not accepted.
    """
    now = now or utcnow()
    session_part, _, secret = presented.partition(".")
    try:
        session_id = uuid.UUID(session_part)
    except ValueError:
        return None
    found = (
        await db.execute(
            sa.select(AdminSession, AdminUser, Role)
            .join(AdminUser, AdminSession.admin_user_id == AdminUser.id)
            .join(Role, AdminUser.role_id == Role.id)
            .where(AdminSession.id == session_id, AdminSession.kind == SessionKind.API)
            .with_for_update(of=AdminSession)
        )
    ).first()
    if found is None:
        return None
    session, admin, role = found
    presented_hash = token_hash(secret)
    if presented_hash in (session.retired_token_hashes or []):
        await revoke(db, session.id, "refresh token reused", now)
        return None
    live = session.revoked_at is None and session.expires_at > now and admin.is_active
    if presented_hash != session.token_hash or not live:
        return None
    new_secret = new_token()
    session.retired_token_hashes = [*(session.retired_token_hashes or []), presented_hash]
    session.token_hash = token_hash(new_secret)
    session.last_seen_at = now
    return refresh_token_for(session, new_secret), session, admin, role


def refresh_token_for(session: AdminSession, secret: str) -> str:
    """An API session's refresh token names its session: `<session id>.<secret>`."""
    return f"{session.id}.{secret}"


REVOKING_CHANGES = ("is_active", "role_id", "password_changed_at")


@event.listens_for(Session, "after_flush")
def _revoke_sessions_on_account_change(db: Session, _context: Any) -> None:
    """Disabling an account, changing its role or its password signs it out everywhere.

    An ORM event, so every door (screens, actions, the API, the CLI) gets the rule.
    """
    now = utcnow()
    for admin in [obj for obj in db.dirty if isinstance(obj, AdminUser)]:
        state = sa.inspect(admin)
        changed = [name for name in REVOKING_CHANGES if state.attrs[name].history.has_changes()]
        if changed == ["is_active"] and admin.is_active:
            continue
        if changed:
            db.execute(
                _revoke_all_statement(admin.id, f"account changed: {', '.join(changed)}", now)
            )
