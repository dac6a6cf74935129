"""Who a request comes from and which site it is for: trusted proxies, allowed hosts, public URL.

Behind a proxy every connection comes from the proxy, so the client's address is read from
`X-Forwarded-For`, but only when the connection comes from one of `TRUSTED_PROXIES` (uvicorn's
`ProxyHeadersMiddleware`; anyone else could forge the header). A request for a host outside
`ALLOWED_HOSTS` is a 400 (Starlette's `TrustedHostMiddleware`). With `PUBLIC_URL` set the app
sees every request as addressed to it, so redirects and absolute links never follow the Host
header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
"""A load balancer probes each server by the server's own address, not a public host name;
the probes build no links, so any host may ask them."""
DEFAULT_PORTS = {"http": 80, "https": 443}


class AllowedHostsMiddleware(TrustedHostMiddleware):
    """Starlette's host check, with the health probes let through."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("path") in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class PublicUrlMiddleware:
    """Every request reads as addressed to the public URL: its scheme, host and port are what
    `request.url` and `url_for` build from."""

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.scheme = parts.scheme
        self.host = parts.netloc.encode("latin-1")
        self.server = (parts.hostname or "", parts.port or DEFAULT_PORTS[parts.scheme])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["scheme"] = self.scheme
            scope["server"] = self.server
            headers = [(name, value) for name, value in scope["headers"] if name != b"host"]
            scope["headers"] = [(b"host", self.host), *headers]
        await self.app(scope, receive, send)


def middleware(settings: Settings) -> list[Middleware]:
    """The layers that settle the client and the host, outermost first; none by default."""
    layers = []
    if settings.trusted_proxies:
        layers.append(
            Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
        )
    if settings.allowed_hosts:
        layers.append(
            Middleware(
                AllowedHostsMiddleware,
                allowed_hosts=list(settings.allowed_hosts),
                www_redirect=False,
            )
        )
    if settings.public_url:
        layers.append(Middleware(PublicUrlMiddleware, public_url=settings.public_url))
    return layers
