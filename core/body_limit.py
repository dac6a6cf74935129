"""Request bodies over the limit are refused with 413 before the app reads any of them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.plain_errors import error_response

BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def declared_length(scope: Scope) -> int | None:
    """The Content-Length, or None when there is none (or none that is a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _may_have_unsized_body(scope: Scope) -> bool:
    if scope["method"] not in BODYLESS_METHODS:
        return True
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read ahead as one message, then the connection's own messages (a
    disconnect, which streaming responses listen for)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class BodyLimitMiddleware:
    """A Content-Length over `max_bytes` is refused at once. A body without one (chunked)
    is read ahead, at most `max_bytes` of it, and refused the moment it grows past the
    limit; under it, the app gets the body as if it were arriving."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None:
            if length > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            # The server stops the body at its Content-Length; nothing more can arrive.
            await self.app(scope, receive, send)
            return
        if not _may_have_unsized_body(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before finishing its body: no one to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            scope["path"],
            413,
            "payload_too_large",
            "Request too large",
            f"The request body is larger than the limit of {self.max_bytes} bytes.",
            # The rest of the body is never read, so the connection cannot be reused.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
