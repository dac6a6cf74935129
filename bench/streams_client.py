"""OFREP event streams opened as an EventSource would, on raw sockets so the client stays small."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

OPEN_TIMEOUT_S = 120
OPEN_BATCH = 500


class Listener:
    """One stream, read as an EventSource would."""

    def __init__(self, host: str, port: int, path: str, reads: bool) -> None:
        self.host, self.port, self.path, self.reads = host, port, path, reads
        self.heard_at: float | None = None
        self.ended = False
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.writer = writer
        writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        await writer.drain()
        if not self.reads:
            return
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace").splitlines()[0])
        self.reader = reader

    async def until_message(self) -> None:
        while b"refetchEvaluation" not in await self.reader.readline():
            pass
        self.heard_at = time.monotonic()

    async def drain(self) -> None:
        """Reads whatever the server sends (heartbeats, events) until it ends the stream."""
        with suppress(ConnectionError):
            while await self.reader.read(4096):
                pass
        self.ended = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()


async def open_all(listeners: list[Listener]) -> None:
    async with asyncio.timeout(OPEN_TIMEOUT_S):
        for start in range(0, len(listeners), OPEN_BATCH):
            await asyncio.gather(*(s.open() for s in listeners[start : start + OPEN_BATCH]))


@contextmanager
def held_streams(host: str, port: int, path: str, count: int) -> Iterator[list[Listener]]:
    """`count` streams open and read on a thread of their own for the block's length."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    listeners = [Listener(host, port, path, reads=True) for _ in range(count)]
    drains: list[asyncio.Task[None]] = []

    async def open_and_read() -> None:
        await open_all(listeners)
        drains.extend(asyncio.create_task(s.drain()) for s in listeners)

    try:
        asyncio.run_coroutine_threadsafe(open_and_read(), loop).result(OPEN_TIMEOUT_S + 5)
        yield listeners
    finally:

        async def close() -> None:
            for stream in listeners:
                stream.close()
            for task in drains:
                task.cancel()
            await asyncio.gather(*drains, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
