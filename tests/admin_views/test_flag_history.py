"""A flag's history on its page, read from the audit trail: each change in every environment
newest first with who, when, why and its fields before → after, filtered by environment and
paged by key; "Restore this version" as a new, audited change (reviewed where an edit would
be), refused when it would change nothing and for roles that may not edit. Every step
follows the links and forms as the pages render them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail
from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.test_flag_environments import (  # noqa: F401 - fixtures
    audit,
    boss,
    card,
    changes,
    confirm,
    copy_page,
    edit_form,
    flag,
    flag_page,
    fresh,
    state,
    switch,
)
from tests.admin_views.test_four_eyes_edits import refusals
from tests.admin_views.test_record_actions import parse

WHY = "Raising it for the beta group"


@dataclass(frozen=True)
class Shown:
    """One change as the history panel shows it."""

    environment: str
    said: str
    changes: dict[str, tuple[str, str]]
    reason: str
    restore: str


def history(page: str) -> list[Shown]:
    panel = re.search(r'<div class="card mt-3" id="history">(.*)', page, re.S)
    assert panel, "no history on the page"
    shown = []
    for item in re.findall(r'<li class="list-group-item" data-version.*?</li>', panel[1], re.S):
        environment = re.search(r"data-history-environment>([^<]*)<", item)
        said = re.search(r"data-history-said>([^<]*)<", item)
        reason = re.search(r"data-history-reason>Why: ([^<]*)<", item)
        restore = re.search(r'href="([^"]*)" data-restore', item)
        found = {}
        for label, value in re.findall(
            r'data-history-change="[^"]*"><dt>([^<]*)</dt><dd>(.*?)</dd>', item, re.S
        ):
            before = re.search(r"<del>([^<]*)</del>", value)
            after = re.search(r"<ins>([^<]*)</ins>", value)
            found[unescape(label)] = (
                unescape(before[1]) if before else "",
                unescape(after[1]) if after else "",
            )
        shown.append(
            Shown(
                unescape(environment[1]) if environment else "",
                unescape(said[1]) if said else "",
                found,
                unescape(reason[1]) if reason else "",
                unescape(restore[1]) if restore else "",
            )
        )
    return shown


def link(page: str, attribute: str, value: str | None = None) -> str:
    """The href of the history panel's link carrying `attribute` (with `value`)."""
    for found in parse(page).links:
        if attribute in found.attrs and (value is None or found.attrs[attribute] == value):
            return unescape(found.href)
    raise AssertionError(f"no link {attribute}={value}")


async def edited(
    client: httpx.AsyncClient, made: FeatureFlag, environment: str, **fields: str
) -> None:
    """Edit an environment's state through its card's Edit link and the form it opens."""
    page = await flag_page(client, made)
    url = next(
        found.href for found in parse(card(page, environment)).links if "data-edit" in found.attrs
    )
    body = await edit_form(client, url)
    body |= {name: [value] for name, value in fields.items()}
    saved = await client.post(url, data=body)
    assert saved.status_code == 302, refusals(saved.text)


async def changed_in_every_way(client: httpx.AsyncClient, made: FeatureFlag) -> None:
    """Production's rollout edited with a reason, production enabled, production copied
    into staging, staging's rollout edited."""
    await edited(client, made, "production", rollout_percentage="30", change_reason=WHY)
    await switch(client, made, "production", "enable")
    copied = await confirm(
        client, await copy_page(client, made, source="production", target="staging")
    )
    assert copied.status_code == 303
    await edited(client, made, "staging", rollout_percentage="55")


async def test_the_flags_page_lists_every_change_in_every_environment_newest_first(
    client: httpx.AsyncClient,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    await changed_in_every_way(client, flag)

    page = await flag_page(client, flag)
    shown = history(page)
    staging_only = history((await client.get(link(page, "data-history-pick", "Staging"))).text)

    assert [(s.environment, s.said) for s in shown] == [
        ("Staging", "Updated"),
        ("Staging", "Copied from Production"),
        ("Production", "Enabled"),
        ("Production", "Updated"),
    ]
    assert shown[0].changes == {"Rollout %": ("30%", "55%")}
    assert shown[1].changes == {
        "Rollout %": ("40%", "30%"),
        "Platforms": ("ios, android", "ios"),
    }
    assert shown[2].changes == {"Enabled": ("off", "on")}
    assert shown[3].changes == {"Rollout %": ("10%", "30%")}
    assert shown[3].reason == WHY
    assert [s.said for s in staging_only] == ["Updated", "Copied from Production"]
    assert {s.environment for s in staging_only} == {"Staging"}


async def test_a_long_history_is_paged_by_key(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    for number in range(45):
        action = "action:enable" if number % 2 == 0 else "action:disable"
        await trail.append(
            db,
            trail.SYSTEM,
            trail.Entry(
                action,
                "feature_flags",
                str(flag.id),
                {"enabled": number % 2 == 1, "revision": number + 1},
                {"enabled": number % 2 == 0, "revision": number + 2, "environment": "production"},
            ),
        )
    await db.commit()

    pages = [await flag_page(client, flag)]
    while 'data-history-page="older"' in pages[-1]:
        pages.append((await client.get(link(pages[-1], "data-history-page", "older"))).text)
    back = (await client.get(link(pages[1], "data-history-page", "newer"))).text
    numbers = [int(n) for page in pages for n in re.findall(r'data-version="(\d+)"', page)]

    assert [len(history(page)) for page in pages] == [20, 20, 5]
    assert numbers == sorted(set(numbers), reverse=True)
    assert len(numbers) == 45
    assert history(back) == history(pages[0])
    assert 'data-history-page="newer"' not in pages[0]
    assert "revision 46" in pages[0]
