"""Segments and prerequisites in Chromium: a demo flag's environment cards name the
segments it excludes, linked to the segment's page, which lists the flags using it; the
flag's form offers segments and prerequisites as lists to pick from. At desktop and phone
sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/flag-segments-*.png, segment-page-*.png and flag-form-targeting-*.png.
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

from tests.browser_helpers import open_flag  # isort: skip

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
FLAG = "instant-withdrawals"
"""A demo release that excludes EU customers and requires new-checkout-flow."""


def test_a_flags_segments_and_prerequisites_are_shown_and_picked_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        open_flag(page, server.base_url, FLAG)
        production = page.locator("#flag-environments [data-environment='production']")
        expect(production.locator("[data-field='excluded_segments'] dd")).to_have_text(
            "EU customers"
        )
        expect(production.locator("[data-field='prerequisites'] dd")).to_have_text(
            "new-checkout-flow is on"
        )
        production.scroll_into_view_if_needed()
        cards_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-segments-{size}")
        flag_page = page.url

        production.get_by_role("link", name="EU customers").click()
        page.wait_for_url(re.compile(r"/admin/flag-segments/details/"))
        expect(page.locator("#segment-uses [data-use]").first).to_contain_text(FLAG)
        page.locator("#segment-uses").scroll_into_view_if_needed()
        segment_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"segment-page-{size}")

        page.goto(flag_page)
        production.locator("[data-edit]").click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/edit/"))
        excluded = page.locator("select[name='excluded_segments']")
        expect(excluded.locator("option[selected]")).to_have_text("EU customers")
        required = page.locator("select[name='prerequisites']")
        expect(required.locator("option[selected]")).to_have_text("new-checkout-flow is on")
        excluded.scroll_into_view_if_needed()
        form_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-form-targeting-{size}")

        assert cards_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert segment_overflow <= 0, f"the segment's page scrolls sideways ({size})"
        assert form_overflow <= 0, f"the flag's form scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
