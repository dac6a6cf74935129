"""A flag's on/off in the list, its history and a restore in Chromium, at desktop and phone
sizes: a list switch asks first and turns the environment over; the flag's page lists the
changes; "Restore this version" shows what it would change before it is confirmed, on a
flag's page and on a segment's.

A change to one of many variants reads as those variants before and after, in the history
and on the restore's page, with nothing cut and nothing scrolling sideways.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/: flag-list-switches-*.png, flag-list-switch-asks-*.png, flag-history-*.png,
flag-restore-*.png, flag-history-variants-*.png, flag-restore-variants-*.png and
segment-restore-*.png.
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

from tests.browser_helpers import ARTIFACTS, open_flag  # isort: skip

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SCROLLS = "element => element.scrollWidth - element.clientWidth"
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
        restore_overflow = confirm_restore(page, f"flag-restore-{size}")

        assert list_overflow <= 0, f"the list scrolls sideways ({size})"
        assert history_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert restore_overflow <= 0, f"the restore's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()


EXPERIMENT = "smart-budget-insights"
"""A demo experiment with variants weekly 70 and daily 30, each with its cadence as payload."""
MORE = {"monthly": 20, "yearly": 10}
"""Variants added to it, the first two then weighing 40 and 30."""
WAS = "monthly 20 (cadence: monthly) · yearly 10 (cadence: yearly)"
NOW = "monthly 25 (cadence: monthly) · yearly 5 (cadence: yearly)"


def confirm_restore(page: Page, shot: str) -> int:
    """Take the restore page's screenshot, confirm the restore as the page offers it and see
    the flag's history say so; how far the restore page scrolled sideways."""
    overflow = page.evaluate(OVERFLOW)
    screenshot(page, shot)
    page.locator("#restore-confirm button[type='submit']").click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
    expect(page.locator("#history [data-history-said]").first).to_contain_text("Restored")
    return int(overflow)


def saved_weights(page: Page, base_url: str, weights: list[int], added: bool = False) -> None:
    """The experiment's Edit, its variants weighed `weights` (after adding `MORE` first,
    with their cadence as payload), saved; the flag's page opened."""
    open_flag(page, base_url, EXPERIMENT)
    here = page.url
    page.locator(".staff-record-actions").get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/edit/"))
    variants = page.locator("#variants")
    for name in MORE if added else ():
        variants.get_by_role("button", name="+ Add variant").click()
        new = variants.locator("[data-row]").last
        new.get_by_label("Variant name").fill(name)
        new.get_by_label("Payload (JSON), optional").fill(f'{{"cadence": "{name}"}}')
    for row, weight in zip(variants.locator("[data-row]").all(), weights, strict=True):
        row.get_by_label("Weight").fill(str(weight))
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/list"))
    page.goto(here)


def test_a_change_to_one_of_many_variants_reads_whole_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, _ = tab(browser, server, *SIZES["desktop"])
    saved_weights(page, server.base_url, [40, 30, *MORE.values()], added=True)
    page.context.close()
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        saved_weights(page, server.base_url, [40, 30, 25, 5])
        change = page.locator("#history [data-version]").first.locator(
            "[data-history-change='Variants']"
        )
        expect(change.locator("del")).to_have_text(WAS)
        expect(change.locator("ins")).to_have_text(NOW)
        expect(change.locator("[data-unchanged]")).to_have_text("(2 others unchanged)")
        page.locator("#history").scroll_into_view_if_needed()
        history_overflow = page.evaluate(OVERFLOW)
        page.locator("#history").screenshot(
            path=ARTIFACTS / f"flag-history-variants-{size}.png", animations="disabled"
        )

        page.locator("#history [data-restore]").first.click()
        restored = page.locator("#restore-changes [data-change='Variants']")
        expect(restored.locator("td").nth(1)).to_have_text(NOW)
        expect(restored.locator("td").nth(2)).to_have_text(f"→ {WAS}")
        table_scrolls = page.locator("#restore-changes").evaluate(SCROLLS)
        restore_overflow = confirm_restore(page, f"flag-restore-variants-{size}")

        assert history_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert table_scrolls <= 0, f"the restore's changes scroll sideways ({size})"
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
