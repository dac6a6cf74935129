"""App keys in Chromium: make a key from the menu, see it once — whole, at any width — and
copy it with its button (or, without JavaScript, select it: no button then), revoke it after
confirming; the feed answers the key, then refuses it. At desktop and phone sizes.

Reuses tests/test_browser.py's demo server and browser. Screenshots land in
test-artifacts/app-keys-*.png.
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

FEED = "/api/feature-flags/mobile/active"
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
HIDDEN_PART = "e => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight]"
"""How far the box's text runs past it, across and down: nothing of the key is hidden at 0."""


def open_from_menu(page: Page, demo: Server) -> None:
    page.goto(f"{demo.base_url}/admin/")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():  # the phone's collapsed menu
        toggler.click()
        expect(page.locator("#sidebar-menu")).to_be_visible()
    link = page.locator("#sidebar-menu a[href$='/admin/app-keys']")
    if not link.is_visible():
        page.locator("#sidebar-menu .dropdown-toggle", has_text="Feature flags").click()
    link.click()
    page.wait_for_url(re.compile(r"/admin/app-keys$"))


def make_key(page: Page, name: str) -> str:
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Make key").click()
    expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    return page.locator("#new-app-key").input_value()


def feed_status(page: Page, demo: Server, key: str) -> int:
    return page.request.get(f"{demo.base_url}{FEED}", headers={"X-API-Key": key}).status


def test_a_key_is_made_shown_once_and_revoked_at_each_size(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    for size, (width, height) in SIZES.items():
        page, watch = tab(browser, server, width, height)
        name = f"browser-{size}"
        open_from_menu(page, server)
        key = make_key(page, name)
        works = feed_status(page, server, key)
        created_overflow = page.evaluate(OVERFLOW)
        box = page.locator("#new-app-key")
        hidden_part = box.evaluate(HIDDEN_PART)
        shown = box.bounding_box()
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.get_by_role("button", name="Copy").click()
        expect(page.locator("[data-copy-status='new-app-key']")).to_have_text("Copied.")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        screenshot(page, f"app-keys-created-{size}")

        page.get_by_role("link", name="I have copied it").click()
        row = page.locator(f"li[data-key='{name}']")
        expect(row).to_contain_text("active")
        expect(page.locator("#app-keys-precision")).to_contain_text("to the minute")
        listed_text = page.content()
        list_overflow = page.evaluate(OVERFLOW)
        screenshot(page, f"app-keys-{size}")

        row.get_by_role("link", name="Revoke…").click()
        expect(page.get_by_text(f"Revoke the key “{name}”?")).to_be_visible()
        screenshot(page, f"app-keys-revoke-{size}")
        page.get_by_role("button", name="Revoke key").click()
        expect(page.locator(f"li[data-key='{name}']")).to_contain_text("revoked")
        refused = feed_status(page, server, key)
        screenshot(page, f"app-keys-revoked-{size}")

        assert works == 200
        assert hidden_part == [0, 0], f"the key is cut off in its box ({size})"
        assert shown is not None
        assert shown["x"] + shown["width"] <= width, f"the key's box runs off the screen ({size})"
        assert copied == key
        assert key not in listed_text
        assert refused == 401
        assert created_overflow <= 0, f"the new key's page scrolls sideways ({size})"
        assert list_overflow <= 0, f"the keys page scrolls sideways ({size})"
        assert not watch.problems, "\n".join(watch.problems)
        page.context.close()


def test_without_javascript_the_new_key_is_whole_and_selectable_with_no_copy_button(
    browser: Browser,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    signed_in, _ = tab(browser, server, *SIZES["phone"])
    context = browser.new_context(
        viewport=dict(zip(("width", "height"), SIZES["phone"], strict=True)),
        java_script_enabled=False,
        storage_state=signed_in.context.storage_state(),
    )
    signed_in.context.close()
    page = context.new_page()
    page.goto(f"{server.base_url}/admin/app-keys")
    key = make_key(page, "browser-no-script")
    box = page.locator("#new-app-key")
    hidden_part = box.evaluate(HIDDEN_PART)
    box.select_text()
    selected = box.evaluate("e => e.value.slice(e.selectionStart, e.selectionEnd)")
    screenshot(page, "app-keys-created-no-script-phone")

    assert key.startswith("ssk_")
    assert hidden_part == [0, 0], "the key is cut off in its box"
    assert selected == key
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()
    context.close()
