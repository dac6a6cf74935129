"""The staff auth API: sign in for tokens, rotate them, ask who you are, sign out."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.bodies import read_body
from api.errors import ApiError
from api.operations import PUBLIC, STAFF, Answer, Operation
from api.schemas.auth import (
    DemoCredentials,
    LoginRequest,
    RefreshRequest,
    StaffProfile,
    TokenPair,
)
from api.schemas.errors import (
    BAD_JSON_BODY,
    DATABASE_UNAVAILABLE,
    NO_CSRF_TOKEN,
    NOT_SIGNED_IN,
    PAYLOAD_TOO_LARGE,
    ApiErrorBody,
)
from api.security import require_staff
from audit import trail
from auth import login, sessions, tokens
from auth.demo import DEMO_ADMIN_EMAIL
from auth.middleware import actor, client_ip
from core.database import Database
from core.middleware import request_id
from core.settings import Settings
from models.base import utcnow
from models.people import AdminSession, AdminUser, Role, SessionKind

INVALID_CREDENTIALS = ApiError(
    401,
    "invalid_credentials",
    "Email or password is incorrect, or this account cannot sign in right now.",
)
_decoy = login.Decoy()


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _database(request: Request) -> Database:
    return request.app.state.database


def _token_pair(
    settings: Settings, admin: AdminUser, role: Role, session: AdminSession, refresh: str
) -> TokenPair:
    access = tokens.issue_access_token(
        tokens.Keys.of(settings),
        subject=admin.id,
        session_id=session.id,
        email=admin.email,
        role=role.name,
        now=utcnow(),
        ttl=timedelta(seconds=settings.access_token_ttl_s),
    )
    return TokenPair(
        access_token=access,
        token_type="bearer",  # noqa: S106 - the scheme's name, not a secret
        expires_in=settings.access_token_ttl_s,
        refresh_token=refresh,
        refresh_expires_at=session.expires_at,
    )


def _tokens(pair: TokenPair) -> Response:
    return JSONResponse(pair.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


async def sign_in(request: Request) -> Response:
    body = await read_body(request, LoginRequest)
    settings = _settings(request)
    attempt = login.Attempt(
        email=body.email,
        password=body.password,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id(request.scope),
        code=body.totp_code,
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
    return _tokens(pair)


async def refresh(request: Request) -> Response:
    body = await read_body(request, RefreshRequest)
    settings = _settings(request)
    async with _database(request).session() as db:
        rotated = await sessions.rotate_refresh_token(db, body.refresh_token, settings)
        await db.commit()
    if rotated is None:
        raise ApiError(401, "invalid_refresh_token", "This refresh token is not valid any more.")
    new_refresh, session, admin, role = rotated
    return _tokens(_token_pair(settings, admin, role, session, new_refresh))


async def me(request: Request) -> Response:
    staff = await require_staff(request)
    profile = StaffProfile(
        id=staff.id,
        email=staff.email,
        full_name=staff.full_name,
        role=staff.role,
        permissions=sorted(staff.permissions),
        two_factor=staff.two_factor,
    )
    return JSONResponse(profile.model_dump(mode="json"))


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
    demo = DemoCredentials(
        email=DEMO_ADMIN_EMAIL,
        password=None,
        note="`swipesavvy-admin demo` prints a new password for this account each time it "
        "starts; it is never stored in clear.",
    )
    return JSONResponse(demo.model_dump(mode="json"))


TAG = "Staff auth"
operations = [
    Operation(
        method="POST",
        path="/api/v1/admin/auth/login",
        name="auth-login",
        summary="Sign in with email and password (and a two-factor code) for tokens",
        tag=TAG,
        responses={
            200: Answer("Signed in.", TokenPair, headers=("Cache-Control",)),
            400: BAD_JSON_BODY,
            401: Answer(
                "Wrong or unknown credentials, a locked or disabled account; or the account "
                "needs its two-factor code in totp_code.",
                ApiErrorBody,
                codes=("invalid_credentials", "totp_required"),
            ),
            403: Answer(
                "The role must use two-factor sign-in and the account has none yet.",
                ApiErrorBody,
                codes=("two_factor_enrolment_required",),
            ),
            413: PAYLOAD_TOO_LARGE,
            429: Answer(
                "Too many failed sign-ins from this address.",
                ApiErrorBody,
                codes=("too_many_attempts",),
                headers=("Retry-After",),
            ),
            503: DATABASE_UNAVAILABLE,
        },
        security=PUBLIC,
        endpoint=sign_in,
        body=LoginRequest,
    ),
    Operation(
        method="POST",
        path="/api/v1/admin/auth/refresh",
        name="auth-refresh",
        summary="Swap a refresh token for new tokens",
        tag=TAG,
        responses={
            200: Answer(
                "New tokens; the refresh token sent is spent.",
                TokenPair,
                headers=("Cache-Control",),
            ),
            400: BAD_JSON_BODY,
            401: Answer(
                "Not a live refresh token. Reusing a spent one ends its session.",
                ApiErrorBody,
                codes=("invalid_refresh_token",),
            ),
            413: PAYLOAD_TOO_LARGE,
            503: DATABASE_UNAVAILABLE,
        },
        security=PUBLIC,
        endpoint=refresh,
        body=RefreshRequest,
    ),
    Operation(
        method="GET",
        path="/api/v1/admin/auth/me",
        name="auth-me",
        summary="The signed-in staff member",
        tag=TAG,
        responses={
            200: Answer("Who is calling.", StaffProfile),
            401: NOT_SIGNED_IN,
            503: DATABASE_UNAVAILABLE,
        },
        security=STAFF,
        endpoint=me,
    ),
    Operation(
        method="POST",
        path="/api/v1/admin/auth/logout",
        name="auth-logout",
        summary="Sign out: the session behind the token ends",
        tag=TAG,
        responses={
            204: Answer("Signed out."),
            401: NOT_SIGNED_IN,
            403: NO_CSRF_TOKEN,
            413: PAYLOAD_TOO_LARGE,
            503: DATABASE_UNAVAILABLE,
        },
        security=STAFF,
        endpoint=sign_out,
    ),
    Operation(
        method="GET",
        path="/api/v1/admin/auth/demo-credentials",
        name="auth-demo-credentials",
        summary="Which account the demo signs in with (not in production)",
        tag=TAG,
        responses={
            200: Answer("The demo account.", DemoCredentials),
            404: Answer(
                "Always, in production: there is no demo there.",
                ApiErrorBody,
                codes=("not_found",),
            ),
            503: DATABASE_UNAVAILABLE,
        },
        security=PUBLIC,
        endpoint=demo_credentials,
    ),
]
