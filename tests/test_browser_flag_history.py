"""A flag's on/off in the list, its history and a restore in Chromium, at desktop and phone
sizes: a list switch asks first and turns the environment over; the flag's page lists the
changes; "Restore this version" shows what it would change before it is confirmed, on a
flag's page and on a segment's.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/: flag-list-switches-*.png, flag-list-switch-asks-*.png, flag-history-*.png,
flag-restore-*.png and segment-restore-*.png.
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


SEGMENT = "Beta testers"
"""A demo segment: one rule, Beta program equals joined."""


def test_a_segments_restore_shows_its_rules_now_and_restored_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        page.goto(f"{server.base_url}/admin/flag-segments/list?search={SEGMENT}")
        segment_page = page.locator("tr", has_text=SEGMENT).locator("a[href*='/details/']")
        segment_page.first.click()
        page.wait_for_url(re.compile(r"/admin/flag-segments/details/"))
        here = page.url
        for edit in ("description", "rule"):
            page.locator(".staff-record-actions").get_by_role("link", name="Edit").click()
            page.wait_for_url(re.compile(r"/admin/flag-segments/edit/"))
            if edit == "description":
                page.get_by_label("Description").fill(f"Joined the beta programme ({size})")
            else:
                rules = page.locator("#rules")
                rules.get_by_role("button", name="+ Add rule").click()
                added = rules.locator("[data-row]").last
                added.get_by_label("Attribute").fill("language")
                added.get_by_label("Operator").select_option(label="equals")
                added.get_by_label("Values").fill("en")
                added.get_by_label("Values").press("Enter")
            page.get_by_role("button", name="Save", exact=True).click()
            page.wait_for_url(re.compile(r"/admin/flag-segments/list"))
            page.goto(here)

        page.locator("#history [data-restore]").first.click()
        expect(page.locator("#restore-changes")).to_be_visible()
        expect(page.locator("[data-change='Rules']")).to_contain_text("Language equals en")
        restore_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"segment-restore-{size}")
        page.locator("#restore-confirm button[type='submit']").click()
        page.wait_for_url(re.compile(r"/admin/flag-segments/details/"))
        said = page.locator("#history [data-history-said]").first
        expect(said).to_contain_text("Restored")

        assert restore_overflow <= 0, f"the segment's restore page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
