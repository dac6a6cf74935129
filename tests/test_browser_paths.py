"""Every path staff can take, per default role, in Chromium at desktop and phone widths.

Each role signs in through the form, opens every entry of the sidebar as rendered, every list
and the first detail page of each, and checks the links those pages show that are not
actions (of links differing only in an id or a value, a sample: see Walk): the link must
open (no 404, 405, 500) and must be one the role may open (no 403, no redirect to the
sign-in page). One link of each kind of page is also opened in the browser, so console
errors, failed requests and pages wider than the screen are caught on every kind of page.
Exports are checked by status and content type, never opened as a page. A role's failures
are listed together, each with the page that showed the link.

The superadmin pass writes full-page screenshots of every list and detail page to
test-artifacts/<viewport>/. A second test filters, searches and exports the transactions.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

# First: the helpers skip this module (or fail it with CI=true) when Chromium is missing.
from tests.browser_helpers import (
    ARTIFACTS,
    TIMEOUT_MS,
    Watch,
    chromium,
    screenshot,
    sign_in,
)
from tests.test_processes import DEMO_LOGIN, Server, demo_server

from playwright.sync_api import (  # isort: skip
    APIRequestContext,
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
)
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.long

ROLES = tuple(import_module("migrations.versions.0002_default_roles").DEFAULT_ROLES)
VIEWPORTS = {
    "1440x900": ViewportSize(width=1440, height=900),
    "390x844": ViewportSize(width=390, height=844),
}
EVERY_SCREEN_ROLE = "superadmin"
"""Its walk checks the most links and writes the screenshots."""
SAMPLE_PER_PAGE = 3
PASSWORD = "Every-path-works-42"
SIGN_IN_PATH = "/admin/login"
LIST_PATH = re.compile(r"^/admin/(?P<slug>[^/]+)/list$")
EXPORT_PATH = re.compile(r"/export/(?P<format>csv|json)$")
EXPORT_TYPES = {"csv": "text/csv", "json": "application/json"}
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d+(?=/|$)")
MAX_REDIRECTS = 5
SERVER_ERROR = re.compile(r"^[\w.]+(Error|Exception)\b")
"""The last line of a traceback in the server's log: what a 500 was."""
ANCHORS = """anchors => anchors.map(anchor => ({
    url: anchor.href,
    written: anchor.getAttribute("href"),
    action: anchor.hasAttribute("data-url")
        || anchor.getAttribute("data-bs-toggle") === "modal",
}))"""
NOT_FOLLOWED = ("#", "javascript:", "mailto:", "tel:")
WIDER_THAN_THE_SCREEN = (
    "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
)


@dataclass
class Anchor:
    url: str
    written: str
    action: bool


def kind_of_page(url: str) -> str:
    """The page a URL opens with its ids replaced: one of each is opened in the browser."""
    return ID.sub("{id}", urlsplit(url).path)


def shape(url: str) -> str:
    """A link's kind of page and the names (not values) of its query parameters."""
    names = parse_qs(urlsplit(url).query, keep_blank_values=True)
    return f"{kind_of_page(url)}?{'&'.join(sorted(names))}"


