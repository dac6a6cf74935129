"""Layout in Chromium: a list fits a 1280 px screen and becomes cards on a 390 px phone, the
sidebar opens the current section, and the phone's menu opens from its toggler.

Reuses tests/test_browser.py's demo server and browser (one of each for this module).
"""

from __future__ import annotations

# First: importing the browser tests skips this module too when Chromium is missing.
from tests.test_browser import (
    Server,
    browser,  # noqa: F401 - a fixture
    server,  # noqa: F401 - a fixture
    tab,
)

from playwright.sync_api import Browser, expect  # isort: skip

USERS = "/admin/users/list"
KEY_COLUMNS = [
    "Email",
    "First name",
    "Last name",
    "Status",
    "KYC status",
    "Country",
    "Last active",
    "Created",
]
OVERFLOW = """() => ({
    page: document.documentElement.scrollWidth,
    table: document.querySelector('.table-responsive').scrollWidth
        - document.querySelector('.table-responsive').clientWidth,
})"""
PLACEHOLDER_FITS = """() => {
    const input = document.querySelector('#search-input');
    const style = getComputedStyle(input);
    const context = document.createElement('canvas').getContext('2d');
    context.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return context.measureText(input.placeholder).width <= room;
}"""
CARD = """row => {
    const cells = [...row.querySelectorAll('td')];
    const labelled = cells.filter(cell => cell.dataset.label && !cell.matches('.staff-row-title'));
    const box = element => element.getBoundingClientRect();
    return {
        display: getComputedStyle(row).display,
        labels: labelled.map(cell => getComputedStyle(cell, '::before').content),
        expected: labelled.map(cell => JSON.stringify(cell.dataset.label)),
        boxSameLine: Math.abs(box(row.querySelector('.select-box')).top
            - box(row.querySelector('.staff-row-title')).top) < 16,
        widest: Math.max(...cells.map(cell => box(cell).right)),
    };
}"""


def test_the_users_list_fits_1280_px_with_its_key_columns_in_view(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 1280, 800)
    try:
        page.goto(f"{server.base_url}{USERS}")
        headers = page.locator(".staff-table thead th")
        expect(headers.filter(has_text="Created")).to_be_in_viewport()
        for label in KEY_COLUMNS:
            expect(headers.filter(has_text=label).first).to_be_visible()
        assert page.evaluate(OVERFLOW) == {"page": 1280, "table": 0}
        created = headers.filter(has_text="Created").bounding_box()
        assert created is not None
        assert created["x"] + created["width"] <= 1280
        assert page.evaluate(PLACEHOLDER_FITS), "the search box shows its whole placeholder"
        # Filters wait in a closed panel; the button opens it.
        expect(page.locator("#list-filters")).to_be_hidden()
        page.locator("#filters-toggle").click()
        expect(page.locator("#list-filters")).to_be_visible()
        # The sidebar has the current section open and the current page marked.
        current = page.locator("#sidebar-menu .dropdown-item.active")
        expect(current).to_have_text("Customers")
        expect(current).to_be_visible()
        page.screenshot(path="test-artifacts/users-list-1280.png")
    finally:
        page.context.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_a_list_is_cards_on_a_390_px_phone(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 390, 844)
    try:
        page.goto(f"{server.base_url}/admin/support-tickets/list")
        expect(page.locator(".staff-table tbody tr").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page.locator(".staff-table thead")).to_be_hidden()
        card = page.locator(".staff-table tbody tr").first.evaluate(CARD)
        assert card["display"] == "grid", "a row is a card"
        assert card["labels"] == card["expected"], "each field carries its column's label"
        assert card["labels"], card
        assert card["boxSameLine"], "the checkbox sits on the card's title line, not in a column"
        assert card["widest"] <= 390
        page.screenshot(path="test-artifacts/tickets-list-390.png", full_page=True)

        # The menu is behind the toggler, open at the current section.
        current = page.locator("#sidebar-menu .dropdown-item.active")
        expect(current).to_be_hidden()
        page.locator(".navbar-toggler").click()
        expect(current).to_be_visible()
        expect(current).to_have_text("Tickets")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.context.close()
    assert not watch.problems, "\n".join(watch.problems)
