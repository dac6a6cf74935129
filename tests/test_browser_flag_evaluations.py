"""A flag's evaluations in Chromium: the chart on a flag's page (two days of the demo's
counts, per environment), the same panel for a flag last evaluated weeks ago and for one
never evaluated, and the list's Stale filter saying which flag no app has asked for. At
desktop and phone sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/flag-evaluations-*.png and flag-stale-unused-*.png.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta

from tests.browser_helpers import ARTIFACTS, open_flag

# First: importing the browser tests skips this module too when Chromium is missing.
from tests.test_browser import (
    Server,
    browser,  # noqa: F401 - a fixture
    screenshot,
    server,  # noqa: F401 - a fixture
    tab,
)
from tests.test_browser_flag_lifecycle import OVERFLOW, SIZES

from playwright.sync_api import Browser, Page, expect  # isort: skip

CHARTED = "cashback-boost-weekend"
"""A demo experiment with two variants, counted every hour of the last two days."""
QUIET = "crypto-wallet-beta"
"""A demo permission flag (150 days old, no lifetime): made here last evaluated 40 days ago."""
IN_USE = "card-payments-kill-switch"
"""A demo kill switch made 400 days ago: only its evaluations keep it from being stale."""
UNASKED = "maintenance-banner"
"""A demo flag made two days ago: made here never evaluated, too young to be stale."""


def sqlite_time(moment: datetime) -> str:
    """A timestamp as the app stores it in SQLite: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def evaluated_only_long_ago(demo: Server) -> datetime:
    """QUIET's counts replaced by one hour 40 days ago, and UNASKED's removed, as a worker's
    flush would have left them; the hour QUIET was last counted in."""
    hour = (datetime.now(UTC) - timedelta(days=40)).replace(minute=0, second=0, microsecond=0)
    with closing(sqlite3.connect(demo.database)) as connection, connection:
        connection.execute(
            "DELETE FROM flag_evaluation_counts WHERE flag_key IN (?, ?)", (QUIET, UNASKED)
        )
        connection.execute(
            "INSERT INTO flag_evaluation_counts (id, flag_key, environment, variant, hour, count)"
            " VALUES (?, ?, 'production', 'off', ?, 420)",
            (uuid.uuid4().hex, QUIET, sqlite_time(hour)),
        )
    return hour


def panel(page: Page, name: str) -> float:
    """The evaluations panel in view and screenshotted on its own (a phone's page is many
    screens long); how far the page scrolls sideways."""
    evaluations = page.locator("#flag-evaluations")
    evaluations.scroll_into_view_if_needed()
    evaluations.screenshot(path=ARTIFACTS / f"{name}.png", animations="disabled")
    return page.evaluate(OVERFLOW)


def test_a_flags_evaluations_are_charted_and_an_unused_flag_is_stale_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    last = evaluated_only_long_ago(server)
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        page.goto(f"{server.base_url}/admin/feature-flags/list")
        page.get_by_role("button", name="Filters").click()
        page.locator("#list-filters").get_by_role("link", name="Stale", exact=True).click()
        page.wait_for_url(re.compile(r"stale=yes"))
        row = page.locator("tr", has_text=QUIET)
        expect(row.locator("[data-stale-because]")).to_have_text(
            f"Not evaluated since {last.date().isoformat()}"
        )
        expect(page.locator("tr", has_text=IN_USE)).to_have_count(0)
        list_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-stale-unused-{size}")

        open_flag(page, server.base_url, CHARTED)
        charts = page.locator("#flag-evaluations [data-environment]")
        expect(charts).to_have_count(3)
        production = page.locator("#flag-evaluations [data-environment='production']")
        expect(production.locator("rect")).to_have_count(48)
        expect(production.locator("[data-total]")).not_to_have_text(re.compile(r"^0 "))
        expect(production).to_contain_text("double")
        charted_overflow = panel(page, f"flag-evaluations-{size}")

        open_flag(page, server.base_url, QUIET)
        quiet = page.locator("#flag-evaluations [data-environment='production']")
        expect(quiet.locator("[data-total]")).to_have_text("None in 48 h")
        shown_last = f"{last.day} {last:%b %Y}, {last:%H}:00"  # the `exact` filter's way
        expect(quiet.locator("[data-last]")).to_contain_text(shown_last)
        quiet_overflow = panel(page, f"flag-evaluations-quiet-{size}")

        open_flag(page, server.base_url, UNASKED)
        expect(page.locator("#flag-evaluations [data-never]")).to_have_text(
            re.compile("Not evaluated yet")
        )
        unasked_overflow = panel(page, f"flag-evaluations-none-{size}")

        assert list_overflow <= 0, f"the stale list scrolls sideways ({size})"
        assert charted_overflow <= 0, f"the charted flag's page scrolls sideways ({size})"
        assert quiet_overflow <= 0, f"the quiet flag's page scrolls sideways ({size})"
        assert unasked_overflow <= 0, f"the unasked flag's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()
