"""The staff auth API: sign in for tokens, rotate them, ask who you are, sign out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.errors import ApiError
from api.security import require_staff
from api.validation import Text, json_object
from audit import trail
from auth import login, sessions, tokens
from auth.middleware import actor, client_ip
from auth.sessions import Staff
from core.database import Database
from core.middleware import request_id
from core.settings import Settings
from demo_data import DEMO_ADMIN_EMAIL
from models.base import utcnow
from models.people import AdminSession, AdminUser, Role, SessionKind

INVALID_CREDENTIALS = ApiError(
    401,
    "invalid_credentials",
    "Email or password is incorrect, or this account cannot sign in right now.",
)
_decoy = login.Decoy()
LOGIN_FIELDS = {"email": Text(255), "password": Text(1024), "totp_code": Text(16, required=False)}
REFRESH_FIELDS = {"refresh_token": Text(256)}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _database(request: Request) -> Database:
    return request.app.state.database


def _token_pair(
    settings: Settings, admin: AdminUser, role: Role, session: AdminSession, refresh: str
) -> dict[str, Any]:
    access = tokens.issue_access_token(
        str(settings.secret_key),
        subject=admin.id,
        session_id=session.id,
        email=admin.email,
        role=role.name,
        now=utcnow(),
        ttl=timedelta(seconds=settings.access_token_ttl_s),
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": settings.access_token_ttl_s,
        "refresh_token": refresh,
        "refresh_expires_at": session.expires_at.isoformat(),
    }


async def sign_in(request: Request) -> Response:
    body = await json_object(request, LOGIN_FIELDS)
    settings = _settings(request)
    attempt = login.Attempt(
        email=str(body["email"]),
        password=str(body["password"]),
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id(request.scope),
        code=body["totp_code"],
    )
    async with _database(request).session() as db:
        outcome = await login.check_sign_in(db, settings, attempt, _decoy)
        await db.commit()
        if outcome.refusal is login.Refusal.IP_LIMIT:
            raise ApiError(
                429,
                "too_many_attempts",
                "Too many failed sign-ins from this address; try again later.",
                headers={"Retry-After": str(settings.login_ip_window_s)},
            )
        if outcome.needs_code:
            raise ApiError(
                401, "totp_required", "This account needs a two-factor code: send 'totp_code'."
            )
        if not outcome.accepted or outcome.admin is None or outcome.role is None:
            raise INVALID_CREDENTIALS
        if outcome.role.name in settings.totp_required_roles and not outcome.admin.totp_secret:
            raise ApiError(
                403,
                "two_factor_enrolment_required",
                "Your role must use two-factor sign-in: set it up in the admin first.",
            )
        secret, session = await sessions.start_session(
            db,
            outcome.admin,
            settings,
            kind=SessionKind.API,
            ip_address=attempt.ip_address,
            user_agent=attempt.user_agent,
        )
        pair = _token_pair(
            settings,
            outcome.admin,
            outcome.role,
            session,
            sessions.refresh_token_for(session, secret),
        )
        await db.commit()
    return JSONResponse(pair, headers={"Cache-Control": "no-store"})


async def refresh(request: Request) -> Response:
    body = await json_object(request, REFRESH_FIELDS)
    settings = _settings(request)
    async with _database(request).session() as db:
        rotated = await sessions.rotate_refresh_token(db, str(body["refresh_token"]), settings)
        await db.commit()
    if rotated is None:
        raise ApiError(401, "invalid_refresh_token", "This refresh token is not valid any more.")
    new_refresh, session, admin, role = rotated
    return JSONResponse(
        _token_pair(settings, admin, role, session, new_refresh),
        headers={"Cache-Control": "no-store"},
    )


def _profile(staff: Staff) -> dict[str, Any]:
    return {
        "id": str(staff.id),
        "email": staff.email,
        "full_name": staff.full_name,
        "role": staff.role,
        "permissions": sorted(staff.permissions),
        "two_factor": staff.two_factor,
    }


async def me(request: Request) -> Response:
    return JSONResponse(_profile(await require_staff(request)))


async def sign_out(request: Request) -> Response:
    staff = await require_staff(request)
    async with _database(request).session() as db:
        await sessions.revoke(db, staff.session_id, "signed out", utcnow())
        await trail.append(
            db, actor(request, staff), trail.Entry("logout", "admin_users", str(staff.id))
        )
        await db.commit()
    return Response(status_code=204)


async def demo_credentials(request: Request) -> Response:
    if _settings(request).is_production:
        raise ApiError(404, "not_found", "Not found.")
    return JSONResponse(
        {
            "email": DEMO_ADMIN_EMAIL,
            "password": None,
            "note": "`swipesavvy-admin demo` prints a new password for this account each time "
            "it starts; it is never stored in clear.",
        }
    )


routes = [
    Route("/api/v1/admin/auth/login", sign_in, methods=["POST"], name="auth-login"),
    Route("/api/v1/admin/auth/refresh", refresh, methods=["POST"], name="auth-refresh"),
    Route("/api/v1/admin/auth/me", me, methods=["GET"], name="auth-me"),
    Route("/api/v1/admin/auth/logout", sign_out, methods=["POST"], name="auth-logout"),
    Route(
        "/api/v1/admin/auth/demo-credentials",
        demo_credentials,
        methods=["GET"],
        name="auth-demo-credentials",
    ),
]
