"""Read an iterator ahead in a worker thread, so making items overlaps with using them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
POLL_S = 0.1
"""How often a worker waiting for room checks whether the reader has gone."""


async def read_ahead(items: Iterator[T], depth: int) -> AsyncIterator[T]:
    """Yield `items`, which one worker thread makes up to `depth` ahead of the reader.

    Making demo rows is Python's work and writing them is the database server's: run side by
    side they keep both cores busy. An error in `items` is raised to the reader. When the
    reader stops early (close this generator, e.g. with `contextlib.aclosing`), the worker
    stops after the item in hand, and is waited for.
    """
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def send(kind: str, value: Any = None) -> None:
        loop.call_soon_threadsafe(ready.put_nowait, (kind, value))

    def produce() -> None:
        try:
            for item in items:
                while not room.acquire(timeout=POLL_S):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                send("item", item)
        except BaseException as exc:  # handed to the reader, who raises it
            send("error", exc)
        else:
            send("end")

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while True:
            kind, value = await ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            room.release()
            yield value
    finally:
        stop.set()
        await worker
