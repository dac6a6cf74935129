"""The signed-in staff member's own page: password, two-factor, time zone, sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_views.base import StaffPage
from audit import trail
from auth import sessions, totp
from auth.backend import MUST_ENROL
from auth.middleware import (
    actor,
    client_ip,
    current_staff,
    end_session_cookie,
    issue_session_cookie,
)
from auth.passwords import WeakPasswordError, check_password_policy, hash_password, verify_password
from auth.sessions import Staff
from core import time_zones
from core.database import Database
from core.settings import Settings
from models.base import utcnow
from models.people import AdminSession, AdminUser, SessionKind

PENDING_SECRET = "pending_two_factor_secret"  # noqa: S105 - a session key name
ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
"""The areas of the canonical `Area/Place` zone names the picker lists; aliases such as
`US/Eastern` or `Japan` stay accepted but would only double the list."""

ZoneGroups = list[tuple[str, list[tuple[str, str]]]]
"""(area, [(zone name, label)]) for a select's option groups."""


def _offset(zone: str, now: datetime) -> str:
    # Clocks change on a quarter hour in every zone, so an offset holds for the quarter;
    # the picker's ~600 offsets are worked out once per quarter, not on every page.
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return _offset_in_quarter(zone, quarter)


@lru_cache(maxsize=2048)
def _offset_in_quarter(zone: str, quarter: datetime) -> str:
    offset = quarter.astimezone(ZoneInfo(zone)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


@cache
def _listed() -> tuple[tuple[str, tuple[str, ...]], ...]:
    by_area: dict[str, list[str]] = {area: [] for area in ZONE_AREAS}
    for name in sorted(time_zones.names()):
        area = name.split("/", 1)[0]
        if "/" in name and area in by_area:
            by_area[area].append(name)
    return tuple((area, tuple(names)) for area, names in by_area.items() if names)


def zone_groups(current: str, now: datetime) -> ZoneGroups:
    """The picker's options by area, each with its offset today; UTC first, and the staff
    member's own zone even when it is an alias the list leaves out."""
    first = [time_zones.DEFAULT] + ([current] if current != time_zones.DEFAULT else [])
    groups: ZoneGroups = [("", [(name, f"{name} ({_offset(name, now)})") for name in first])]
    for area, names in _listed():
        groups.append(
            (
                area,
                [
                    (name, f"{name.split('/', 1)[1].replace('_', ' ')} ({_offset(name, now)})")
                    for name in names
                    if name != current
                ],
            )
        )
    return groups


def _signed_in(request: Request) -> Staff:
    staff = current_staff(request)
    if staff is None:  # login_required runs first; this keeps the type honest
        raise PermissionError("not signed in")
    return staff


class AccountPage(StaffPage):
    name = "My account"
    icon = "fa-solid fa-circle-user"
    open_to_all_staff = True

    def _settings(self, request: Request) -> Settings:
        return request.app.state.settings

    def _database(self, request: Request) -> Database:
        return request.app.state.database

    def _home(self, request: Request) -> RedirectResponse:
        return RedirectResponse(request.url_for("admin:view-account"), status_code=303)

    @expose("/account", identity="account")
    async def account(self, request: Request) -> Response:
        staff = _signed_in(request)
        async with self._database(request).session() as db:
            rows = await db.scalars(
                sa.select(AdminSession)
                .where(
                    AdminSession.admin_user_id == staff.id,
                    AdminSession.revoked_at.is_(None),
                    AdminSession.expires_at > utcnow(),
                )
                .order_by(AdminSession.created_at.desc())
            )
            live = list(rows)
        return await self.templates.TemplateResponse(
            request,
            "staff/account.html",
            {
                "staff": staff,
                "sessions": live,
                "title": "My account",
                "zone_groups": zone_groups(staff.time_zone, utcnow()),
            },
        )

    @expose("/account/time-zone", methods=["POST"], identity="account-time-zone")
    async def change_time_zone(self, request: Request) -> Response:
        staff = _signed_in(request)
        form = await request.form()
        chosen = str(form.get("time_zone") or "").strip()
        if not time_zones.is_zone(chosen):
            Flash.error(
                request,
                f"“{chosen[:64]}” is not a time zone we know; pick one from the list."
                if chosen
                else "Pick a time zone from the list.",
                title="Time zone",
            )
            return self._home(request)
        async with self._database(request).session() as db, db.begin():
            admin = await db.get(AdminUser, staff.id)
            if admin is not None and admin.time_zone != chosen:
                before, admin.time_zone = admin.time_zone, chosen
                await trail.append(
                    db,
                    actor(request),
                    trail.Entry(
                        "time_zone.change",
                        "admin_users",
                        str(admin.id),
                        before={"time_zone": before},
                        after={"time_zone": chosen},
                    ),
                )
        Flash.success(request, f"Times now show in {chosen}.", title="Time zone")
        return self._home(request)

    @expose("/account/password", methods=["POST"], identity="account-password")
    async def change_password(self, request: Request) -> Response:
        staff = _signed_in(request)
        settings = self._settings(request)
        form = await request.form()
        current, new, again = (
            str(form.get(name) or "") for name in ("current_password", "new_password", "confirm")
        )
        async with self._database(request).session() as db, db.begin():
            admin = await db.get(AdminUser, staff.id)
            if admin is None or not await verify_password(current, admin.password_hash):
                Flash.error(request, "Your current password is not right.", title="Password")
                return self._home(request)
            try:
                check_password_policy(new, email=admin.email)
            except WeakPasswordError as exc:
                Flash.error(request, str(exc).capitalize(), title="Password")
                return self._home(request)
            if new != again:
                Flash.error(request, "The two new passwords differ.", title="Password")
                return self._home(request)
            admin.password_hash = await hash_password(new, settings.bcrypt_rounds)
            admin.password_changed_at = utcnow()
            await db.flush()  # signs the account out everywhere (auth.sessions)
            await trail.append(
                db, actor(request), trail.Entry("password.change", "admin_users", str(admin.id))
            )
            token, _ = await sessions.start_session(
                db,
                admin,
                settings,
                kind=SessionKind.BROWSER,
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent"),
            )
        issue_session_cookie(request, token)
        Flash.success(
            request, "Password changed. Every other session was signed out.", title="Password"
        )
        return self._home(request)

    @expose("/account/two-factor", methods=["GET", "POST"], identity="account-two-factor")
    async def two_factor(self, request: Request) -> Response:
        staff = _signed_in(request)
        if staff.two_factor:
            return await self.templates.TemplateResponse(
                request, "staff/two_factor.html", {"staff": staff, "title": "Two-factor"}
            )
        secret = request.session.get(PENDING_SECRET) or totp.new_secret()
        request.session[PENDING_SECRET] = secret
        if request.method == "POST":
            form = await request.form()
            step = totp.accepted_step(secret, str(form.get("code") or ""), utcnow(), None)
            if step is not None:
                await self._enable(request, staff, secret, step)
                return self._home(request)
            Flash.error(request, "That code is not right; try the current one.", title="Two-factor")
        uri = totp.provisioning_uri(secret, staff.email)
        return await self.templates.TemplateResponse(
            request,
            "staff/two_factor.html",
            {
                "staff": staff,
                "title": "Two-factor",
                "qr_svg": totp.qr_code_svg(uri),
                "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
                "required": bool(request.session.get(MUST_ENROL)),
            },
        )

    async def _enable(self, request: Request, staff: Staff, secret: str, step: int) -> None:
        async with self._database(request).session() as db, db.begin():
            await db.execute(
                sa.update(AdminUser)
                .where(AdminUser.id == staff.id)
                .values(totp_secret=secret, totp_last_step=step)
            )
            await trail.append(
                db, actor(request), trail.Entry("two_factor.enable", "admin_users", str(staff.id))
            )
        request.session.pop(PENDING_SECRET, None)
        request.session.pop(MUST_ENROL, None)
        Flash.success(request, "Two-factor sign-in is on.", title="Two-factor")

    @expose("/account/two-factor/disable", methods=["POST"], identity="account-two-factor-disable")
    async def disable_two_factor(self, request: Request) -> Response:
        staff = _signed_in(request)
        if staff.role in self._settings(request).totp_required_roles:
            Flash.error(request, f"The {staff.role} role must use two-factor.", title="Two-factor")
            return self._home(request)
        form = await request.form()
        async with self._database(request).session() as db, db.begin():
            admin = await db.get(AdminUser, staff.id)
            step = (
                totp.accepted_step(
                    admin.totp_secret, str(form.get("code") or ""), utcnow(), admin.totp_last_step
                )
                if admin is not None and admin.totp_secret
                else None
            )
            if admin is None or step is None:
                Flash.error(request, "That code is not right.", title="Two-factor")
                return self._home(request)
            admin.totp_secret = None
            admin.totp_last_step = None
            await trail.append(
                db, actor(request), trail.Entry("two_factor.disable", "admin_users", str(admin.id))
            )
        Flash.success(request, "Two-factor sign-in is off.", title="Two-factor")
        return self._home(request)

    @expose("/account/sessions/revoke", methods=["POST"], identity="account-sessions-revoke")
    async def revoke_session(self, request: Request) -> Response:
        staff = _signed_in(request)
        form = await request.form()
        try:
            session_id = uuid.UUID(str(form.get("session_id") or ""))
        except ValueError:
            Flash.error(request, "No such session.", title="Sessions")
            return self._home(request)
        async with self._database(request).session() as db, db.begin():
            revoked = await self._revoke_own(db, request, staff, session_id)
        if not revoked:
            Flash.error(request, "No such session.", title="Sessions")
            return self._home(request)
        if session_id == staff.session_id:
            end_session_cookie(request)
            return RedirectResponse(request.url_for("admin:login"), status_code=303)
        Flash.success(request, "Session signed out.", title="Sessions")
        return self._home(request)

    async def _revoke_own(
        self, db: AsyncSession, request: Request, staff: Staff, session_id: uuid.UUID
    ) -> bool:
        owner: Any = await db.scalar(
            sa.select(AdminSession.admin_user_id).where(AdminSession.id == session_id)
        )
        if owner != staff.id:
            return False
        await sessions.revoke(db, session_id, "signed out by its owner", utcnow())
        await trail.append(
            db, actor(request), trail.Entry("session.revoke", "admin_sessions", str(session_id))
        )
        return True
