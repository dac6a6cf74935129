"""Flag environments in Chromium: a demo flag's page shows each environment's state side by
side; "Copy state…" shows the changes before it copies, and asks for a reason where a second
person reviews the copy. At desktop and phone sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/flag-environments-*.png and flag-copy-*.png.
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
FLAG = "new-checkout-flow"
"""A demo release at 35% in production, at 100% in staging."""
COPIED = {"desktop": ("production", "35%"), "phone": ("staging", "100%")}
"""What each size copies into development, and the rollout development then has."""


def test_a_flags_environments_are_shown_and_copied_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        open_flag(page, server.base_url, FLAG)
        cards = page.locator("#flag-environments [data-environment]")
        expect(cards).to_have_count(3)
        staging = page.locator("#flag-environments [data-environment='staging']")
        expect(staging.locator("[data-field='targeting'] dd")).to_contain_text("· 100% of users")
        page.locator("#flag-environments").scroll_into_view_if_needed()
        cards_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-environments-{size}")

        page.get_by_role("link", name="Copy state…").click()
        expect(page.locator("#flag-copy-changes")).to_be_visible()
        expect(page.locator("[data-change='Rollout %']")).to_contain_text("→ 100%")
        expect(page.locator("[data-four-eyes]")).to_contain_text("a second person reviews")
        copy_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-copy-{size}")

        source, rollout = COPIED[size]
        page.locator("#copy-source").select_option(source)
        page.locator("#copy-target").select_option("development")
        page.get_by_role("button", name="Show changes").click()
        page.get_by_role("button", name="Copy to Development").click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
        expect(page.locator(".toast-body").first).to_contain_text("done for new-checkout-flow")
        development = page.locator("#flag-environments [data-environment='development']")
        expect(development.locator("[data-field='targeting'] dd")).to_contain_text(
            f"· {rollout} of users"
        )

        assert cards_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert copy_overflow <= 0, f"the copy's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()


ASKED = [
    ({"platform": "web"}, "off", "Only for Android, iOS; this is Web."),
    (
        {"platform": "ios", "app_version": "4.1.0"},
        "off",
        "Only for app version ≥ 4.2.0; this is 4.1.0.",
    ),
    (
        {"platform": "ios", "app_version": "4.3.0", "user": ""},
        "off",
        "No user id: the 35% rollout needs one to choose.",
    ),
]
"""What the preview is asked of new-checkout-flow in production, its answer, and why."""


def test_the_preview_says_why_in_words_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        open_flag(page, server.base_url, FLAG)
        for asked, answer, why in ASKED:
            page.locator("#preview-environment").select_option("production")
            page.locator("#preview-user").fill(asked.get("user", "demo-user-7"))
            page.locator("#preview-platform").select_option(asked["platform"])
            page.locator("#preview-version").fill(asked.get("app_version", ""))
            page.get_by_role("button", name="Evaluate").click()
            result = page.locator("#preview-result")
            expect(result.locator(".badge")).to_have_text(answer)
            expect(result.locator("[data-why]")).to_have_text(why)
        page.locator("#preview-user").fill("demo-user-7")
        page.get_by_role("button", name="Evaluate").click()
        expect(page.locator("#preview-result [data-why]")).to_contain_text("35% rollout: this user")
        expect(page.locator("#preview-result [data-answer]")).to_contain_text("The app gets value")
        page.locator("#preview-result").scroll_into_view_if_needed()
        overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-preview-{size}")

        assert overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
