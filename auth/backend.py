"""Sign-in for the admin screens: SQLAdmin's three hooks over our sessions and login rules."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode, urlsplit

from sqladmin.authentication import AuthenticationBackend
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from audit import trail
from auth import login, sessions, tokens
from auth.middleware import (
    actor,
    client_ip,
    current_staff,
    end_session_cookie,
    issue_session_cookie,
)
from core.database import Database
from core.middleware import request_id
from core.settings import Settings
from models.base import utcnow
from models.people import SessionKind

PENDING_PURPOSE = "login-second-step"
PENDING_MAX_AGE_S = 5 * 60
ADMIN_HOME = "/admin/"
ENROLMENT_PATH = "/admin/account/two-factor"
ALLOWED_BEFORE_ENROLMENT = (ENROLMENT_PATH, "/admin/logout", "/admin/statics")
MUST_ENROL = "must_enrol_two_factor"


def safe_next(target: str | None) -> str:
    """Only a path inside the admin: never another origin, never `//host` or `\\host`."""
    if not target or "\\" in target:
        return ADMIN_HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin"):
        return ADMIN_HOME
    return target


class StaffAuthBackend(AuthenticationBackend):
    def __init__(self, settings: Settings, database: Database, templates: Jinja2Templates) -> None:
        # Sessions are app-wide middleware (StaffSessionMiddleware), not SQLAdmin's cookie.
        self.middlewares = []
        self.settings = settings
        self.database = database
        self.templates = templates
        self.decoy = login.Decoy()

    def _attempt(
        self, request: Request, email: str, password: str, code: str | None
    ) -> login.Attempt:
        return login.Attempt(
            email=email,
            password=password,
            ip_address=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            request_id=request_id(request.scope),
            code=code,
        )

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        next_url = safe_next(str(form.get("next") or request.query_params.get("next") or ""))
        pending = str(form.get("pending") or "")
        code = str(form.get("code") or "") or None
        keys = tokens.Keys.of(self.settings)
        async with self.database.session() as db:
            if pending:
                admin_id = tokens.unsign_timed(keys, PENDING_PURPOSE, pending, PENDING_MAX_AGE_S)
                if admin_id is None:
                    return False
                attempt = self._attempt(request, "", "", code)
                outcome = await login.check_second_step(
                    db, self.settings, uuid.UUID(admin_id), attempt
                )
            else:
                attempt = self._attempt(
                    request, str(form.get("username", "")), str(form.get("password", "")), code
                )
                outcome = await login.check_sign_in(db, self.settings, attempt, self.decoy)
            if outcome.needs_code and outcome.admin is not None:
                await db.commit()
                return await self.templates.TemplateResponse(
                    request,
                    "staff/login_code.html",
                    {
                        "pending": tokens.sign_timed(keys, PENDING_PURPOSE, str(outcome.admin.id)),
                        "next": next_url,
                        "error": bool(pending),
                    },
                )
            if not outcome.accepted or outcome.admin is None or outcome.role is None:
                await db.commit()
                if pending and outcome.refusal is login.Refusal.WRONG_CODE:
                    return await self.templates.TemplateResponse(
                        request,
                        "staff/login_code.html",
                        {"pending": pending, "next": next_url, "error": True},
                        status_code=400,
                    )
                return False
            token, session = await sessions.start_session(
                db,
                outcome.admin,
                self.settings,
                kind=SessionKind.BROWSER,
                ip_address=attempt.ip_address,
                user_agent=attempt.user_agent,
            )
            if (
                outcome.role.name in self.settings.totp_required_roles
                and not outcome.admin.totp_secret
            ):
                session.data = {MUST_ENROL: True}
            await db.commit()
        issue_session_cookie(request, token)
        return RedirectResponse(next_url, status_code=302)

    async def logout(self, request: Request) -> Response:
        staff = current_staff(request)
        if staff is not None:
            async with self.database.session() as db:
                await sessions.revoke(db, staff.session_id, "signed out", utcnow())
                await trail.append(
                    db, actor(request), trail.Entry("logout", "admin_users", str(staff.id))
                )
                await db.commit()
        end_session_cookie(request)
        return RedirectResponse(request.url_for("admin:login"), status_code=302)

    async def authenticate(self, request: Request) -> Response | bool:
        staff = current_staff(request)
        if staff is None:
            login_url = request.url_for("admin:login")
            query = urlencode({"next": request.url.path})
            return RedirectResponse(f"{login_url}?{query}", status_code=302)
        if (
            staff.data.get(MUST_ENROL)
            and not staff.two_factor
            and not request.url.path.startswith(ALLOWED_BEFORE_ENROLMENT)
        ):
            return RedirectResponse(ENROLMENT_PATH, status_code=302)
        return True

    async def get_user_id(self, request: Request) -> str | None:
        staff = current_staff(request)
        return str(staff.id) if staff else None
