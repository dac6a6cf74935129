"""How the server treats its connections and its CPU under load."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

import auth.passwords
from cli.http_protocol import ServedProtocol


class _Transport(asyncio.Transport):
    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"socket": self.connection, "peername": ("127.0.0.1", 1)}.get(name, default)


async def test_every_served_connection_has_nagle_off() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as connection:
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        protocol = ServedProtocol(config=_config(), server_state=_server_state(), app_state={})

        protocol.connection_made(_Transport(connection))

        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


async def _app(scope: Any, receive: Any, send: Any) -> None:
    raise NotImplementedError


def _config() -> Config:
    config = Config(app=_app, log_config=None)
    config.load()
    return config


def _server_state() -> ServerState:
    return ServerState()


async def test_password_hashing_runs_on_its_own_threads_one_per_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, most, threads = 0, 0, set()
    lock = threading.Lock()

    def slow_verify(_password: str, _hash: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread().name)
        time.sleep(0.02)
        with lock:
            running -= 1
        return True

    monkeypatch.setattr(auth.passwords, "_verify", slow_verify)

    results = await asyncio.gather(
        *(auth.passwords.verify_password("pw", "hash") for _ in range(8))
    )

    cores = os.cpu_count() or 1
    assert results == [True] * 8
    # A burst uses every core (one thread left a worker's burst queued while a core idled),
    # never more threads than cores, and never the event loop's or the default pool's.
    assert most == min(8, cores)
    assert len(threads) == min(8, cores)
    assert all(name.startswith("bcrypt") for name in threads)
