"""The HTTP/1.1 protocol `serve` runs: uvicorn's httptools parser, with Nagle's algorithm off
on every connection and event streams ended when a graceful shutdown begins.

httptools (llhttp, in C) rather than h11 (pure Python): the flag doors' cost per request is
mostly the server's own, and the event streams' fan-out is a chunk per stream.

With `--workers` above 1 uvicorn binds the listening socket itself, and asyncio then does
not set TCP_NODELAY on the connections it accepts (uvicorn issue #3149). A response goes
out in two writes, head and body, and on a kept-alive connection the body waits for the
client's delayed ACK: about 40 ms added to every request after the first. Set here, it
holds however the server was started.

A flag event stream never ends by itself: left open, each would hold a stopping server for
its whole grace period. The clients reconnect, to another worker or the restarted one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from flags.streams import close_every_stream


class ServedProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def shutdown(self) -> None:
        close_every_stream()
        super().shutdown()
