"""What the browser test modules share: a `demo` server, Chromium, the watch, signing in.

Importing this module skips the importing test module when Chromium at /usr/bin/chromium or
the playwright package is missing, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.databases import TEST_BCRYPT_ROUNDS, in_ci
from tests.test_processes import (
    COMMAND,
    OUR_VARIABLES,
    STARTUP_TIMEOUT_S,
    free_port,
    running,
    wait_until_up,
)

CHROMIUM = Path("/usr/bin/chromium")


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


if (missing := _missing()) is not None:
    if in_ci():
        pytest.fail(f"{missing}; CI=true: the browser tests must run", pytrace=False)
    pytest.skip(f"{missing}; set CI=true to make this a failure", allow_module_level=True)

# Imported only once we know the package is there, so a missing one skips instead of erroring.
from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_LOGIN = "admin@example.com"
TIMEOUT_MS = 15_000


@dataclass
class Server:
    base_url: str
    password: str
    folder: Path
    log: list[str]

    @property
    def database(self) -> Path:
        return self.folder / "swipesavvy.db"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's SQLite file directly: the truth the pages are checked against."""
        with closing(sqlite3.connect(self.database)) as connection:
            return connection.execute(sql, params).fetchall()

    def admin_id(self) -> str:
        [(admin_id,)] = self.rows("SELECT id FROM admin_users WHERE email = ?", DEMO_LOGIN)
        return str(admin_id)

    def create_staff(self, email: str, role: str, password: str) -> None:
        """The way an operator adds staff: `create-admin` on the demo's database and key."""
        created = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(COMMAND), "create-admin", "--email", email, "--role", role, "--password-stdin"],
            input=f"{password}\n",
            env={name: value for name, value in os.environ.items() if name not in OUR_VARIABLES}
            | {"BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS)},
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_S,
        )
        assert created.returncode == 0, created.stdout + created.stderr


@contextmanager
def demo_server(folder: Path) -> Iterator[Server]:
    """`swipesavvy-admin demo` in an empty folder: migrated, seeded SQLite, printed password."""
    port = free_port()
    env = {"BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS)}
    with running(["demo", "--port", str(port)], env, folder) as process:
        assert process.stdout is not None
        banner = ""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while "password" not in banner and time.monotonic() < deadline:
            banner += process.stdout.readline()
        match = re.search(r"^  password\s+(\S+)$", banner, re.MULTILINE)
        assert match, f"no password in the demo banner:\n{banner}"
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process)
        log = banner.splitlines(keepends=True)
        # Keep reading: a full pipe would block the server mid-request.
        drain = threading.Thread(target=log.extend, args=(process.stdout,), daemon=True)
        drain.start()
        yield Server(base_url, match[1], folder, log)
        # Stop it here, before `running` does, so the drain has read to the end of the pipe.
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        drain.join(timeout=5)


@contextmanager
def chromium() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        # Debian's Chromium, so Playwright never looks for a browser of its own to download.
        yield playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class Watch:
    """What a page did that staff would see as broken, or that leaves the app's own origin."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.location['url']}: {message.text}")

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme != "data" and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"other origin: {request.method} {request.url}")

    def _failed(self, request: Request) -> None:
        # The browser itself cancels what a page still loads when it is left (the favicon),
        # and a link's navigation that turns into a download: nothing staff see as broken.
        # Refusals and broken connections carry their own errors.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed request: {request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )


def screenshot(page: Page, name: str) -> None:
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True, animations="disabled")


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/admin/")
    expect(page.locator(".staff-card"), f"signed in as {email}").to_be_attached()
