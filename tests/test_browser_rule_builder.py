"""The rule builder in Chromium: a demo flag's form takes a rule typed as tags and a new
variant, keeps the weights' running total, says in place when a payload is not JSON, and
the flag's page then says the rules in words. At desktop and phone sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/rule-builder-*.png and flag-words-*.png.
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
FLAG = "smart-budget-insights"
"""A demo experiment at 20% on Android and web, variants weekly 70 and daily 30."""
SIZES = {
    "desktop": ((1280, 900), ("country", "is one of", ["US", "CA"]), "monthly", [50, 30, 20]),
    "phone": ((390, 844), ("language", "equals", ["en"]), "yearly", [40, 30, 20, 10]),
}
"""Per size: the viewport, the rule added (attribute, operator, tags), the variant added
and every variant's weight after it."""
SAID = {
    "desktop": "Country is one of US, CA · Android, Web · 20% of users",
    "phone": "Country is one of US, CA · Language equals en · Android, Web · 20% of users",
}


def open_edit_form(page: Page, demo: Server, flag: str) -> None:
    """From the list, searched for `flag`, to its page and its Edit, as staff click them."""
    open_flag(page, demo.base_url, flag)
    page.locator(".staff-record-actions").get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/admin/feature-flags/edit/"))


def test_a_rule_and_a_variant_are_added_in_the_builder_and_read_in_words(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, ((width, height), rule, variant, weights) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        open_edit_form(page, server, FLAG)

        rules = page.locator("#rules")
        rules.get_by_role("button", name="+ Add rule").click()
        added = rules.locator("[data-row]").last
        attribute, operator, tags = rule
        added.get_by_label("Attribute").fill(attribute)
        added.get_by_label("Operator").select_option(label=operator)
        values = added.get_by_label("Values")
        for tag in tags:
            values.fill(tag)
            values.press("Enter")
        expect(added.locator("[data-tag-text]")).to_have_text(tags)

        variants = page.locator("#variants")
        variants.get_by_role("button", name="+ Add variant").click()
        new = variants.locator("[data-row]").last
        new.get_by_label("Variant name").fill(variant)
        new.get_by_label("Weight").fill(str(weights[-1]))
        total = variants.locator("[data-total]")
        expect(total).to_have_class(re.compile("text-danger"))
        for row, weight in zip(variants.locator("[data-row]").all(), weights, strict=True):
            row.get_by_label("Weight").fill(str(weight))
        expect(total.locator("[data-total-value]")).to_have_text("100")
        expect(total).to_have_class(re.compile("text-success"))
        payload = new.get_by_label("Payload (JSON), optional")
        payload.fill('{"cadence": ')
        expect(new.locator("[data-json-message]")).to_contain_text("This is not JSON")
        new.scroll_into_view_if_needed()
        builder_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"rule-builder-{size}")
        payload.fill(f'{{"cadence": "{variant}"}}')
        expect(new.locator("[data-json-message]")).to_be_empty()

        page.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/list"))
        page.locator("tr", has_text=FLAG).locator("a[href*='/details/']").first.click()
        page.wait_for_url(re.compile(r"/admin/feature-flags/details/"))
        production = page.locator("#flag-environments [data-environment='production']")
        expect(production.locator("[data-field='targeting'] dd")).to_have_text(SAID[size])
        expect(production.locator("[data-field='variants'] dd")).to_contain_text(
            f"{variant} {weights[-1]}"
        )
        production.scroll_into_view_if_needed()
        page_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"flag-words-{size}")

        assert builder_overflow <= 0, f"the builder scrolls sideways ({size})"
        assert page_overflow <= 0, f"the flag's page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()


PLAIN = "instant-withdrawals"
"""A demo release flag without variants."""


def test_a_flag_without_variants_shows_no_total_and_its_form_never_offers_itself(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    page, watch = tab(browser, server, 1280, 900)
    open_edit_form(page, server, PLAIN)
    variants = page.locator("#variants")
    prerequisites = page.locator("select[name=prerequisites] option")

    expect(variants.locator("[data-empty]")).to_be_visible()
    expect(variants.locator("[data-total]")).to_be_hidden()
    expect(prerequisites.filter(has_text=f"{PLAIN} is on")).to_be_hidden()
    expect(prerequisites.filter(has_text="p2p-transfers is on")).to_be_visible()
    variants.get_by_role("button", name="+ Add variant").click()
    expect(variants.locator("[data-total]")).to_be_visible()
    expect(variants.locator("[data-empty]")).to_be_hidden()
    assert not watch.problems, "\n".join(watch.problems)
    page.context.close()
