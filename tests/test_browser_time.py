"""Times and insight pages in a real browser: a staff member picks a zone and reads times in it;
charts mark today's partial day; KPI labels wrap between words, never inside one."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_helpers import (
    TIMEOUT_MS,
    Browser,
    Page,
    Watch,
    chromium,
    expect,
    screenshot,
    sign_in,
)
from tests.test_processes import DEMO_LOGIN, Server, demo_server

WIDTHS = (1000, 1280, 1440)
WORDS_SPLIT_ACROSS_LINES = """() => {
    const split = [];
    for (const label of document.querySelectorAll(".kpi .kpi-label, .kpi .kpi-value")) {
        const text = label.firstChild;
        if (!text || text.nodeType !== Node.TEXT_NODE) continue;
        for (const word of text.textContent.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(text, word.index);
            range.setEnd(text, word.index + word[0].length);
            if (range.getClientRects().length > 1) split.push(word[0]);
        }
    }
    return split;
}"""
PARTIAL_DAY = """(name) => {
    const chart = document.querySelector(`canvas[data-chart="${name}"]`).chart;
    const labels = chart.data.labels;
    const last = labels.length - 1;
    return {
        label: labels[last],
        dashed: chart.data.datasets.map((set) =>
            chart.config.type === "line"
                ? JSON.stringify(set.segment.borderDash({ p1DataIndex: last }))
                : set.backgroundColor[last]),
        before: chart.data.datasets.map((set) =>
            chart.config.type === "line"
                ? String(set.segment.borderDash({ p1DataIndex: last - 1 }))
                : set.backgroundColor[last - 1]),
    };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("browser-time")) as started:
        yield started


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    watch = Watch(server.base_url)
    watch.attach(tab)
    sign_in(tab, server.base_url, DEMO_LOGIN, server.password)
    yield tab
    context.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_a_picked_zone_shows_on_every_page(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/admin/account")
    page.select_option("#time_zone", "Asia/Tokyo")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("#own-time-zone")).to_have_text("Asia/Tokyo")
    assert server.rows("SELECT time_zone FROM admin_users WHERE email = ?", DEMO_LOGIN) == [
        ("Asia/Tokyo",)
    ]
    signed_in = page.locator("#own-sessions tbody tr").first.locator("time").first
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d", signed_in.inner_text())
    expect(signed_in).to_have_attribute("title", re.compile(r"\(Asia/Tokyo\)$"))

    page.goto(f"{server.base_url}/admin/support-tickets/list")
    expect(page.locator("td time").first).to_have_attribute(
        "title", re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d \(Asia/Tokyo\)$")
    )
    page.goto(f"{server.base_url}/admin/dashboard?days=7")
    expect(page.locator("#as-of")).to_contain_text(re.compile(r"Figures as of \d\d:\d\d"))
    expect(page.locator("#as-of")).to_contain_text("(Asia/Tokyo)")


def test_time_series_draw_today_as_partial(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/admin/dashboard?days=7")
    page.wait_for_function("() => document.querySelector('canvas[data-chart=money]').chart")
    activity = page.evaluate(PARTIAL_DAY, "activity")
    money = page.evaluate(PARTIAL_DAY, "money")
    screenshot(page, "dashboard-partial-day")

    assert activity["label"][1] == "so far"
    assert activity["dashed"] == ["[6,4]", "[6,4]"]  # the segment into today
    assert activity["before"] == ["undefined", "undefined"]  # whole days stay solid
    assert money["label"][1] == "so far"
    assert all(colour.endswith("0.35)") for colour in money["dashed"])  # lighter bars
    assert all(colour.startswith("#") for colour in money["before"])
    expect(page.locator("[data-partial-note=activity]")).to_contain_text("today so far")

    page.goto(f"{server.base_url}/admin/dashboard?from=2026-01-05&to=2026-01-11")
    page.wait_for_function("() => document.querySelector('canvas[data-chart=money]').chart")
    whole = page.evaluate(
        "() => { const c = document.querySelector('canvas[data-chart=activity]').chart;"
        " return [c.data.labels.at(-1), c.data.datasets.some((set) => set.segment)]; }"
    )
    assert whole == ["11 Jan", False]


@pytest.mark.parametrize("path", ["", "/users", "/campaigns", "/support", "/merchants"])
def test_kpi_labels_wrap_between_words(page: Page, server: Server, path: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{server.base_url}/admin/dashboard{path}?days=30")
        assert page.evaluate(WORDS_SPLIT_ACROSS_LINES) == [], f"{width} px"
