"""A browser tab names its page: staff with ten tabs open find the one they want."""

from __future__ import annotations

import html
import re

import httpx

from tests.admin_views.anchors import anchors

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
SITE = "SwipeSavvy Admin"
RECORD_HEADING = re.compile(r'staff-record-title">\s*<span>([^<]+)')


def title_of(page: httpx.Response) -> str:
    found = TITLE.search(page.text)
    assert found is not None, f"{page.url} has no <title>"
    return html.unescape(found.group(1)).strip()


def followed(page: httpx.Response, title: str) -> str:
    """The href of the link whose `title` attribute (an icon link's name) is `title`."""
    return next(a.href for a in anchors(page.text) if a.attrs.get("title") == title and a.href)


async def test_lists_records_and_forms_are_named_in_the_tab(reader: httpx.AsyncClient) -> None:
    listed = await reader.get("/admin/merchants/list")
    assert title_of(listed) == f"Merchants · {SITE}"

    record = await reader.get(followed(listed, "View"))
    heading = RECORD_HEADING.search(record.text)
    assert heading is not None
    name = html.unescape(heading.group(1)).strip()
    assert title_of(record) == f"{name} · Merchants · {SITE}"

    edit = await reader.get(followed(listed, "Edit"))
    assert title_of(edit) == f"Edit {name} · Merchants · {SITE}"

    create = await reader.get("/admin/merchants/create")
    assert title_of(create) == f"New merchant · Merchants · {SITE}"
    assert '<h3 class="card-title">New merchant</h3>' in create.text
    model = await reader.get("/admin/ai-models/create")
    assert '<h3 class="card-title">New AI model</h3>' in model.text


async def test_custom_and_error_pages_are_named_in_the_tab(reader: httpx.AsyncClient) -> None:
    account = await reader.get("/admin/account")
    assert title_of(account).endswith(f" · {SITE}")
    assert title_of(account) != SITE

    missing = await reader.get("/admin/merchants/details/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert title_of(missing) == f"Page not found · {SITE}"


async def test_the_sign_in_page_says_so(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    assert title_of(page) == f"Sign in · {SITE}"
