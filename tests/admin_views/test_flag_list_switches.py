"""Each environment's on/off in the Feature flags list: the switch as the list renders it
asks first, then runs the environment card's own action (audited, CSRF checked); roles that
may not switch see the states without the control; a page's states are read in one query."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.screens import token
from tests.admin_views.test_flag_environments import (  # noqa: F401 - fixtures
    audit,
    boss,
    flag,
    fresh,
    state,
)

SWITCH = re.compile(r"<(button|span) ([^>]*class=\"staff-switch [^>]*)>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def switches(listing: str, key: str) -> dict[str, dict[str, str]]:
    """The switches in the row of flag `key`: environment -> the control's attributes (with
    `tag`: a button where it can be pressed)."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*>{key}</td>(?:(?!</tr>).)*</tr>", listing, re.S)
    assert row, f"no row for {key}"
    found = {}
    for tag, attributes in SWITCH.findall(row[0]):
        attrs = {name: unescape(value) for name, value in ATTRIBUTE.findall(attributes)}
        found[attrs["data-environment"]] = attrs | {"tag": tag}
    return found


async def listing(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/feature-flags/list")
    assert page.status_code == 200, page.text[-500:]
    return page.text


async def press(client: httpx.AsyncClient, control: dict[str, str], **extra: Any) -> httpx.Response:
    """Answer the switch's question "Yes": staff.js POSTs the action with the page's token."""
    url = control["data-confirm-url"]
    path, _, query = url.partition("?")
    return await client.post(
        path,
        data={"pks": query.removeprefix("pks="), **extra},
        headers={"referer": "http://testserver/admin/feature-flags/list"},
    )


async def test_the_list_switches_each_environment_after_asking(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    before = switches(await listing(client), "checkout")

    turned_off = await press(client, before["staging"], csrf_token=await token(client))
    turned_on = await press(client, before["production"], csrf_token=await token(client))
    after = switches(await listing(client), "checkout")

    assert list(before) == ["development", "staging", "production"]
    assert [c["aria-checked"] for c in before.values()] == ["false", "true", "false"]
    assert before["staging"]["tag"] == "button"
    assert before["staging"]["data-confirm"] == "Turn checkout off in Staging for every user now?"
    assert before["production"]["data-confirm"] == "Turn checkout on in Production?"
    assert before["staging"]["data-bs-target"] == "#modal-row-confirm"
    assert 'id="modal-row-confirm"' in await listing(client)
    assert turned_off.status_code == turned_on.status_code == 303
    assert turned_on.headers["location"] == "/admin/feature-flags/list"
    assert not (await state(db, flag, "staging")).enabled
    assert not (await state(db, flag, "development")).enabled
    assert (await fresh(db, flag)).enabled
    assert [c["aria-checked"] for c in after.values()] == ["false", "false", "true"]
    assert after["production"]["data-confirm"] == (
        "Turn checkout off in Production for every user now?"
    )
    [disabled] = await audit(db, "action:disable", "flag_environment_states")
    [enabled] = await audit(db, "action:enable", "feature_flags")
    assert disabled.after["environment"] == "staging"
    assert enabled.after == {"enabled": True, "revision": 2, "environment": "production"}


async def test_a_switch_posted_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    control = switches(await listing(client), "checkout")["staging"]

    refused = await press(client, control)

    assert refused.status_code == 403
    assert (await state(db, flag, "staging")).enabled
    assert await audit(db, "action:disable", "flag_environment_states") == []


async def test_a_role_that_may_not_switch_sees_the_states_without_the_control(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    control = switches(await listing(client), "checkout")["staging"]
    await staff.signed_in(client, await staff.make_staff(db, "marketing"))

    seen = switches(await listing(client), "checkout")
    refused = await press(client, control, csrf_token=await token(client))

    assert {name: c["tag"] for name, c in seen.items()} == {
        "development": "span",
        "staging": "span",
        "production": "span",
    }
    assert "staff-switch-on" in seen["staging"]["class"]
    assert refused.status_code == 403
    assert (await state(db, flag, "staging")).enabled


async def test_a_pages_states_are_read_in_one_query(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    for number in range(5):
        db.add(FeatureFlag(key=f"more-{number}", name=f"More {number}"))
    await db.commit()
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        page = await listing(client)
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)

    assert len(switches(page, "more-4")) == 3
    assert len([s for s in sent if re.search(r"FROM flag_environment_states\b", s)]) == 1
