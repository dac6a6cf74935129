"""Bodies of the liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from api.schemas import Closed


class Alive(Closed):
    status: Literal["ok"]


class Ready(Closed):
    status: Literal["ready"]
    database: Literal["ok"]


class NotReady(Closed):
    status: Literal["unavailable"]
    database: Literal["unreachable"]