@dataclass
class Walk:
    """One role's walk through the screens; failures collected, reported once at the end.

    Links of one shape on one page (a list's rows, one filter's values, the numbered pages)
    differ only in an id or a value. The role that sees every screen checks the first
    SAMPLE_PER_PAGE of each shape on every page it opens, so a broken row or value is found
    whoever may see it. Permissions go by table and route, never by row or value, so the
    other roles check one link of each shape. That keeps seven roles at two widths inside
    the time a test run can spend.
    """

    server: Server
    role: str
    every_screen: bool
    failures: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    sampled: Counter[tuple[str, str]] = field(default_factory=Counter)
    followed: dict[str, str] = field(default_factory=dict)
    """Links that answered well and are pages, with the page that showed them."""

    def local(self, url: str) -> str:
        return url.removeprefix(self.server.base_url)

    def fail(self, where: str, problem: str) -> None:
        self.failures.append(f"{self.local(where)}: {problem}")

    def through(self, context: BrowserContext, viewport: str, *, first: bool) -> None:
        """Sign in, open the sidebar's entries, lists and first details; on the first
        width also one page of each kind the links lead to."""
        page = context.new_page()
        watch = Watch(self.server.base_url)
        watch.attach(page)
        sign_in(page, self.server.base_url, f"{self.role}@browser.test", PASSWORD)
        self.report(watch, viewport, f"{self.server.base_url}{SIGN_IN_PATH}")
        opened: set[str] = set()
        for entry in dict.fromkeys(a.url for a in self.anchors(page, "aside a") if followable(a)):
            self.open(page, watch, viewport, entry, context.request)
            opened.add(kind_of_page(entry))
            listed = LIST_PATH.match(urlsplit(entry).path)
            if listed is None or not page.url.startswith(entry):
                continue
            name = f"{viewport}/{listed['slug']}"
            if self.every_screen:
                screenshot(page, f"{name}-list")
            first_row = page.eval_on_selector_all(
                ".card-table tbody tr:first-child .staff-row-links a[title='View']",
                "links => links.map(link => link.href)",
            )
            if not first_row:
                self.fail(entry, f"[{viewport}] the list shows no row to open")
                continue
            self.open(page, watch, viewport, first_row[0], context.request)
            opened.add(kind_of_page(first_row[0]))
            if self.every_screen:
                screenshot(page, f"{name}-detail")
        if first:
            for url, found_on in self.followed.items():
                if (kind := kind_of_page(url)) not in opened:
                    opened.add(kind)
                    self.open(page, watch, viewport, url, found_on=found_on)
        page.close()

    def open(
        self,
        page: Page,
        watch: Watch,
        viewport: str,
        url: str,
        request: APIRequestContext | None = None,
        found_on: str | None = None,
    ) -> None:
        """Open a page in the browser; with `request`, check every link it shows."""
        where = f"[{viewport}] " + (f"link on {self.local(found_on)}" if found_on else "opened")
        response = page.goto(url)
        if response is None or response.status != 200:
            self.fail(url, f"{where}: HTTP {response.status if response else 'no response'}")
        elif urlsplit(page.url).path == SIGN_IN_PATH:
            self.fail(url, f"{where}: sent to the sign-in page")
        elif page.evaluate(WIDER_THAN_THE_SCREEN):
            self.fail(url, f"{where}: the page is wider than the screen (scrolls sideways)")
        self.report(watch, viewport, url)
        if request is None:
            return
        for anchor in self.anchors(page, "a[href]"):
            if anchor.written == "":
                self.fail(url, "a link with an empty href (its label should be plain text)")
            elif followable(anchor):
                self.check(request, anchor.url.split("#")[0], found_on=url)

    def report(self, watch: Watch, viewport: str, url: str) -> None:
        for problem in dict.fromkeys(watch.problems):
            self.fail(url, f"[{viewport}] {problem}")
        watch.problems.clear()

    def anchors(self, page: Page, selector: str) -> list[Anchor]:
        return [Anchor(**found) for found in page.eval_on_selector_all(selector, ANCHORS)]

    def check(self, request: APIRequestContext, url: str, found_on: str) -> None:
        sample = (found_on if self.every_screen else "", shape(url))
        if url in self.checked or self.sampled[sample] >= (
            SAMPLE_PER_PAGE if self.every_screen else 1
        ):
            return
        self.checked.add(url)
        self.sampled[sample] += 1
        if not url.startswith(f"{self.server.base_url}/"):
            self.fail(found_on, f"link {url} leaves the app")
            return
        problem = answer_problem(request, url)
        if problem is not None:
            self.fail(found_on, f"link {self.local(url)}: {problem}")
        elif not EXPORT_PATH.search(urlsplit(url).path):
            self.followed.setdefault(url, found_on)


def followable(anchor: Anchor) -> bool:
    """Links to pages: not actions (which POST through JavaScript), not in-page or mail."""
    return not (
        anchor.action
        or not anchor.written
        or anchor.written.startswith(NOT_FOLLOWED)
        or "/action/" in urlsplit(anchor.url).path
    )


def answer_problem(request: APIRequestContext, url: str) -> str | None:
    """What is wrong with what a link answers, one redirect at a time; None when nothing."""
    target = url
    for _ in range(MAX_REDIRECTS):
        try:
            response = request.get(target, max_redirects=0)
        except PlaywrightError as exc:
            return f"no answer: {exc.message.splitlines()[0]}"
        try:
            status = response.status
            if 300 <= status < 400:
                target = urljoin(target, response.headers.get("location", ""))
                if urlsplit(target).path == SIGN_IN_PATH:
                    return f"{status} to the sign-in page: a page this role may not open"
                continue
            if status != 200:
                return f"HTTP {status}"
            export = EXPORT_PATH.search(urlsplit(target).path)
            content_type = response.headers.get("content-type", "")
            if export and not content_type.startswith(EXPORT_TYPES[export["format"]]):
                return f"the {export['format']} export is {content_type!r}"
            return None
        finally:
            response.dispose()
    return f"more than {MAX_REDIRECTS} redirects"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("browser-paths")) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.mark.parametrize("role", ROLES)
