"""Staff work in a real browser: headless Chromium against a `demo` server on embedded SQLite.

Everything the HTML-only tests cannot see runs here: the JavaScript that turns actions into
POSTs, Bootstrap dropdowns and modals, downloads, and the Content-Security-Policy. Every page
must load without console errors, page errors, failed responses or requests to another origin.

Without Chromium at /usr/bin/chromium or the playwright package the module is skipped, except
with CI=true, where that is a failure. Screenshots and the export land in test-artifacts/.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator

import pytest

# First: the helpers skip this module (or fail it with CI=true) when Chromium is missing.
from tests.browser_helpers import (
    ARTIFACTS,
    TIMEOUT_MS,
    Watch,
    chromium,
    screenshot,
)
from tests.browser_helpers import sign_in as sign_in_as
from tests.discovered import SLUGS
from tests.test_processes import DEMO_LOGIN, Server, demo_server

from playwright.sync_api import Browser, Page, expect  # isort: skip

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RECORD_PAGES = {"users": "/admin/customers/"}
"""Tables whose records open on a page of their own (`StaffPage.opens_records_of`)."""


def as_uuid(stored: str) -> str:
    """SQLite keeps ids as 32 hex characters; URLs carry the dashed form."""
    return str(uuid.UUID(stored))


def sign_in(page: Page, base_url: str, password: str) -> None:
    sign_in_as(page, base_url, DEMO_LOGIN, password)
    expect(page.locator(".staff-card"), "signed in as the demo superadmin").to_contain_text(
        "Superadmin"
    )


def tab(browser: Browser, server: Server, width: int, height: int) -> tuple[Page, Watch]:
    """A signed-in tab of its own at this size, watched for anything broken."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch(server.base_url)
    watch.attach(page)
    sign_in(page, server.base_url, server.password)
    return page, watch


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("browser")) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def watch(server: Server) -> Watch:
    return Watch(server.base_url)


@pytest.fixture(scope="module")
def signed_in(browser: Browser, server: Server, watch: Watch) -> Iterator[Page]:
    """One tab signed in as the demo superadmin, shared by the steps below for speed."""
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    watch.attach(tab)
    sign_in(tab, server.base_url, server.password)
    assert not watch.problems, "\n".join(watch.problems)
    yield tab
    context.close()


@pytest.fixture
def page(signed_in: Page, watch: Watch, server: Server) -> Iterator[Page]:
    """The shared tab; anything broken it sees during a step fails that step."""
    watch.problems.clear()
    yield signed_in
    if watch.problems:
        server_log = "".join(server.log[-30:])
        pytest.fail(
            "the browser saw problems:\n"
            + "\n".join(watch.problems)
            + f"\nserver log:\n{server_log}",
            pytrace=False,
        )


def test_sign_in_with_the_login_form(browser: Browser, server: Server) -> None:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch(server.base_url)
        watch.attach(page)
        sign_in(page, server.base_url, server.password)
        expect(page.locator(".staff-card")).to_contain_text("Demo Superadmin")
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()


@pytest.mark.parametrize("slug", SLUGS)
def test_list_and_first_detail_page(page: Page, server: Server, slug: str) -> None:
    opened = page.goto(f"{server.base_url}/admin/{slug}/list")
    assert opened is not None
    assert opened.ok, f"/admin/{slug}/list answered {opened.status}"
    first_row = page.locator("table tbody tr").first
    expect(first_row, f"{slug}: the demo data fills the list").to_be_visible()
    if slug == "users":
        screenshot(page, "users-list")

    record_page = RECORD_PAGES.get(slug, f"/admin/{slug}/details/")
    first_row.locator(f"a[href*='{record_page}']").first.click()

    page.wait_for_url(re.compile(rf"{record_page}{UUID_PATTERN}$"))
    pk = page.url.rsplit("/", 1)[1]
    title = page.locator("h2.page-title")
    expect(title, f"{slug}: the record is named by its label").not_to_be_empty()
    expect(title, f"{slug}: never by its id").not_to_contain_text(pk)
    if slug not in RECORD_PAGES:
        expect(page.locator(".staff-record-group").first).to_be_visible()


