"""The search box in Chromium, at desktop and phone widths: `/` opens it on any page, a
customer's email typed in finds them, Enter opens their page; the header button and
Ctrl-K open it too, Esc closes it. Screenshots of the box and of the full results page go
to test-artifacts/search/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

# First: the helpers skip this module (or fail it with CI=true) when Chromium is missing.
from tests.browser_helpers import ARTIFACTS, TIMEOUT_MS, Watch, chromium, screenshot, sign_in
from tests.test_processes import DEMO_LOGIN, Server, demo_server

from playwright.sync_api import Browser, Page, ViewportSize, expect  # isort: skip

VIEWPORTS = {
    "1440x900": ViewportSize(width=1440, height=900),
    "390x844": ViewportSize(width=390, height=844),
}
WIDER_THAN_THE_SCREEN = (
    "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("browser-search")) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def opened_page(browser: Browser, server: Server, viewport: str) -> tuple[Page, Watch]:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch(server.base_url)
    watch.attach(page)
    sign_in(page, server.base_url, DEMO_LOGIN, server.password)
    return page, watch


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_slash_then_an_email_then_enter_opens_the_customer(
    browser: Browser, server: Server, viewport: str
) -> None:
    [(user_id, email)] = server.rows("SELECT id, email FROM users ORDER BY email LIMIT 1")
    user_id = re.sub(r"(\w{8})(\w{4})(\w{4})(\w{4})(\w{12})", r"\1-\2-\3-\4-\5", str(user_id))
    page, watch = opened_page(browser, server, viewport)
    try:
        page.goto(f"{server.base_url}/admin/merchants/list")
        box = page.locator("#find-box")
        expect(box).to_be_hidden()
        page.keyboard.press("/")
        expect(box).to_be_visible()
        expect(page.locator("#find-box-q")).to_be_focused()
        page.keyboard.type(email)
        customers = box.locator('.find-box-group[data-table="users"]')
        expect(customers.locator(".find-box-hit")).to_have_count(1)
        expect(customers.locator(".find-box-hit.active")).to_contain_text(email)
        # The viewport only: a modal's backdrop covers the screen, not a full-page capture.
        page.screenshot(path=ARTIFACTS / f"search/{viewport}-box.png", animations="disabled")
        assert not page.evaluate(WIDER_THAN_THE_SCREEN), "the box fits the screen"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/{user_id}$"))
        expect(page.get_by_text(email).first).to_be_visible()
        screenshot(page, f"search/{viewport}-landed")
        assert watch.problems == []
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_button_and_ctrl_k_open_it_arrows_choose_esc_closes(
    browser: Browser, server: Server, viewport: str
) -> None:
    [(last_name,)] = server.rows("SELECT last_name FROM users ORDER BY email LIMIT 1")
    page, watch = opened_page(browser, server, viewport)
    try:
        box = page.locator("#find-box")
        page.locator("[data-find-open]").click()
        expect(box).to_be_visible()
        page.keyboard.press("Escape")
        expect(box).to_be_hidden()
        page.keyboard.press("Control+k")
        expect(box).to_be_visible()
        page.keyboard.type(last_name)
        options = box.locator("[role=option]")
        expect(options.first).to_have_class(re.compile(r"\bactive\b"))
        page.keyboard.press("ArrowDown")
        expect(options.nth(1)).to_have_class(re.compile(r"\bactive\b"))
        expect(options.first).not_to_have_class(re.compile(r"\bactive\b"))
        page.keyboard.press("ArrowUp")
        expect(options.first).to_have_class(re.compile(r"\bactive\b"))
        page.keyboard.press("Escape")
        expect(box).to_be_hidden()

        page.goto(f"{server.base_url}/admin/search?q={last_name}")
        expect(page.locator(".find-group").first).to_be_visible()
        screenshot(page, f"search/{viewport}-results")
        assert not page.evaluate(WIDER_THAN_THE_SCREEN), "the results fit the screen"
        assert watch.problems == []
    finally:
        page.context.close()
