"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.operations import PUBLIC, Answer, Operation
from api.schemas.health import Alive, NotReady, Ready
from core.database import Database

log = logging.getLogger(__name__)


async def healthz(_request: Request) -> Response:
    """The process is up; says nothing about its dependencies."""
    return JSONResponse(Alive(status="ok").model_dump())


async def readyz(request: Request) -> Response:
    """Ready to serve: the database answers."""
    database: Database = request.app.state.database
    try:
        await database.ping()
    except Exception as exc:  # any failure to answer means not ready
        log.warning("readiness check failed: %s", type(exc).__name__)
        down = NotReady(status="unavailable", database="unreachable")
        return JSONResponse(down.model_dump(), status_code=503)
    return JSONResponse(Ready(status="ready", database="ok").model_dump())


TAG = "Health"
operations = [
    Operation(
        method="GET",
        path="/healthz",
        name="healthz",
        summary="Liveness: the process is up",
        tag=TAG,
        responses={200: Answer("Up.", Alive)},
        security=PUBLIC,
        endpoint=healthz,
    ),
    Operation(
        method="GET",
        path="/readyz",
        name="readyz",
        summary="Readiness: the database answers",
        tag=TAG,
        responses={
            200: Answer("Ready to serve.", Ready),
            503: Answer("The database does not answer.", NotReady),
        },
        security=PUBLIC,
        endpoint=readyz,
    ),
]
