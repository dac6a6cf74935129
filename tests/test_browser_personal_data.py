"""Personal data in Chromium: a role without `pii:view` (operations) reads customers masked on
the list and the customer page, at desktop and phone widths; the Roles screen offers the
permission as its own row. Screenshots: test-artifacts/personal-data-*.png.

Reuses tests/test_browser.py's demo server and browser (one of each for this module).
"""

from __future__ import annotations

import re

# First: importing the browser tests skips this module too when Chromium is missing.
from tests.browser_helpers import Watch, sign_in
from tests.test_browser import (
    Server,
    browser,  # noqa: F401 - a fixture
    screenshot,
    server,  # noqa: F401 - a fixture
    tab,
)

from playwright.sync_api import Browser, expect  # isort: skip

PASSWORD = "a long enough passphrase"
MASKED_EMAIL = re.compile(r"^\S•••@\S+$")
MASKED_PHONE = re.compile(r"^(\+\d+ )?••• ••• \d{4}$|^—$")
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def test_a_role_without_personal_data_reads_customers_masked(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    server.create_staff("operations@personal.test", "operations", PASSWORD)
    for size, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        watch = Watch(server.base_url)
        watch.attach(page)
        sign_in(page, server.base_url, "operations@personal.test", PASSWORD)
        page.goto(f"{server.base_url}/admin/users/list")
        emails = page.locator("td[data-label='Email']")
        expect(emails.first).to_be_visible()
        shown = emails.all_inner_texts()
        assert shown, "the list shows customers"
        assert all(MASKED_EMAIL.match(text.strip()) for text in shown), shown[:3]
        screenshot(page, f"personal-data-list-{size}")

        page.locator("tbody a[href*='/admin/customers/']").first.click()
        expect(page.locator("#customer-title")).to_be_visible()
        email, phone = (
            page.locator("#customer-profile dd").nth(index).inner_text().strip() for index in (0, 1)
        )
        assert MASKED_EMAIL.match(email), email
        assert MASKED_PHONE.match(phone), phone
        screenshot(page, f"personal-data-customer-{size}")
        assert not watch.problems, "\n".join(watch.problems)
        context.close()


def test_the_roles_screen_offers_personal_data_as_a_row(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 1280, 900)
    page.goto(f"{server.base_url}/admin/roles/list")
    support = page.locator("tbody tr").filter(has=page.get_by_text("support", exact=True))
    support.locator("a[href*='/roles/edit/']").first.click()
    row = page.locator("tr[data-resource='pii']")
    expect(row).to_contain_text("Personal data")
    expect(row.locator("input[value='pii:view']")).to_be_checked()
    row.scroll_into_view_if_needed()
    screenshot(page, "personal-data-role-grid")
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()
