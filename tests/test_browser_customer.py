"""The customer page in Chromium: one click from a ticket, and it fits a desktop and a phone.

Reuses tests/test_browser.py's demo server and browser (one of each for this module).
Screenshots land in test-artifacts/customer-desktop.png and customer-phone.png.
"""

from __future__ import annotations

import re

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

CUSTOMER_PAGE = re.compile(rf"/admin/customers/{UUID_PATTERN}$")
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def open_a_customer_from_a_ticket(page: Page, server: Server) -> None:  # noqa: F811
    page.goto(f"{server.base_url}/admin/support-tickets/list")
    first_ticket = page.locator("table tbody tr").first
    first_ticket.locator("a[href*='/support-tickets/details/']").first.click()
    customer = page.locator(".staff-field[data-field='user'] a")
    expect(customer, "the ticket names its customer as a link").to_have_count(1)
    customer.click()
    page.wait_for_url(CUSTOMER_PAGE)


def test_one_click_from_a_ticket_reaches_its_customer(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 1280, 900)

    open_a_customer_from_a_ticket(page, server)

    expect(page.locator("#customer-title")).to_be_visible()
    expect(page.locator("#customer-timeline .staff-event").first).to_be_visible()
    expect(page.locator("#customer-flags")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "the page scrolls sideways at 1280 px"
    screenshot(page, "customer-desktop")
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()


def test_the_customer_page_fits_a_phone(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 390, 844)

    open_a_customer_from_a_ticket(page, server)

    expect(page.locator("#customer-title")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "the page scrolls sideways on a phone"
    screenshot(page, "customer-phone")
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()


def test_a_ticket_opened_from_the_customer_page_shows_in_its_timeline(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 1280, 900)
    open_a_customer_from_a_ticket(page, server)

    page.get_by_role("button", name="Open a ticket").click()
    dialog = page.locator("#new-ticket")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Subject").fill("Asked for a statement by phone")
    screenshot(page, "customer-new-ticket")
    dialog.get_by_role("button", name="Open ticket").click()

    page.wait_for_url(CUSTOMER_PAGE)
    expect(page.locator(".toast, .alert").filter(has_text="Opened TCK-")).to_have_count(1)
    newest = page.locator("#customer-timeline .staff-event").first
    expect(newest).to_contain_text("Asked for a statement by phone")
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()
