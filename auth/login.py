"""Checking a staff sign-in: password, lockout, per-IP limit, second factor, audit.

One function for the sign-in form and the JSON API, so both follow the same rules. Every
outcome gives the caller the same generic refusal; only the audit trail says why.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail
from auth import totp
from auth.passwords import hash_password, hash_rounds, verify_password
from core.settings import Settings
from models.base import utcnow
from models.ops import AuditLog
from models.people import AdminUser, Role

MAX_FAILURES_PER_HOUR = 100
"""A hard ceiling on password guesses per account, whatever the lockout settings."""


class Refusal(StrEnum):
    """Why a sign-in was refused: recorded in the audit trail, never shown."""

    UNKNOWN_EMAIL = "unknown email"
    WRONG_PASSWORD = "wrong password"  # noqa: S105 - a refusal reason
    DISABLED = "account disabled"
    WRONG_CODE = "wrong two-factor code"
    LOCKED = "account locked"
    IP_LIMIT = "too many failures from this address"


NOT_CHECKED = frozenset({Refusal.LOCKED, Refusal.IP_LIMIT})
"""Refused before the credentials counted: audited as `login.refused`, not `login.failure`,
so hammering a locked account or a blocked address does not extend the block."""


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    ip_address: str | None
    user_agent: str | None
    request_id: str | None = None
    code: str | None = None
    """The authenticator code, when the caller collected one."""


@dataclass(frozen=True)
class Outcome:
    admin: AdminUser | None = None
    role: Role | None = None
    refusal: Refusal | None = None
    needs_code: bool = False
    """Password right, second factor on, no code given: ask for it and try again."""

    @property
    def accepted(self) -> bool:
        return self.admin is not None and self.refusal is None and not self.needs_code


class Decoy:
    """A hash for unknown emails, so they cost the same bcrypt work as known ones."""

    def __init__(self) -> None:
        self._hash: str | None = None

    async def hash(self, rounds: int) -> str:
        if self._hash is None or hash_rounds(self._hash) != rounds:
            self._hash = await hash_password(secrets.token_urlsafe(16), rounds)
        return self._hash


def lockout_duration(settings: Settings, lockouts: int) -> timedelta:
    """15 minutes for the first lockout in a row, doubling, never beyond the maximum."""
    seconds = settings.lockout_s * 2 ** max(lockouts - 1, 0)
    return timedelta(seconds=min(seconds, settings.lockout_max_s))


def _actor(attempt: Attempt, admin: AdminUser | None) -> trail.Actor:
    return trail.Actor(
        id=admin.id if admin else None,
        email=admin.email if admin else attempt.email[:255],
        ip_address=attempt.ip_address,
        user_agent=attempt.user_agent,
        request_id=attempt.request_id,
    )


async def _client_failures(db: AsyncSession, ip_address: str, since: datetime) -> int:
    """Failed sign-ins from one client address, whatever the account."""
    query = sa.select(sa.func.count()).where(
        AuditLog.action == "login.failure",
        AuditLog.ip_address == ip_address,
        AuditLog.created_at >= since,
    )
    return int(await db.scalar(query) or 0)


async def _locked_for(
    db: AsyncSession, admin: AdminUser, ip_address: str | None, now: datetime
) -> bool:
    """Whether the account is locked against this client. A lock (a lockout, or the hourly
    ceiling reached) holds only against the clients that failed on the account since its
    last sign-in; any other is checked as usual, so nobody can lock the owner out."""
    failed_here = AuditLog.ip_address == ip_address
    if admin.last_login_at is not None:
        failed_here &= AuditLog.created_at > admin.last_login_at
    hourly, here = (
        await db.execute(
            sa.select(
                sa.func.count().filter(AuditLog.created_at >= now - timedelta(hours=1)),
                sa.func.count().filter(failed_here),
            ).where(
                AuditLog.action == "login.failure",
                AuditLog.entity_type == "admin_users",
                AuditLog.entity_id == str(admin.id),
            )
        )
    ).one()
    locked = admin.locked_until is not None and admin.locked_until > now
    return (locked or hourly >= MAX_FAILURES_PER_HOUR) and here > 0


async def check_sign_in(
    db: AsyncSession, settings: Settings, attempt: Attempt, decoy: Decoy
) -> Outcome:
    """Decide a sign-in and record it; the caller commits `db`."""
    now = utcnow()
    email = attempt.email.strip().lower()
    found = (
        await db.execute(
            sa.select(AdminUser, Role)
            .join(Role, AdminUser.role_id == Role.id)
            .where(AdminUser.email == email)
        )
    ).first()
    admin, role = found if found else (None, None)

    ip_window = now - timedelta(seconds=settings.login_ip_window_s)
    if (
        attempt.ip_address
        and await _client_failures(db, attempt.ip_address, ip_window) >= settings.login_ip_limit
    ):
        return await _refuse(db, attempt, admin, Refusal.IP_LIMIT)

    password_ok = await _verify_at_current_cost(attempt.password, admin, settings, decoy)

    if admin is None:
        return await _refuse(db, attempt, None, Refusal.UNKNOWN_EMAIL)
    if await _locked_for(db, admin, attempt.ip_address, now):
        return await _refuse(db, attempt, admin, Refusal.LOCKED)
    if not admin.is_active:
        return await _refuse(db, attempt, admin, Refusal.DISABLED)
    if not password_ok:
        return await _count_failure(db, settings, attempt, admin, Refusal.WRONG_PASSWORD, now)

    if hash_rounds(admin.password_hash) != settings.bcrypt_rounds:
        admin.password_hash = await hash_password(attempt.password, settings.bcrypt_rounds)
    if admin.totp_secret is not None:
        if not attempt.code:
            return Outcome(admin=admin, role=role, needs_code=True)
        return await _check_code(db, settings, attempt, admin, role, admin.totp_secret)
    return await _accept(db, attempt, admin, role, now)


async def _verify_at_current_cost(
    password: str, admin: AdminUser | None, settings: Settings, decoy: Decoy
) -> bool:
    """Whether `password` is the account's, at no less than the current cost whatever the
    account: an unknown email is checked against the decoy, and a hash cheaper than the
    current cost (made before it was raised) is topped up with a check against the decoy,
    so a 4-round account does not answer in a tenth of the time an unknown email takes."""
    current = settings.bcrypt_rounds
    if admin is None:
        await verify_password(password, await decoy.hash(current))
        return False
    password_ok = await verify_password(password, admin.password_hash)
    if hash_rounds(admin.password_hash) < current:
        await verify_password(password, await decoy.hash(current))
    return password_ok


async def check_second_step(
    db: AsyncSession, settings: Settings, admin_id: uuid.UUID, attempt: Attempt
) -> Outcome:
    """The code step of a sign-in whose password was accepted moments ago."""
    now = utcnow()
    found = (
        await db.execute(
            sa.select(AdminUser, Role)
            .join(Role, AdminUser.role_id == Role.id)
            .where(AdminUser.id == admin_id)
        )
    ).first()
    if found is None:
        return Outcome(refusal=Refusal.UNKNOWN_EMAIL)
    admin, role = found
    if await _locked_for(db, admin, attempt.ip_address, now):
        return await _refuse(db, attempt, admin, Refusal.LOCKED)
    if not admin.is_active or admin.totp_secret is None:
        return await _refuse(db, attempt, admin, Refusal.DISABLED)
    return await _check_code(db, settings, attempt, admin, role, admin.totp_secret)


async def _check_code(
    db: AsyncSession,
    settings: Settings,
    attempt: Attempt,
    admin: AdminUser,
    role: Role,
    secret: str,
) -> Outcome:
    now = utcnow()
    step = totp.accepted_step(secret, attempt.code or "", now, admin.totp_last_step)
    if step is None:
        return await _count_failure(db, settings, attempt, admin, Refusal.WRONG_CODE, now)
    admin.totp_last_step = step
    return await _accept(db, attempt, admin, role, now)


async def _accept(
    db: AsyncSession, attempt: Attempt, admin: AdminUser, role: Role, now: datetime
) -> Outcome:
    admin.failed_login_count = 0
    admin.lockout_count = 0
    admin.locked_until = None
    admin.last_login_at = now
    admin.last_login_ip = attempt.ip_address
    await trail.append(
        db,
        _actor(attempt, admin),
        trail.Entry("login.success", "admin_users", str(admin.id)),
    )
    return Outcome(admin=admin, role=role)


async def _count_failure(
    db: AsyncSession,
    settings: Settings,
    attempt: Attempt,
    admin: AdminUser,
    refusal: Refusal,
    now: datetime,
) -> Outcome:
    admin.failed_login_count += 1
    if admin.failed_login_count >= settings.lockout_threshold:
        admin.lockout_count += 1
        admin.failed_login_count = 0
        admin.locked_until = now + lockout_duration(settings, admin.lockout_count)
        await trail.append(
            db,
            _actor(attempt, admin),
            trail.Entry(
                "login.lockout",
                "admin_users",
                str(admin.id),
                after={"locked_until": admin.locked_until, "lockout_count": admin.lockout_count},
            ),
        )
    return await _refuse(db, attempt, admin, refusal)


async def _refuse(
    db: AsyncSession, attempt: Attempt, admin: AdminUser | None, refusal: Refusal
) -> Outcome:
    await trail.append(
        db,
        _actor(attempt, admin),
        trail.Entry(
            "login.refused" if refusal in NOT_CHECKED else "login.failure",
            "admin_users",
            str(admin.id) if admin else None,
            after={"reason": refusal.value},
        ),
    )
    return Outcome(admin=admin, refusal=refusal)
