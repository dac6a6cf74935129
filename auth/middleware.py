"""Staff sessions and CSRF for the admin screens, as ASGI middleware.

`StaffSessionMiddleware` reads the signed session cookie, loads the live session from
`admin_sessions` (and, in the same statement, what every page shows about the staff member:
`sessions.Alongside`) and puts the staff member in `scope["staff"]` and the session's small
state in `scope["session"]` (where SQLAdmin keeps flash messages); while the request runs,
times are shown in the staff member's zone (`core.time_zones`). Routes that sign in or
out say so through `issue_session_cookie` / `end_session_cookie`.

`CsrfMiddleware` refuses any state-changing request under /admin without the session's
CSRF token, before the request reaches a view.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit import trail
from auth import sessions, tokens
from auth.permissions import allows
from auth.sessions import Staff
from core import personal_data, time_zones
from core.database import Database
from core.middleware import request_id
from core.settings import Settings

COOKIE_PURPOSE = "session-cookie"
SESSION_PATHS = ("/admin", "/api/v1/admin")
STATIC_PATHS = ("/admin/statics",)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/admin/login"
_ISSUED = "swipesavvy.issued_session_token"
_ENDED = "swipesavvy.session_ended"


def cookie_name(settings: Settings) -> str:
    # `__Host-` makes browsers refuse the cookie unless Secure, host-only and Path=/.
    return "__Host-swipesavvy_session" if settings.is_production else "swipesavvy_session"


def current_staff(connection: HTTPConnection) -> Staff | None:
    return connection.scope.get("staff")


def may_see_personal_data(staff: Staff | None) -> bool:
    return staff is not None and allows(staff.permissions, *personal_data.PERMISSION)


def client_ip(connection: HTTPConnection) -> str | None:
    return connection.client.host if connection.client else None


def actor(connection: HTTPConnection, staff: Staff | None = None) -> trail.Actor:
    """Who a request acts for (the cookie's staff member unless given), for the audit trail."""
    staff = staff or current_staff(connection)
    return trail.Actor(
        id=staff.id if staff else None,
        email=staff.email if staff else None,
        ip_address=client_ip(connection),
        user_agent=connection.headers.get("user-agent"),
        request_id=request_id(connection.scope),
    )


def issue_session_cookie(connection: HTTPConnection, token: str) -> None:
    """The response to this request signs the browser in with `token`."""
    connection.scope[_ISSUED] = token


def end_session_cookie(connection: HTTPConnection) -> None:
    """The response to this request removes the session cookie."""
    connection.scope[_ENDED] = True


def csrf_token_for(connection: HTTPConnection, settings: Settings) -> str:
    staff = current_staff(connection)
    return tokens.csrf_token(tokens.Keys.of(settings), staff.session_id) if staff else ""


class StaffSessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        database: Database,
        alongside: Mapping[str, sessions.Alongside] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.database = database
        self.sessions = sessions.BrowserSessions(alongside)
        self.cookie = cookie_name(settings)
        self.keys = tokens.Keys.of(settings)

    def _set_cookie(self, value: str, max_age: int) -> str:
        cookie = SimpleCookie()
        cookie[self.cookie] = value
        morsel = cookie[self.cookie]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        morsel["max-age"] = max_age
        if self.settings.is_production:
            morsel["secure"] = True
        return morsel.OutputString()

    async def _resolve(self, signed: str | None) -> Staff | None:
        token = tokens.unsign(self.keys, COOKIE_PURPOSE, signed or "")
        if token is None:
            return None
        async with self.database.session() as db:
            staff = await self.sessions.resolve(db, token, self.settings)
            # Only a touch (`last_seen_at`, once a minute) or a revocation (an idle session,
            # which resolves to None) writes; any other request only read, and a commit
            # would cost a round trip (on SQLite, a hand-off to its thread) for nothing.
            if staff is None or db.dirty:
                await db.commit()
        return staff

    async def _save(self, session: uuid.UUID | str, data: dict[str, Any]) -> None:
        async with self.database.session() as db:
            await sessions.save_data(db, session, data)
            await db.commit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(SESSION_PATHS)
            or path.startswith(STATIC_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        presented = HTTPConnection(scope).cookies.get(self.cookie)
        staff = await self._resolve(presented) if presented else None
        scope["staff"] = staff
        scope["session"] = copy.deepcopy(staff.data) if staff else {}
        loaded = copy.deepcopy(scope["session"])

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                issued = scope.get(_ISSUED)
                if issued:
                    signed = tokens.sign(self.keys, COOKIE_PURPOSE, issued)
                    headers.append(
                        "set-cookie", self._set_cookie(signed, self.settings.session_lifetime_s)
                    )
                    if scope["session"]:  # e.g. a flash message for the page after sign-in
                        await self._save(tokens.token_hash(issued), scope["session"])
                elif scope.get(_ENDED) or (presented and staff is None):
                    headers.append("set-cookie", self._set_cookie("", 0))
                elif staff is not None and scope["session"] != loaded:
                    await self._save(staff.session_id, scope["session"])
            await send(message)

        with (
            time_zones.showing(staff.time_zone if staff else time_zones.DEFAULT),
            personal_data.showing(may_see_personal_data(staff)),
        ):
            await self.app(scope, receive, send_with_cookie)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """The body read ahead, then the connection's own messages: a streamed answer to a
    form (an approved export's download) listens for the real disconnect, not a made-up one."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class CsrfMiddleware:
    """Every POST, PUT, PATCH and DELETE under /admin carries the session's token, in the
    `X-CSRF-Token` header or a `csrf_token` form field. The sign-in form, which has no
    session yet, is instead refused when its Origin is another site."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.keys = tokens.Keys.of(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or not scope["path"].startswith("/admin")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["path"] == LOGIN_PATH:
            if not self._same_origin(request):
                await self._refuse(scope, receive, send, "cross-site sign-in refused")
                return
            await self.app(scope, receive, send)
            return
        staff = current_staff(request)
        presented = request.headers.get(CSRF_HEADER)
        forwarded = receive
        if presented is None and self._is_form(request):
            body = await _read_body(receive)
            form = await Request(scope, _replay(body, receive)).form()
            presented = str(form.get(CSRF_FIELD) or "")
            await form.close()
            forwarded = _replay(body, receive)
        if (
            staff is None
            or not presented
            or not tokens.csrf_matches(self.keys, staff.session_id, presented)
        ):
            await self._refuse(scope, receive, send, "missing or invalid CSRF token")
            return
        await self.app(scope, forwarded, send)

    @staticmethod
    def _is_form(request: Request) -> bool:
        content_type = request.headers.get("content-type", "")
        return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))

    @staticmethod
    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return origin is None
        parts = urlsplit(origin)
        return parts.netloc == request.headers.get("host") and parts.scheme == request.url.scheme

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
        response = PlainTextResponse(f"403 Forbidden: {reason}.", status_code=403)
        await response(scope, receive, send)