def test_reply_on_a_ticket(page: Page, server: Server) -> None:
    [(ticket_id,)] = server.rows(
        "SELECT id FROM support_tickets WHERE status = 'open' ORDER BY reference LIMIT 1"
    )
    body = f"Browser test reply {uuid.uuid4().hex[:8]}: we have refunded the fee."
    page.goto(f"{server.base_url}/admin/support-tickets/details/{as_uuid(ticket_id)}")
    form = page.locator("form#ticket-reply")
    form.locator("textarea[name=body]").fill(body)
    expect(form.locator("input[name=internal]")).not_to_be_checked()

    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        form.get_by_role("button", name="Send").click()

    assert posted.value.status == 303, f"the reply POST answered {posted.value.status}"
    message = page.locator("#ticket-thread .staff-message", has_text=body)
    expect(message, "the reply shows in the thread after the reload").to_be_visible()
    expect(message).to_contain_text("Demo Superadmin")
    expect(message.locator(".badge"), "a customer reply is not an internal note").to_have_count(0)
    screenshot(page, "ticket-after-reply")
    stored = server.rows(
        "SELECT author_type, author_admin_id, is_internal FROM ticket_messages "
        "WHERE ticket_id = ? AND body = ?",
        ticket_id,
        body,
    )
    assert stored == [("agent", server.admin_id(), 0)]


def test_disable_a_feature_flag_through_the_confirmation(page: Page, server: Server) -> None:
    [(flag_id, key)] = server.rows(
        "SELECT id, key FROM feature_flags WHERE enabled = 1 ORDER BY key LIMIT 1"
    )
    page.goto(f"{server.base_url}/admin/feature-flags/details/{as_uuid(flag_id)}")

    # The kill switch in the page's action bar; each environment's card has its own too.
    actions = page.locator(".staff-record-actions")
    actions.get_by_role("link", name="Disable (kill switch)").click()
    modal = page.locator("#modal-confirmation-disable")
    expect(modal, "the kill switch asks first").to_be_visible()
    expect(modal, "the confirmation names the flag").to_contain_text(
        f"Turn {key} off for every user now?"
    )
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        modal.get_by_role("link", name="Yes").click()

    assert posted.value.status == 303, f"the disable POST answered {posted.value.status}"
    assert "/admin/feature-flags/action/disable" in posted.value.url
    page.wait_for_url(f"{server.base_url}/admin/feature-flags/details/{as_uuid(flag_id)}")
    expect(page.locator(".toast"), "the action reports success").to_contain_text(f"done for {key}")
    enabled = page.locator("[data-field=enabled]")
    expect(enabled.locator("i.fa-times"), f"{key} shows as off").to_be_visible()
    expect(actions.get_by_role("link", name="Enable"), "now it can be turned on").to_be_visible()
    expect(actions.get_by_text("Disable (kill switch)"), "and no longer off").to_have_count(0)
    screenshot(page, "flag-after-disable")
    assert server.rows("SELECT enabled FROM feature_flags WHERE id = ?", flag_id) == [(0,)]


def test_adjust_a_wallet_balance_through_its_form(page: Page, server: Server) -> None:
    [(wallet_id, cents)] = server.rows(
        "SELECT id, balance FROM wallets WHERE status = 'active' ORDER BY id LIMIT 1"
    )
    page.goto(f"{server.base_url}/admin/wallets/details/{as_uuid(wallet_id)}")

    page.get_by_role("link", name="Adjust balance").click()
    page.wait_for_url(f"{server.base_url}/admin/wallets/action/adjust")
    page.get_by_label("Credit: add to the balance").check()
    page.fill("input[name=amount]", "12.50")
    page.fill("textarea[name=reason]", "Goodwill credit after the outage")
    screenshot(page, "wallet-adjust-form")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Adjust balance").click()

    assert posted.value.status == 303, f"the adjustment POST answered {posted.value.status}"
    expect(page.locator(".toast"), "the action names what it made").to_contain_text("Made TXN-")
    screenshot(page, "wallet-after-adjust")
    assert server.rows("SELECT balance FROM wallets WHERE id = ?", wallet_id) == [(cents + 1250,)]
    assert server.rows(
        "SELECT type, amount, description FROM wallet_transactions"
        " WHERE wallet_id = ? AND type = 'adjustment' AND description = ?",
        wallet_id,
        "Goodwill credit after the outage",
    ) == [("adjustment", 1250, "Goodwill credit after the outage")]


def test_bulk_assign_tickets_to_me(page: Page, server: Server) -> None:
    me = server.admin_id()
    page.goto(f"{server.base_url}/admin/support-tickets/list")
    # Two rows that are not ours yet, so the assertion below proves the action did it.
    picked: list[str] = []
    for row in page.locator("table tbody tr").all():
        pk = row.locator("input[type=hidden]").first.get_attribute("value")
        assert pk is not None
        [(assignee, status)] = server.rows(
            "SELECT assignee_id, status FROM support_tickets WHERE id = ?", uuid.UUID(pk).hex
        )
        if assignee != me and status not in ("resolved", "closed"):
            row.locator("input.select-box").check()
            picked.append(pk)
        if len(picked) == 2:
            break
    assert len(picked) == 2, "the first page has two open tickets assigned to someone else"

    page.get_by_role("button", name="Actions").click()
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.locator("#action-custom-assign-to-me").click()

    assert posted.value.status == 303, f"the action POST answered {posted.value.status}"
    page.wait_for_url(f"{server.base_url}/admin/support-tickets/list")
    expect(page.locator(".toast"), "the action reports success").to_contain_text("done for 2")
    for pk in picked:
        assert server.rows(
            "SELECT assignee_id FROM support_tickets WHERE id = ?", uuid.UUID(pk).hex
        ) == [(me,)], f"ticket {pk} is assigned to the signed-in admin"


