"""Every create and edit form, fuzzed: random unicode, control characters and NUL bytes,
huge strings, numbers where text goes and text where numbers go, broken identifiers.

Whatever arrives, the answer is a page (the form again with messages, or a redirect
after a valid save), never a server error, and a refused form leaves no row behind and
changes none.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from admin_views.base import StaffView
from tests import discovered, staff
from tests.admin_views.screens import count, token

NOT_FUZZED = frozenset({"csrf_token", "save"})

CREATABLE = sorted(
    (view for view in admin_views.discover_views() if view.can_create),
    key=lambda view: view.__name__,
)
EDITABLE = sorted(
    (view for view in admin_views.discover_views() if view.can_edit),
    key=lambda view: view.__name__,
)

NASTY = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=5),
    st.text(st.characters(min_codepoint=0x80), max_size=20),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "abc\x00def",
            "-1",
            "1e309",
            "NaN",
            "9" * 60,
            "1.005",
            "true",
            "null",
            "[]",
            '{"a": [1, {"b": null}]}',
            "{",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "2026-13-45",
            "2026-02-30T25:61:00",
            "\u202eevil",
            "😀" * 50,
        ]
    ),
    st.just("x" * 300_000),
)


def identity(view: type[StaffView]) -> str:
    return view.resource().replace("_", "-")


class FormValues(HTMLParser):
    """The values a browser would send for the page's own form (the one that posts back to
    the page, not the header's search or sign-out), as it was rendered."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self._inside = False
        self.values: list[tuple[str, str]] = []
        self.names: set[str] = set()
        self.text_fields: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._inside = urlsplit(found.get("action", "")).path in ("", self.page_path)
        if not self._inside:
            return
        name = found.get("name")
        if tag == "input" and name:
            self.names.add(name)
            kind = found.get("type", "text")
            if kind in ("text", "email", "url", "search", "tel") and "data-role" not in found:
                self.text_fields.add(name)
            if kind in ("checkbox", "radio") and "checked" not in found:
                return
            if kind not in ("submit", "button", "file"):
                self.values.append((name, found.get("value", "")))
        elif tag == "select" and name:
            self.names.add(name)
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.values.append((self._select, found.get("value", "")))
        elif tag == "textarea" and name:
            self.names.add(name)
            self.text_fields.add(name)
            self._textarea, self._text = name, []

    def value_of(self, name: str) -> str:
        return next((value for key, value in self.values if key == name), "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def with_nul(current: str) -> str:
    """A NUL byte in the field: inside the text, or inside a string of a JSON document."""
    try:
        document = json.loads(current)
    except ValueError:
        return f"before\x00{current}"
    if isinstance(document, (dict, list)):
        return json.dumps({"note": "a\x00b"} if isinstance(document, dict) else ["a\x00b"])
    return f"before\x00{current}"


async def rendered_form(client: httpx.AsyncClient, url: str) -> FormValues | None:
    """The form's values, or None where the row may not be edited (the superadmin role)."""
    page = await client.get(url)
    if page.status_code == 403:
        return None
    assert page.status_code == 200, url
    form = FormValues(urlsplit(url).path)
    form.feed(page.text)
    return form


async def first_row(db: AsyncSession, view: type[StaffView]) -> Any:
    """The oldest row: the same one in every example, whatever earlier examples created."""
    await db.commit()
    oldest = [getattr(view.model, "created_at", view.model.id), view.model.id]
    return await db.scalar(sa.select(view.model.id).order_by(*oldest).limit(1))


async def table_snapshot(db: AsyncSession, view: type[StaffView]) -> list[tuple[Any, ...]]:
    await db.commit()
    return [tuple(row) for row in await db.execute(sa.select(view.model.__table__))]


async def fuzzed_post(
    client: httpx.AsyncClient, url: str, baseline_url: str, data: st.DataObject
) -> httpx.Response:
    """The form as rendered at `baseline_url` (valid, or nearly), with some fields replaced
    by nasty values, so the nastiness reaches the validators and the database."""
    form = await rendered_form(client, baseline_url)
    if form is None:
        form = await rendered_form(client, url)
    assert form is not None
    fields = sorted(form.names - NOT_FUZZED)
    # Drawn before looking at the fields, so an example draws the same whatever earlier
    # examples did to the rows (Hypothesis replays examples and needs identical draws).
    picks = data.draw(
        st.lists(st.tuples(st.integers(0, 1_000), NASTY), min_size=1, max_size=3),
        label="replacements",
    )
    replaced = {fields[index % len(fields)]: value for index, value in picks}
    sent = [(name, value) for name, value in form.values if name not in replaced]
    sent += list(replaced.items())
    body: dict[str, list[str]] = {"csrf_token": [await token(client)]}
    for name, value in sent:
        if name != "csrf_token":
            body.setdefault(name, []).append(value)
    return await client.post(url, data=body)


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, boss: staff.Account) -> httpx.AsyncClient:
    return client


@pytest.mark.parametrize("view", CREATABLE, ids=identity)
@FUZZ
@given(data=st.data())
async def test_a_fuzzed_create_form_answers_a_page_and_writes_all_or_nothing(
    signed_in: httpx.AsyncClient, db: AsyncSession, view: type[StaffView], data: st.DataObject
) -> None:
    url = f"/admin/{identity(view)}/create"
    row_id = await first_row(db, view)
    baseline = f"/admin/{identity(view)}/edit/{row_id}" if view.can_edit and row_id else url
    before = await count(db, view.model)

    response = await fuzzed_post(signed_in, url, baseline, data)

    assert response.status_code in (200, 302, 303, 400), (response.status_code, response.text[:800])
    created = await count(db, view.model) - before
    assert created == (1 if response.status_code in (302, 303) else 0)


@pytest.mark.parametrize("view", EDITABLE, ids=identity)
@FUZZ
@given(data=st.data())
async def test_a_fuzzed_edit_form_answers_a_page_and_changes_nothing_when_refused(
    signed_in: httpx.AsyncClient, db: AsyncSession, view: type[StaffView], data: st.DataObject
) -> None:
    row_id = await first_row(db, view)
    assert row_id is not None, discovered.add_demo_data(view.resource())
    url = f"/admin/{identity(view)}/edit/{row_id}"
    if await rendered_form(signed_in, url) is None:
        return
    before = await table_snapshot(db, view)

    response = await fuzzed_post(signed_in, url, url, data)

    assert response.status_code in (200, 302, 303, 400), (response.status_code, response.text[:800])
    if response.status_code not in (302, 303):
        assert await table_snapshot(db, view) == before


@pytest.mark.parametrize("view", EDITABLE, ids=identity)
async def test_a_nul_byte_in_any_text_field_is_refused_on_that_field(
    signed_in: httpx.AsyncClient, db: AsyncSession, view: type[StaffView]
) -> None:
    row_id = await first_row(db, view)
    assert row_id is not None, discovered.add_demo_data(view.resource())
    url = f"/admin/{identity(view)}/edit/{row_id}"
    form = await rendered_form(signed_in, url)
    if form is None:
        pytest.skip("no row this staff member may edit")
    before = await table_snapshot(db, view)

    for name in sorted(form.text_fields):
        sent = {key: [v for k, v in form.values if k == key] for key, _ in form.values}
        sent |= {name: [with_nul(form.value_of(name))], "csrf_token": [await token(signed_in)]}
        response = await signed_in.post(url, data=sent)

        assert response.status_code == 400, (name, response.status_code)
        assert "Remove the control characters" in response.text, name
    assert await table_snapshot(db, view) == before
