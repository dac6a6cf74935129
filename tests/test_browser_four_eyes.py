"""Four eyes in Chromium: one admin asks for a 900.00 USD adjustment and sees it pending; a
second approves it from the Approvals screen; the balance changes once.

Reuses tests/test_browser.py's demo server and browser (one of each for this module).
Screenshots land in test-artifacts/four-eyes-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tests.browser_helpers import TIMEOUT_MS, Watch
from tests.browser_helpers import sign_in as sign_in_as

# First: importing the browser tests skips this module too when Chromium is missing.
from tests.test_browser import (
    UUID_PATTERN,
    Server,
    browser,  # noqa: F401 - a fixture
    screenshot,
    server,  # noqa: F401 - a fixture
    tab,
)

from playwright.sync_api import Browser, Page, expect  # isort: skip

CHECKER = "checker@browser.test"
PASSWORD = "approve-it-carefully-2026"
WALLET_PAGE = re.compile(rf"/admin/wallets/details/({UUID_PATTERN})$")
REQUEST_PAGE = re.compile(rf"/admin/approval-requests/details/{UUID_PATTERN}$")
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def balance_and_adjustments(demo: Server, wallet_id: str) -> tuple[Decimal, int]:
    [(balance,)] = demo.rows("SELECT balance FROM wallets WHERE id = ?", wallet_id.replace("-", ""))
    [(made,)] = demo.rows(
        "SELECT count(*) FROM wallet_transactions WHERE wallet_id = ? AND type = 'adjustment'",
        wallet_id.replace("-", ""),
    )
    # SQLite keeps money in cents (models.base.FixedPoint).
    return Decimal(int(balance)).scaleb(-2), made


def ask_for_an_adjustment(page: Page, demo: Server) -> str:
    """From an active USD wallet's page, ask for 900.00 USD; the wallet's id."""
    page.goto(f"{demo.base_url}/admin/wallets/list?status=active&currency=USD")
    page.locator("table tbody tr").first.locator("a[href*='/wallets/details/']").first.click()
    page.wait_for_url(WALLET_PAGE)
    wallet_id = WALLET_PAGE.search(page.url)[1]  # type: ignore[index]
    page.locator(".staff-record-actions").get_by_role("link", name="Adjust balance").click()
    expect(page.locator("[data-four-eyes]"), "the form says large amounts wait").to_be_visible()
    page.get_by_label("Credit: add to the balance").check()
    page.get_by_label("Amount").fill("900.00")
    page.get_by_label("Reason").fill("Goodwill after the card outage, ticket TCK-OUTAGE")
    page.get_by_role("button", name="Adjust balance").click()
    page.wait_for_url(REQUEST_PAGE)
    return wallet_id


def test_a_large_adjustment_waits_for_a_second_admin_and_moves_money_once(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    server.create_staff(CHECKER, "admin", PASSWORD)
    maker, maker_watch = tab(browser, server, 1280, 900)
    wallet_id = ask_for_an_adjustment(maker, server)
    before = balance_and_adjustments(server, wallet_id)

    expect(maker.locator(".admin-toast"), "the maker is told it waits").to_contain_text(
        "sent for approval"
    )
    expect(maker.locator(".badge", has_text="pending").first).to_be_visible()
    expect(maker.locator(".staff-record-actions")).not_to_contain_text("Approve")
    screenshot(maker, "four-eyes-pending-desktop")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    checker = context.new_page()
    checker_watch = Watch(server.base_url)
    checker_watch.attach(checker)
    sign_in_as(checker, server.base_url, CHECKER, PASSWORD)
    approvals = checker.locator("a.nav-link", has_text="Approvals")
    [(waiting,)] = server.rows("SELECT count(*) FROM approval_requests WHERE status = 'pending'")
    expect(approvals.locator("[data-menu-badge]"), "the sidebar counts it").to_have_text(
        str(waiting)
    )
    approvals.click()
    checker.locator("table tbody tr").first.locator(
        "a[href*='/approval-requests/details/']"
    ).first.click()
    checker.wait_for_url(REQUEST_PAGE)
    request_page = checker.url
    expect(checker.locator("body")).to_contain_text("balance")
    expect(checker.locator("body")).to_contain_text("→")
    screenshot(checker, "four-eyes-request-desktop")
    checker.locator(".staff-record-actions").get_by_role("link", name="Approve").click()
    checker.get_by_label("Note").fill("Checked against the outage list")
    checker.get_by_role("button", name="Approve").click()
    expect(checker.locator(".admin-toast"), "approving runs the change").to_contain_text(
        "Made TXN-"
    )
    screenshot(checker, "four-eyes-approved-desktop")

    after = balance_and_adjustments(server, wallet_id)
    assert after == (before[0] + Decimal("900.00"), before[1] + 1), "the money moved once"
    checker.goto(request_page)
    expect(checker.locator(".badge", has_text="executed").first).to_be_visible()
    expect(checker.locator(".staff-record-actions")).not_to_contain_text("Approve")
    assert balance_and_adjustments(server, wallet_id) == after
    assert not maker_watch.problems, "\n".join(maker_watch.problems)
    assert not checker_watch.problems, "\n".join(checker_watch.problems)
    maker.context.close()
    context.close()


def test_the_approvals_screen_fits_a_phone(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 390, 844)
    ask_for_an_adjustment(page, server)

    assert page.evaluate(OVERFLOW) <= 0, "the request's page scrolls sideways on a phone"
    screenshot(page, "four-eyes-request-phone")
    page.goto(f"{server.base_url}/admin/approval-requests/list")
    expect(page.locator("table tbody tr").first).to_be_visible()
    screenshot(page, "four-eyes-list-phone")
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()