def test_every_path_a_role_can_take_works(browser: Browser, server: Server, role: str) -> None:
    server.create_staff(f"{role}@browser.test", role, PASSWORD)
    log_start = len(server.log)
    walk = Walk(server, role, every_screen=role == EVERY_SCREEN_ROLE)
    for viewport, size in VIEWPORTS.items():
        context = browser.new_context(viewport=size)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            walk.through(context, viewport, first=viewport == next(iter(VIEWPORTS)))
        finally:
            context.close()

    assert walk.checked, "the walk checked links"
    if walk.failures:
        raised = dict.fromkeys(
            f"server raised {line.strip()}"
            for line in server.log[log_start:]
            if SERVER_ERROR.match(line)
        )
        pytest.fail(
            f"{role}: {len(walk.failures)} broken paths:\n"
            + "\n".join([*sorted(walk.failures), *raised]),
            pytrace=False,
        )


def listed_count(page: Page) -> int:
    shown = re.search(r"of ([\d,]+) items", page.locator(".card-footer").inner_text())
    assert shown, "the list says how many rows it has"
    return int(shown[1].replace(",", ""))


def export(page: Page, export_type: str) -> str:
    """Click Export, then the type, as staff do; the downloaded file's text."""
    page.get_by_role("link", name="Export", exact=True).click()
    with page.expect_download() as started:
        page.get_by_role("link", name=export_type.upper(), exact=True).click()
    download = started.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(f".{export_type}")
    # A fixed name, so reruns replace the file instead of piling up timestamped copies.
    saved = ARTIFACTS / f"transactions-filtered.{export_type}"
    download.save_as(saved)
    return saved.read_text(encoding="utf-8")


def test_filter_search_and_export_exactly_the_listed_transactions(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(viewport=VIEWPORTS["1440x900"], accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch(server.base_url)
    watch.attach(page)
    try:
        sign_in(page, server.base_url, DEMO_LOGIN, server.password)
        page.goto(f"{server.base_url}/admin/wallet-transactions/list")
        everything = listed_count(page)

        status = page.locator(".mb-3").filter(
            has=page.locator(".fw-bold", has_text=re.compile(r"^\s*Status\s*$"))
        )
        posted = status.get_by_role("link", name="posted", exact=True)
        if not posted.is_visible():
            # Where the filters fold away behind their button, staff open them first.
            page.get_by_role("button", name="Filters").click()
        posted.click()
        page.wait_for_url(re.compile(r"[?&]status=posted"))
        page.fill("#search-input", "Purchase")
        page.click("#search-button")
        page.wait_for_url(re.compile(r"[?&]search=Purchase"))
        assert "status=posted" in page.url, "searching keeps the filter"
        shown = listed_count(page)

        header, *rows = list(csv.reader(export(page, "csv").splitlines()))
        records = json.loads(export(page, "json"))
    finally:
        context.close()

    assert 0 < shown < everything, "the filter and the search narrowed the list"
    assert "currency" in [name.strip().lower() for name in header], header
    assert len(rows) == shown, "the CSV has exactly the rows the list counts"
    assert len(records) == shown, "the JSON has exactly the rows the list counts"
    assert {record["status"] for record in records} == {"posted"}
    references = [row[header.index("Reference")] for row in rows]
    assert references == [record["reference"] for record in records]
    assert not watch.problems, "\n".join(watch.problems)


def test_the_walk_sees_what_staff_would_hit(browser: Browser, server: Server) -> None:
    """The walks above are only worth something if their checks do see broken links."""
    server.create_staff("probe@browser.test", "support", PASSWORD)
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        signed_out = answer_problem(context.request, f"{server.base_url}/admin/users/list")
        sign_in(context.new_page(), server.base_url, "probe@browser.test", PASSWORD)
        answers = {
            path: answer_problem(context.request, f"{server.base_url}{path}")
            for path in (
                "/admin/users/list",
                "/admin/admin-users/list",
                "/admin/no-such-screen/list",
                "/admin/logout",
                "/admin/wallet-transactions/export/csv",
            )
        }
    finally:
        context.close()

    assert signed_out is not None
    assert signed_out.endswith("to the sign-in page: a page this role may not open")
    assert answers == {
        "/admin/users/list": None,
        "/admin/admin-users/list": "HTTP 403",
        "/admin/no-such-screen/list": "HTTP 404",
        "/admin/logout": "HTTP 405",
        "/admin/wallet-transactions/export/csv": "HTTP 403",
    }
    assert not followable(Anchor("http://x/admin/users/list", "#", action=False))
    assert not followable(Anchor("http://x/admin/users/list", "", action=False))
    assert not followable(Anchor("http://x/admin/users/action/suspend", "/x", action=False))
    assert not followable(Anchor("http://x/admin/users/list", "/x", action=True))
    assert followable(Anchor("http://x/admin/users/list", "/admin/users/list", action=False))
