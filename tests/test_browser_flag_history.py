"""A flag's on/off in the list, its history and a restore in Chromium, at desktop and phone
sizes: a list switch asks first and turns the environment over; the flag's page lists the
changes; "Restore this version" shows what it would change before it is confirmed.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/: flag-list-switches-*.png, flag-list-switch-asks-*.png, flag-history-*.png
and flag-restore-*.png.
"""

from __future__ import annotations

import re

# First: importing the browser tests skips this module too when Chromium is missing.
from tests.test_browser import (
    Server,
    browser,  # noqa: F401 - a fixture
    screenshot,
    server,  # noqa: F401 - a fixture
    tab,
)

from playwright.sync_api import Browser, expect  # isort: skip

from tests.browser_helpers import ARTIFACTS  # isort: skip

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
FLAG = "new-checkout-flow"


def test_list_switches_history_and_restore_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        listing = f"{server.base_url}/admin/feature-flags/list?search={FLAG}"
        page.goto(listing)
        row = page.locator("tr", has_text=FLAG)
        development = row.locator("button[data-environment='development']")
        screenshot(page, f"flag-list-switches-{size}")
        for turn in range(2):
            was = development.get_attribute("aria-checked")
            development.click()
            dialog = page.locator("#modal-row-confirm")
            expect(dialog).to_be_visible()
            expect(dialog.locator("[data-confirm-question]")).to_contain_text("in Development")
            if turn == 0:
                screenshot(page, f"flag-list-switch-asks-{size}")
            dialog.locator("[data-confirm-yes]").click()
            page.wait_for_url(re.compile(r"/admin/feature-flags/list"))
            development = page.locator("tr", has_text=FLAG).locator(
                "button[data-environment='development']"
            )
            expect(development).not_to_have_attribute("aria-checked", was or "")
        list_overflow = page.evaluate(OVERFLOW)

        page.locator("tr", has_text=FLAG).locator("a[href*='/details/']").first.click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
        versions = page.locator("#history [data-version]")
        expect(versions.first).to_contain_text("Development")
        page.locator("#history").scroll_into_view_if_needed()
        history_overflow = page.evaluate(OVERFLOW)
        # The panel itself: on a phone the whole page is many screens long.
        page.locator("#history").screenshot(
            path=ARTIFACTS / f"flag-history-{size}.png", animations="disabled"
        )

        page.locator("#history [data-restore]").first.click()
        expect(page.locator("#restore-changes")).to_be_visible()
        expect(page.locator("[data-change='Enabled']")).to_be_visible()
        restore_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-restore-{size}")
        page.locator("#restore-confirm button[type='submit']").click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
        expect(page.locator("#history [data-history-said]").first).to_contain_text("Restored")

        assert list_overflow <= 0, f"the list scrolls sideways ({size})"
        assert history_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert restore_overflow <= 0, f"the restore's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
