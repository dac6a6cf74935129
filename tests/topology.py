"""The production topology on 127.0.0.1, for tests: PgBouncer (transaction pooling) in front of
PostgreSQL, `swipesavvy-admin serve` processes, HAProxy in front of them.

Each process writes its output to a log file in its folder (a pipe nobody reads would stall it)
and is stopped when its block ends, killed if it will not stop, whatever the test did.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from core.settings import VARIABLES
from tests.databases import in_ci
from tests.test_processes import COMMAND, free_port

DAEMONS = ("haproxy", "pgbouncer")
SYSTEM_BINARIES = ("/usr/sbin", "/usr/local/sbin")
"""Debian installs both daemons here, outside an ordinary user's PATH."""
UNPRIVILEGED_USER = "nobody"
"""PgBouncer refuses to run as root; it reads its files first, then becomes this user."""
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10

PGBOUNCER_INI = """\
[databases]
{database} = host={host} port={port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {auth_file}
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
; Every server connection leaves each transaction with no prepared statement: the app's are
; named once and never reused, and would pile up on the server otherwise.
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
"""

HAPROXY_CFG = """\
global
    maxconn 512

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A connection refused by a dead server is tried again, on another server.
    retries 3
    option redispatch 1

frontend admin
    bind 127.0.0.1:{listen_port}
    option forwardfor
    default_backend servers

backend servers
    balance roundrobin
    # Pages, exports and JSON leave compressed: the proxy spends the CPU, not the servers.
    compression algo gzip
    compression type text/html text/csv application/json text/css text/javascript
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
{servers}
"""


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: a crash, nothing finishes."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=STOP_TIMEOUT_S)


def daemons() -> dict[str, str]:
    """HAProxy's and PgBouncer's paths; the test is skipped without them, or fails in CI."""
    found = {
        name: shutil.which(name) or shutil.which(name, path=os.pathsep.join(SYSTEM_BINARIES))
        for name in DAEMONS
    }
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        message = f"{' and '.join(missing)} not installed (apt-get install haproxy pgbouncer)"
        if in_ci():
            pytest.fail(f"{message}: CI=true needs the topology test to run")
        pytest.skip(f"{message}; set CI=true to make this a failure")
    return {name: str(path) for name, path in found.items()}


@contextmanager
def started(
    args: list[str], folder: Path, env: Mapping[str, str] | None = None
) -> Iterator[Process]:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "output.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(  # noqa: S603 - fixed daemons and our own console script
            args, stdout=sink, stderr=subprocess.STDOUT, cwd=folder, env=env
        )
    process = Process(popen, log)
    try:
        yield process
    finally:
        if popen.poll() is None:
            popen.terminate()
            try:
                popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


def wait_for_port(port: int, process: Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"{process.popen.args[0]} exited early:\n{process.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listened on {port} within {START_TIMEOUT_S} s:\n{process.output()}")


def wait_until_healthy(base_url: str, process: Process) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"server exited early:\n{process.output()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{base_url} was not ready within {START_TIMEOUT_S} s:\n{process.output()}")


@contextmanager
def pgbouncer(binary: str, postgres_url: str, folder: Path) -> Iterator[str]:
    """PgBouncer pooling by transaction in front of the database of `postgres_url`; yields
    the URL that reaches the same database through it."""
    url = make_url(postgres_url)
    folder.mkdir(parents=True, exist_ok=True)
    auth_file = folder / "userlist.txt"
    auth_file.write_text(f'"{url.username}" "{url.password or ""}"\n')
    port = free_port()
    config = folder / "pgbouncer.ini"
    config.write_text(
        PGBOUNCER_INI.format(
            database=url.database,
            host=url.host,
            port=url.port or 5432,
            listen_port=port,
            auth_file=auth_file,
        )
    )
    user = ["-u", UNPRIVILEGED_USER] if os.geteuid() == 0 else []
    with started([binary, *user, str(config)], folder) as process:
        wait_for_port(port, process)
        yield url.set(port=port).render_as_string(hide_password=False)


@contextmanager
def server(environment: Mapping[str, str], folder: Path) -> Iterator[tuple[int, Process]]:
    """`swipesavvy-admin serve` on a free port, with exactly these settings."""
    port = free_port()
    inherited = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    args = [str(COMMAND), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with started(args, folder, inherited | dict(environment)) as process:
        yield port, process


@contextmanager
def haproxy(binary: str, server_ports: Mapping[str, int], folder: Path) -> Iterator[int]:
    """HAProxy balancing over the servers (name -> port); yields its port."""
    port = free_port()
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{server_port} check"
        for name, server_port in server_ports.items()
    )
    config = folder / "haproxy.cfg"
    folder.mkdir(parents=True, exist_ok=True)
    config.write_text(HAPROXY_CFG.format(listen_port=port, servers=servers))
    with started([binary, "-db", "-f", str(config)], folder) as process:
        wait_for_port(port, process)
        yield port
