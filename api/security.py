"""Who is calling the staff API: a bearer access token, or the admin session cookie."""

from __future__ import annotations

from starlette.requests import Request

from api.errors import ApiError
from auth import sessions, tokens
from auth.middleware import current_staff
from auth.permissions import allows
from auth.sessions import Staff
from core.database import Database
from core.settings import Settings
from models.base import utcnow

NOT_SIGNED_IN = ApiError(
    401,
    "not_authenticated",
    "Sign in first: send 'Authorization: Bearer <access token>'.",
    headers={"WWW-Authenticate": 'Bearer realm="swipesavvy-admin"'},
)


async def bearer_staff(request: Request) -> Staff | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    settings: Settings = request.app.state.settings
    claims = tokens.read_access_token(str(settings.secret_key), token.strip(), utcnow())
    if claims is None:
        return None
    database: Database = request.app.state.database
    async with database.session() as db:
        return await sessions.resolve_api_session(db, claims.session_id, claims.subject)


async def require_staff(request: Request, permission: tuple[str, str] | None = None) -> Staff:
    """The calling staff member, checked live (a disabled account stops at once), or 401/403."""
    staff = await bearer_staff(request)
    if staff is None and not request.headers.get("authorization"):
        staff = current_staff(request)
    if staff is None:
        raise NOT_SIGNED_IN
    if permission is not None and not allows(staff.permissions, *permission):
        raise ApiError(403, "forbidden", f"Your role may not {permission[1]} {permission[0]}.")
    return staff
