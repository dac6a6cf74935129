"""What the browser test modules share: a `demo` server, Chromium, the watch, signing in.

Importing this module skips the importing test module when Chromium at /usr/bin/chromium or
the playwright package is missing, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.databases import in_ci

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
TIMEOUT_MS = 15_000


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


def open_flag(page: Page, base_url: str, key: str) -> None:
    """From the Feature flags list, searched for `key`, to the flag's page, as staff click."""
    page.goto(f"{base_url}/admin/feature-flags/list?search={key}")
    page.locator("tr", has_text=key).locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
