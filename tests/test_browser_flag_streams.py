"""OpenFeature's own OFREP web provider, written by others, on a page of another origin, hears
of flag changes over our event stream and never polls: on PostgreSQL with two workers, a
change reaches it within a second, and again after its stream is cut and reconnects.

The page imports the npm registry's packages (tests/browser_assets/openfeature, fetched by
scripts/vendor_openfeature_web.sh) through an import map, from a server on another origin
than the app's; the app answers CORS for that origin only (FLAGS_CORS_ORIGINS). The browser
reaches the app through a TCP proxy, so the test can cut its connections.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from audit import trail
from core.database import Database
from core.settings import Settings
from flags.client_keys import create_key
from tests.browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.databases import TEST_SECRET_KEY
from tests.flags.test_refresh import add_flag, set_enabled
from tests.tcp_proxy import TcpProxy
from tests.test_processes import free_port, running, wait_until_up

ASSETS = Path(__file__).parent / "browser_assets" / "openfeature"
FLAG = "web-checkout"
WITHIN_S = 1.0
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>OFREP web provider</title>
<script type="importmap">
{"imports": {
  "@openfeature/core": "./core.js",
  "@openfeature/web-sdk": "./web-sdk.js",
  "@openfeature/ofrep-core": "./ofrep-core.js",
  "@openfeature/ofrep-web-provider": "./ofrep-web-provider.js"
}}
</script>
<body>
<pre id="out">starting</pre>
<script type="module">
// Counts the provider's requests and its streams' openings; changes nothing they do.
window.requests = [];
const nativeFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  window.requests.push(String(input instanceof Request ? input.url : input));
  return nativeFetch(input, init);
};
window.opens = 0;
const NativeEventSource = window.EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(url, options) {
    super(url, options);
    this.addEventListener("open", () => { window.opens += 1; });
  }
};
const { OpenFeature, ProviderEvents } = await import("@openfeature/web-sdk");
const { OFREPWebProvider } = await import("@openfeature/ofrep-web-provider");
const asked = new URLSearchParams(location.search);
window.changes = 0;
OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, () => { window.changes += 1; });
await OpenFeature.setContext({ targetingKey: "web-user-1", platform: "web" });
await OpenFeature.setProviderAndWait(new OFREPWebProvider({
  baseUrl: asked.get("app"),
  headers: [["X-API-Key", asked.get("key")]],
}));
const client = OpenFeature.getClient();
window.read = () => client.getBooleanValue(asked.get("flag"), false);
const show = () => {
  document.getElementById("out").textContent =
    `${asked.get("flag")} = ${window.read()}\\nchanges heard: ${window.changes}\\n` +
    `streams opened: ${window.opens}`;
};
OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, show);
show();
window.ready = true;
</script>
"""


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the issue's promise is for PostgreSQL with two workers")


@pytest.fixture
def page_origin(tmp_path: Path) -> Iterator[str]:
    """The test page and the vendored modules, served from their own origin."""
    folder = tmp_path / "page"
    shutil.copytree(ASSETS, folder)
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def app_server(
    postgres_only: None,
    settings: Settings,
    clean_database: Database,
    page_origin: str,
    tmp_path: Path,
) -> Iterator[str]:
    port = free_port()
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "FLAGS_CORS_ORIGINS": page_origin,
    }
    with running(["serve", "--port", str(port), "--workers", "2"], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base


@pytest.fixture
async def proxy(app_server: str) -> AsyncIterator[TcpProxy]:
    port = int(app_server.rsplit(":", 1)[1])
    proxy = TcpProxy(target_port=port)
    await proxy.start()
    yield proxy
    await proxy.close()


async def until(page: Any, condition: str, within_s: float) -> float:
    """Seconds until `condition` (JavaScript) holds on the page."""
    began = time.monotonic()
    await page.wait_for_function(condition, timeout=within_s * 1000)
    return time.monotonic() - began


async def test_the_openfeature_web_provider_hears_changes_over_the_stream(
    clean_database: Database, page_origin: str, proxy: TcpProxy
) -> None:
    await add_flag(clean_database, FLAG, platforms=[])
    async with clean_database.session() as db, db.begin():
        key = await create_key(db, "web-shop", trail.SYSTEM)
    await asyncio.sleep(1.5)  # both workers load the flag and the key
    app = f"http://127.0.0.1:{proxy.port}"
    url = f"{page_origin}/index.html?app={app}&key={key}&flag={FLAG}"
    ARTIFACTS.mkdir(exist_ok=True)
    # Imported here: tests.browser_helpers has skipped this module if playwright is missing.
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        await until(page, "window.ready === true && window.opens === 1", 15)
        first = await page.evaluate("window.read()")

        await set_enabled(clean_database, FLAG, False)
        heard = await until(page, "window.changes === 1", 10)
        after_change = await page.evaluate("window.read()")

        await proxy.cut()
        await asyncio.sleep(0.5)
        await proxy.restore()
        await until(page, "window.opens === 2", 15)
        await set_enabled(clean_database, FLAG, True)
        heard_again = await until(page, "window.changes === 2", 10)
        after_reconnect = await page.evaluate("window.read()")

        await page.screenshot(path=str(ARTIFACTS / "ofrep-web-provider.png"))
        requests = await page.evaluate("window.requests")
        await browser.close()

    assert errors == []
    assert first is True
    assert after_change is False
    assert after_reconnect is True
    assert heard < WITHIN_S, f"the provider heard of the change after {heard:.2f} s"
    assert heard_again < WITHIN_S, f"after the reconnect it took {heard_again:.2f} s"
    # Every request fetched the bulk evaluation (at start, after each event); none polled.
    bulk = [r for r in requests if r.startswith(f"{app}/ofrep/v1/evaluate/flags")]
    assert len(bulk) == len(requests), json.dumps(requests)
    assert 3 <= len(bulk) <= 5, json.dumps(requests)
