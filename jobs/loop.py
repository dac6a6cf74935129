"""Run one pass of a background job, again and again, for as long as the server lives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(interval_s: float, one_pass: Callable[[], Awaitable[None]], name: str) -> None:
    """A failed pass is logged and the next one tries again: a database away for a while
    must not end the loop."""
    while True:
        try:
            await one_pass()
        except Exception:
            log.exception("%s failed; retrying in %ss", name, interval_s)
        await asyncio.sleep(interval_s)
