"""A flag's lifecycle in Chromium: the list's Stale filter shows each stale demo flag with
why, and a flag archived from its page (confirmed) shows as archived, leaves the list and is
unarchived again. At desktop and phone sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/flag-stale-*.png and flag-archived-*.png.
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

from playwright.sync_api import Browser, Page, expect  # isort: skip

from tests.browser_helpers import open_flag  # isort: skip

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
STALE = "dark-mode"
"""A demo release made 210 days ago: past its 40-day lifetime."""
ARCHIVED = {"desktop": "referral-program", "phone": "cashback-boost-weekend"}
REQUIRED = "new-checkout-flow"
"""A demo flag instant-withdrawals requires: not archived while it does."""


def confirm(page: Page, label: str, said: str | None = None) -> None:
    page.locator(".staff-record-actions").get_by_role("link", name=label).click()
    modal = page.locator(f"#modal-confirmation-{label.lower()}")
    expect(modal).to_be_visible()
    modal.get_by_role("link", name="Yes").click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
    expect(page.locator(".toast-body").first).to_contain_text(said or f"{label}: done")


def test_stale_flags_are_found_and_a_flag_is_archived_and_back_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        page.goto(f"{server.base_url}/admin/feature-flags/list?stale=yes")
        row = page.locator("tr", has_text=STALE)
        expect(row.locator("[data-stale-because]")).to_have_text("Past its 40-day lifetime")
        stale_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-stale-{size}")

        if size == "desktop":
            open_flag(page, server.base_url, REQUIRED)
            confirm(page, "Archive", f"{REQUIRED} cannot be archived: instant-withdrawals")
        key = ARCHIVED[size]
        open_flag(page, server.base_url, key)
        expect(page.locator(".staff-record-actions").get_by_text("Delete")).to_have_count(0)
        confirm(page, "Archive")
        expect(page.locator(".badge", has_text="archived")).to_be_visible()
        archived_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-archived-{size}")
        page.goto(f"{server.base_url}/admin/feature-flags/list?search={key}")
        expect(page.locator("tr", has_text=key)).to_have_count(0)
        page.go_back()
        page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
        confirm(page, "Unarchive")
        expect(page.locator(".badge", has_text="archived")).to_have_count(0)

        assert stale_overflow <= 0, f"the stale list scrolls sideways ({size})"
        assert archived_overflow <= 0, f"the archived flag's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
