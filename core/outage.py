"""The database being away, answered with a clear 503 instead of a stack trace.

`unavailability(error)` says whether an exception means the database cannot answer right
now: unreachable (refused, dropped, shutting down, out of connections) or too slow (the
statement timeout, a lock waited on too long). `DatabaseOutageMiddleware` answers such an
exception with a 503 and `Retry-After`, a short page for people and JSON for the API, and
logs it once at WARNING, naming the driver's error but never SQL, parameters or the DSN.

It runs twice: around the whole app (the staff session lookups, the API), and inside
SQLAdmin's own Starlette app, whose ServerErrorMiddleware would otherwise answer 500 before
the outer one ever saw the exception.

SQLAdmin's create, edit and delete routes catch every exception, log it and print its text
(SQL and parameters included) on the page. Around those routes `surfacing()`, with
`SwallowedOutageFilter` on SQLAdmin's logger, lifts an outage out of that catch so that it
is answered here like any other.

Nothing is kept between requests: the pool pings a connection idle for a second before using
it and drops it if dead (`core.database._ping_when_idle`), and a failed request's disconnect
drops the older ones, so the first request after the database returns is served normally.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.middleware import request_id
from core.plain_errors import error_response

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Unavailable:
    code: str
    title: str
    message: str


UNREACHABLE = Unavailable(
    "database_unavailable",
    "Database unavailable",
    "The database is not answering. Nothing was changed; try again in a few seconds.",
)
TOO_SLOW = Unavailable(
    "database_timeout",
    "Database too slow",
    "The database took too long to answer. Nothing was changed; try again in a few seconds.",
)

TOO_SLOW_STATES = frozenset({"57014", "55P03"})
"""query_canceled (the statement timeout), lock_not_available (a lock timeout)."""
UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
"""Shutting down (admin, crash), still starting up, too many connections; and class 08."""
DRIVER_PACKAGES = frozenset({"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"})
SQLITE_BUSY = "database is locked"
CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
MAX_LOGGED_CHARS = 200


def unavailability(error: BaseException) -> Unavailable | None:
    """How the database failed to answer, or None when `error` is something else."""
    for link in _links(error):
        found = _judge(link)
        if found is not None:
            return found
    return None


def _links(error: BaseException) -> Iterator[BaseException]:
    """`error` and what it wraps: a DBAPIError's driver error, explicit causes, group members.

    Implicit `__context__` is left out: an unrelated error raised while handling an
    outage is not an outage."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for inner in (getattr(current, "orig", None), current.__cause__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _judge(error: BaseException) -> Unavailable | None:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return UNREACHABLE
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return TOO_SLOW
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str):
        if state in TOO_SLOW_STATES:
            return TOO_SLOW
        if state.startswith("08") or state in UNREACHABLE_STATES:
            return UNREACHABLE
    # SQLite has no statement timeout; its only wait is for another writer's lock, given
    # up after the busy timeout.
    if isinstance(error, sqlite3.OperationalError) and SQLITE_BUSY in str(error):
        return TOO_SLOW
    # Connecting is not wrapped by SQLAlchemy: asyncpg's refusals and connect timeouts
    # arrive as plain OSError (ConnectionError and TimeoutError are OSErrors). Only those
    # raised inside the driver stack count; a file the app fails to read is no outage.
    if isinstance(error, OSError) and _raised_in_driver(error):
        return UNREACHABLE
    return None


def _raised_in_driver(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame is not None:
        module = frame.tb_frame.f_globals.get("__name__", "")
        if module.partition(".")[0] in DRIVER_PACKAGES:
            return True
        frame = frame.tb_next
    return False


def _innermost(error: BaseException) -> BaseException:
    while True:
        inner = getattr(error, "orig", None) or error.__cause__
        if not isinstance(inner, BaseException):
            return error
        error = inner


def describe(error: BaseException) -> str:
    """The driver's own error in one line, for the log: SQLAlchemy's wrapper text carries
    the statement and its parameters, which may be secrets."""
    root = _innermost(error)
    lines = str(root).strip().splitlines()
    text = CREDENTIALS.sub(r"\1***@", lines[0])[:MAX_LOGGED_CHARS] if lines else ""
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def outage_response(path: str, found: Unavailable) -> Response:
    return error_response(
        path,
        503,
        found.code,
        found.title,
        found.message,
        headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
    )


class DatabaseOutageMiddleware:
    """An exception meaning the database cannot answer, raised before the response began,
    becomes a 503; any other exception goes on up unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                # Set before sending: if sending fails, the layers outside may still answer.
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as error:
            found = unavailability(error)
            if found is None or started:
                raise
            log.warning(
                "%s: answered 503 to %s %s (request %s): %s",
                found.code,
                scope["method"],
                scope["path"],
                request_id(scope),
                describe(error),
            )
            await outage_response(scope["path"], found)(scope, receive, send)


_swallowed: ContextVar[list[BaseException] | None] = ContextVar("swallowed", default=None)


class SwallowedOutageFilter(logging.Filter):
    """For a logger that code logs an exception to instead of raising it: inside
    `surfacing()`, an outage is kept to be raised again, and not logged here."""

    def filter(self, record: logging.LogRecord) -> bool:
        kept = _swallowed.get()
        error = record.exc_info[1] if record.exc_info else None
        if kept is None or error is None or unavailability(error) is None:
            return True
        kept.append(error)
        return False


SWALLOWED_OUTAGES = SwallowedOutageFilter()


def watch_swallowing_logger(name: str) -> None:
    logger = logging.getLogger(name)
    if SWALLOWED_OUTAGES not in logger.filters:
        logger.addFilter(SWALLOWED_OUTAGES)


@contextmanager
def surfacing() -> Iterator[None]:
    """Raise, on the way out, an outage that code inside caught and logged to a watched
    logger (see `watch_swallowing_logger`), whatever that code answered instead."""
    kept: list[BaseException] = []
    token = _swallowed.set(kept)
    try:
        yield
    finally:
        _swallowed.reset(token)
    if kept:
        raise kept[0]