def test_export_a_list_as_csv(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/admin/merchants/list")
    shown = re.search(r"of ([\d,]+) items", page.locator("body").inner_text())
    assert shown, "the list says how many rows it has"

    page.get_by_role("link", name="Export").click()
    with page.expect_download() as started:
        page.get_by_role("link", name="CSV", exact=True).click()

    download = started.value
    assert download.failure() is None, download.failure()
    assert re.fullmatch(r"merchants\S*\.csv", download.suggested_filename)
    # A fixed name, so reruns replace the file instead of piling up timestamped copies.
    saved = ARTIFACTS / "merchants-export.csv"
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert "Name" in header, header
    assert rows, "the export has data rows"
    assert len(rows) == int(shown[1].replace(",", "")), "the export has every row the list counts"
    assert all(len(row) == len(header) for row in rows)


def test_the_watch_sees_console_errors_page_errors_and_other_origins(
    browser: Browser, server: Server
) -> None:
    """The no-problems checks above are only worth something if the watch does see problems.

    On a blank page: the app's Content-Security-Policy would stop the foreign request first.
    """
    page = browser.new_page()
    watch = Watch(server.base_url)
    watch.attach(page)
    try:
        with page.expect_event("pageerror"):
            page.set_content(
                '<img src="https://example.com/probe.png">'
                "<script>console.error('probe'); throw new Error('probe');</script>"
            )
    finally:
        page.close()

    kinds = {problem.split(":", 1)[0] for problem in watch.problems}
    assert kinds >= {"other origin", "console error", "page error"}, watch.problems


CANVASES_DRAWN = """() => {
    const canvases = [...document.querySelectorAll("canvas[data-chart]")];
    const drawn = (canvas) => {
        const { width, height } = canvas;
        if (!canvas.chart || !width || !height) return false;
        const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
        for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha]) return true;
        return false;
    };
    return canvases.length > 0 && canvases.every(drawn);
}"""


def kpi_values(page: Page) -> dict[str, str]:
    cards = page.locator("[data-kpi]")
    return {
        cards.nth(n).get_attribute("data-kpi") or "": cards.nth(n)
        .locator(".kpi-value")
        .inner_text()
        for n in range(cards.count())
    }


def test_dashboard_draws_every_chart_and_follows_the_date_range(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/admin/")
    expect(page.locator("h2.page-title")).to_have_text("Dashboard")
    page.wait_for_function(CANVASES_DRAWN)
    assert page.locator("canvas[data-chart]").count() == 4  # activity, money, funnel, ROAS
    thirty = kpi_values(page)
    assert set(thirty) == {
        "signups",
        "active_users",
        "transactions",
        "volume",
        "revenue",
        "average_ticket",
    }
    assert all(value and value != "-" for value in thirty.values()), thirty
    expect(page.locator("#cohort-table tbody tr").first).to_contain_text("%")
    expect(page.locator("#funnel-table tbody tr")).to_have_count(4)
    screenshot(page, "dashboard")

    page.get_by_role("link", name="7 days").click()
    page.wait_for_url(re.compile(r"/admin/\?days=7"))
    page.wait_for_function(CANVASES_DRAWN)
    expect(page.locator("#range-label")).to_contain_text("7 days")
    seven = kpi_values(page)
    assert seven["signups"] != thirty["signups"]
    assert seven["transactions"] != thirty["transactions"]

    picker = page.locator("#range-picker")
    picker.locator("input[name=from]").fill("2026-01-05")
    picker.locator("input[name=to]").fill("2026-01-11")
    picker.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"from=2026-01-05&to=2026-01-11"))
    expect(page.locator("#range-label")).to_contain_text("5 Jan 2026 to 11 Jan 2026")
    page.wait_for_function(CANVASES_DRAWN)


@pytest.mark.parametrize("path", ["users", "campaigns", "support", "merchants"])
def test_insight_pages_draw_their_charts(page: Page, server: Server, path: str) -> None:
    opened = page.goto(f"{server.base_url}/admin/dashboard/{path}?days=90")
    assert opened is not None
    assert opened.ok
    page.wait_for_function(CANVASES_DRAWN)
    assert all(value != "" for value in kpi_values(page).values())
    screenshot(page, f"insights-{path}")
