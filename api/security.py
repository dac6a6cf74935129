"""Who is calling the staff API: a bearer access token, or the admin session cookie."""

from __future__ import annotations

from starlette.requests import Request

from api.errors import ApiError
from auth import sessions, tokens
from auth.middleware import CSRF_HEADER, current_staff, may_see_personal_data
from auth.permissions import allows
from auth.sessions import Staff
from core import personal_data
from core.database import Database
from core.settings import Settings
from models.base import utcnow

NOT_SIGNED_IN = ApiError(
    401,
    "not_authenticated",
    "Sign in first: send 'Authorization: Bearer <access token>'.",
    headers={"WWW-Authenticate": 'Bearer realm="swipesavvy-admin"'},
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_CSRF_TOKEN = ApiError(
    403,
    "csrf_failed",
    "A change through the admin session needs the page's CSRF token in X-CSRF-Token (or "
    "send a bearer token instead).",
)


async def bearer_staff(request: Request) -> Staff | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    settings: Settings = request.app.state.settings
    claims = tokens.read_access_token(tokens.Keys.of(settings), token.strip(), utcnow())
    if claims is None:
        return None
    database: Database = request.app.state.database
    async with database.session() as db:
        return await sessions.resolve_api_session(db, claims.session_id, claims.subject)


async def require_staff(request: Request, permission: tuple[str, str] | None = None) -> Staff:
    """The calling staff member, checked live (a disabled account stops at once), or 401/403.

    Any request but GET/HEAD through the admin session (the cookie) must carry the session's
    CSRF token, as the screens' forms do: a browser sends the cookie with another site's
    request too, never a bearer token, so bearer requests need none."""
    staff = await bearer_staff(request)
    if staff is None and not request.headers.get("authorization"):
        staff = current_staff(request)
        if staff is not None and request.method not in SAFE_METHODS:
            _check_csrf(request, staff)
    if staff is None:
        raise NOT_SIGNED_IN
    personal_data.allow(may_see_personal_data(staff))
    if permission is not None and not allows(staff.permissions, *permission):
        raise ApiError(403, "forbidden", f"Your role may not {permission[1]} {permission[0]}.")
    return staff


def _check_csrf(request: Request, staff: Staff) -> None:
    settings: Settings = request.app.state.settings
    presented = request.headers.get(CSRF_HEADER, "")
    # compare_digest takes ASCII text only; a header may carry any byte.
    if not presented.isascii() or not tokens.csrf_matches(
        tokens.Keys.of(settings), staff.session_id, presented
    ):
        raise NO_CSRF_TOKEN


async def staff_acting(request: Request) -> Staff:
    """The caller (`require_staff`), made the request's staff member for the admin's own
    code it runs: the audit trail's actor, the approvals a role may see."""
    staff = await require_staff(request)
    request.scope["staff"] = staff
    return staff
