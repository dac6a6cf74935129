"""Every response: a request id, and the security headers a back office should send."""

from __future__ import annotations

import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
ACCEPTED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Inline style attributes only (Tabler, select2); no third-party origin anywhere.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
PRIVATE_PREFIXES = ("/admin", "/api/v1/admin")
CACHEABLE_PREFIXES = ("/admin/statics", "/static")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
REQUEST_ID = REQUEST_ID_HEADER.encode()


def request_id(scope: Scope) -> str | None:
    return scope.get("state", {}).get("request_id")


def incoming_request_id(scope: Scope) -> str:
    """The client's `X-Request-ID` when well formed, else a new one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID:
            incoming = value.decode("latin-1")
            if ACCEPTED_REQUEST_ID.match(incoming):
                return incoming
            break
    return secrets.token_hex(16)


class SecurityHeadersMiddleware:
    """Sets `request.state.request_id` (kept from a well-formed `X-Request-ID`, else new)
    and adds CSP, nosniff, referrer, framing and, in production, HSTS headers.

    The headers are added as one prepared list of raw pairs (replacing any the app set),
    not one by one through `MutableHeaders`: every response pays for this, the flag doors'
    included."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.added = list(SECURITY_HEADERS)
        if production:
            self.added.append((b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode()))
        self.replaced = frozenset(name for name, _ in self.added) | {REQUEST_ID}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        path: str = scope["path"]
        private = path.startswith(PRIVATE_PREFIXES) and not path.startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    pair for pair in message.get("headers", ()) if pair[0] not in self.replaced
                ]
                headers += self.added
                headers.append((REQUEST_ID, rid.encode()))
                if private and all(name != b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
