"""A flag's history on its page, read from the audit trail: each change in every environment
newest first with who, when, why and its fields before → after, filtered by environment and
paged by key; "Restore this version" as a new, audited change (reviewed where an edit would
be), refused when it would change nothing and for roles that may not edit. Every step
follows the links and forms as the pages render them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from audit import trail
from models.approvals import ApprovalRequest
from models.flags import FeatureFlag
from tests import rows, staff
from tests.admin_views.screens import token
from tests.admin_views.test_flag_environments import (  # noqa: F401 - fixtures
    LAST_TWO,
    NOW,
    WAS,
    audit,
    boss,
    cadenced,
    changes,
    confirm,
    copy_page,
    edit_form,
    edited,
    flag,
    flag_page,
    fresh,
    left_alone,
    state,
    switch,
)
from tests.admin_views.test_flag_segments import FEED, U1, U2, new_segment, segment
from tests.admin_views.test_four_eyes_edits import approved, refusals
from tests.admin_views.test_record_actions import offered, parse

WHY = "Raising it for the beta group"


@dataclass(frozen=True)
class Shown:
    """One change as the history panel shows it."""

    environment: str
    said: str
    changes: dict[str, tuple[str, str]]
    reason: str
    restore: str
    left_alone: dict[str, str] = field(default_factory=dict)
    """Changes of long lists that name only the items that differ: how many others each
    leaves alone."""


def history(page: str) -> list[Shown]:
    panel = re.search(r'<div class="card mt-3" id="history">(.*)', page, re.S)
    assert panel, "no history on the page"
    shown = []
    for item in re.findall(r'<li class="list-group-item" data-version.*?</li>', panel[1], re.S):
        environment = re.search(r"data-history-environment>([^<]*)<", item)
        said = re.search(r"data-history-said>([^<]*)<", item)
        reason = re.search(r"data-history-reason>Why: ([^<]*)<", item)
        restore = re.search(r'href="([^"]*)" data-restore', item)
        found, alone = {}, {}
        for label, value in re.findall(
            r'data-history-change="[^"]*"><dt>([^<]*)</dt><dd>(.*?)</dd>', item, re.S
        ):
            before = re.search(r"<del>([^<]*)</del>", value)
            after = re.search(r"<ins>([^<]*)</ins>", value)
            found[unescape(label)] = (
                unescape(before[1]) if before else "",
                unescape(after[1]) if after else "",
            )
            if left := re.search(r"data-unchanged>\(([^<]*)\)<", value):
                alone[unescape(label)] = unescape(left[1])
        shown.append(
            Shown(
                unescape(environment[1]) if environment else "",
                unescape(said[1]) if said else "",
                found,
                unescape(reason[1]) if reason else "",
                unescape(restore[1]) if restore else "",
                alone,
            )
        )
    return shown


def link(page: str, attribute: str, value: str | None = None) -> str:
    """The href of the history panel's link carrying `attribute` (with `value`)."""
    for found in parse(page).links:
        if attribute in found.attrs and (value is None or found.attrs[attribute] == value):
            return unescape(found.href)
    raise AssertionError(f"no link {attribute}={value}")


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


async def test_a_change_to_one_of_many_variants_shows_those_variants_before_and_after(
    client: httpx.AsyncClient,
    boss: staff.Account,  # noqa: F811
    cadenced: FeatureFlag,  # noqa: F811
) -> None:
    await edited(client, cadenced, "production", **LAST_TWO)

    [shown] = history(await flag_page(client, cadenced))

    assert shown.changes == {"Variants": (WAS, NOW)}
    assert shown.left_alone == {"Variants": "2 others unchanged"}


async def test_a_change_to_a_long_list_names_the_items_added_and_removed(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
) -> None:
    testers = [f"customer-{number:04}" for number in range(12)]
    made = await new_segment(client, key="testers", name="Testers", allow_list=testers[0])
    pk = (await segment(db, "testers")).id
    for allowed in (testers, [*testers[1:], "customer-0099"]):
        edit = offered((await client.get(f"/admin/flag-segments/details/{pk}")).text)["Edit"]
        body = await edit_form(client, edit.href)
        body["allow_list"] = allowed
        assert (await client.post(edit.href, data=body)).status_code == 302

    swapped, added, _ = history((await client.get(f"/admin/flag-segments/details/{pk}")).text)

    assert made.status_code == 302
    assert swapped.changes == {"Allow list": ("customer-0000", "customer-0099")}
    assert swapped.left_alone == {"Allow list": "11 others unchanged"}
    assert added.changes == {"Allow list": ("—", " · ".join(testers[1:]))}
    assert added.left_alone == {"Allow list": "1 other unchanged"}


# -- Restore this version ------------------------------------------------------------------


async def restore_page(client: httpx.AsyncClient, made: FeatureFlag, number: int) -> str:
    """The restore page of the `number`th change shown (newest first), opened from its link
    on the flag's page."""
    here = f"http://testserver/admin/feature-flags/details/{made.id}"
    url = history(await flag_page(client, made))[number].restore
    assert url, f"change {number} offers no restore"
    page = await client.get(url, headers={"referer": here})
    assert page.status_code == 200, page.text[:300]
    return page.text


async def restore(client: httpx.AsyncClient, page: str, **extra: str) -> httpx.Response:
    form = next(f for f in parse(page).forms if "action_form" in f["fields"])
    return await client.post(unescape(form["action"]), data=form["fields"] | extra)


async def test_a_version_is_restored_as_a_new_audited_change(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    await changed_in_every_way(client, flag)
    offered = [bool(s.restore) for s in history(await flag_page(client, flag))]

    page = await restore_page(client, flag, 1)  # staging as the copy left it
    restored = await restore(client, page)
    landed = await client.get(restored.headers["location"])
    staged = await state(db, flag, "staging")
    [entry] = await audit(db, "action:restore", "flag_environment_states")
    again = await restore_page(client, flag, 2)  # the copy again: nothing would change

    assert offered == [False, True, False, True]  # each environment's newest is as it is now
    assert changes(page) == {"Rollout %": ("55%", "30%")}
    assert "as <strong>revision 2</strong> left it" in page
    assert restored.status_code == 303
    assert restored.headers["location"].endswith(f"/admin/feature-flags/details/{flag.id}")
    assert "Restore this version: done" in landed.text
    assert (staged.rollout_percentage, staged.revision) == (Decimal("30.00"), 4)
    assert entry.before == {"rollout_percentage": "55.00", "revision": 3}
    assert entry.after["rollout_percentage"] == "30.00"
    assert (entry.after["restored_version"], entry.after["environment"]) == (
        "revision 2",
        "staging",
    )
    assert history(landed.text)[0] == Shown(
        "Staging", "Restored revision 2", {"Rollout %": ("55%", "30%")}, "", ""
    )
    assert "is already as revision 2 left it: there is nothing to restore." in again
    assert 'name="action_form"' not in again


async def test_restoring_one_of_many_variants_shows_those_variants_now_and_restored(
    client: httpx.AsyncClient,
    boss: staff.Account,  # noqa: F811
    cadenced: FeatureFlag,  # noqa: F811
) -> None:
    await edited(client, cadenced, "production", rollout_percentage="30")
    await edited(client, cadenced, "production", **LAST_TWO)

    page = await restore_page(client, cadenced, 1)  # 30%, the variants as they were

    assert changes(page) == {"Variants": (NOW, WAS)}
    assert left_alone(page) == {"Variants": "2 others unchanged"}


async def test_a_restore_that_would_change_nothing_is_refused_and_nothing_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    await changed_in_every_way(client, flag)
    page = await restore_page(client, flag, 1)
    await edited(client, flag, "staging", rollout_percentage="30")

    refused = await restore(client, page)
    landed = await client.get(refused.headers["location"])

    assert refused.status_code == 303
    assert "is already as revision 2 left it: there is nothing to restore." in landed.text
    assert (await state(db, flag, "staging")).revision == 4
    assert await audit(db, "action:restore", "flag_environment_states") == []


async def test_a_restore_waits_for_a_second_person_where_an_edit_would(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    await edited(client, flag, "production", rollout_percentage="30")
    await edited(client, flag, "production", rollout_percentage="40")
    await switch(client, flag, "production", "enable")
    marked = await fresh(db, flag)
    marked.requires_review = True
    await db.commit()

    turning_off = await restore_page(client, flag, 1)  # revision 3: 40%, off
    reviewed = await restore_page(client, flag, 2)  # revision 2: 30%, off
    without_reason = await restore(client, reviewed)
    asked = await restore(client, reviewed, reason=WHY)
    unchanged = await fresh(db, flag)
    waiting = (unchanged.enabled, unchanged.rollout_percentage)
    await approved(app, db, asked.headers["location"])
    production = await fresh(db, flag)

    assert changes(turning_off) == {"Enabled": ("on", "off")}
    assert "a second person" not in turning_off
    assert "is marked as needing review: a second person reviews changes." in reviewed
    assert 'name="reason"' in reviewed
    assert "/admin/approval-requests/" not in without_reason.headers["location"]
    assert "/admin/approval-requests/details/" in asked.headers["location"]
    assert waiting == (True, Decimal("40.00"))
    [request] = list(await db.scalars(sa.select(ApprovalRequest)))
    assert request.preview == "Enabled: on → off; Rollout %: 40% → 30%"
    assert (production.enabled, production.rollout_percentage) == (False, Decimal("30.00"))
    [entry] = await audit(db, "action:restore", "feature_flags")
    assert (entry.after["requested_by"], entry.after["reason"]) == (boss.email, WHY)
    assert entry.after["restored_version"] == "revision 2"


async def test_a_role_that_may_not_edit_reads_the_history_but_cannot_restore(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
    flag: FeatureFlag,  # noqa: F811
) -> None:
    await changed_in_every_way(client, flag)
    page = await restore_page(client, flag, 1)
    await staff.signed_in(client, await staff.make_staff(db, "marketing"))

    shown = history(await flag_page(client, flag))
    form = next(f for f in parse(page).forms if "action_form" in f["fields"])
    refused = await client.post(
        unescape(form["action"]), data=form["fields"] | {"csrf_token": await token(client)}
    )

    assert len(shown) == 4
    assert not any(s.restore for s in shown)
    assert refused.status_code == 403
    assert (await state(db, flag, "staging")).rollout_percentage == Decimal("55.00")
    assert await audit(db, "action:restore", "flag_environment_states") == []


async def test_a_segments_page_lists_its_changes_too(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
) -> None:
    made = await new_segment(client, key="testers", name="Testers", allow_list="u-1")
    pk = (await segment(db, "testers")).id
    edit = offered((await client.get(f"/admin/flag-segments/details/{pk}")).text)["Edit"].href
    body = await edit_form(client, edit)
    body["allow_list"] = ["u-1", "u-2"]
    saved = await client.post(edit, data=body)

    shown = history((await client.get(f"/admin/flag-segments/details/{pk}")).text)

    assert (made.status_code, saved.status_code) == (302, 302)
    assert [(s.environment, s.said) for s in shown] == [("", "Updated"), ("", "Created")]
    assert shown[0].changes == {"Allow list": ("u-1", "u-1, u-2")}
    assert shown[1].changes["Key"] == ("", "testers")


# -- Restoring a segment -------------------------------------------------------------------


SEGMENTS = "/admin/flag-segments/list"
ASKED = {"platform": "ios", "user_id": U2, "attr.country": "DE"}
"""A user outside the segment's allow-list, in Germany."""


async def segment_page(client: httpx.AsyncClient) -> tuple[str, str]:
    """The page of the one segment, opened from its row on the segments list; its URL."""
    listing = (await client.get(SEGMENTS)).text
    [url] = {
        found.href for found in parse(listing).links if "/flag-segments/details/" in found.href
    }
    page = await client.get(url)
    assert page.status_code == 200, page.text[:300]
    return page.text, url


async def german_rule(client: httpx.AsyncClient) -> None:
    """The segment's Edit, a rule "country in DE" added in the rule builder's row, saved."""
    page, _ = await segment_page(client)
    edit = offered(page)["Edit"].href
    body = await edit_form(client, edit)
    body |= {"rules-0-attribute": ["country"], "rules-0-operator": ["in"], "rules-0-new": ["DE"]}
    saved = await client.post(edit, data=body)
    assert saved.status_code == 302, refusals(saved.text)


async def segment_restore_page(client: httpx.AsyncClient, number: int) -> str:
    """The restore page of the `number`th change on the segment's page (newest first),
    opened from its link there."""
    page, here = await segment_page(client)
    url = history(page)[number].restore
    assert url, f"change {number} offers no restore"
    opened = await client.get(url, headers={"referer": here})
    assert opened.status_code == 200, opened.text[:300]
    return opened.text


@pytest.fixture
async def used(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,  # noqa: F811
) -> FeatureFlag:
    """Segment `testers` (user U1 only) made on its screen, then given a rule "country in
    DE"; flag `new-card`, on for everyone in production, includes it in every environment
    (its other environments' states start as production's, off)."""
    made = await new_segment(client, key="testers", name="Testers", allow_list=U1)
    assert made.status_code == 302, refusals(made.text)
    new_card = FeatureFlag(
        key="new-card",
        name="New card",
        enabled=True,
        rollout_percentage=Decimal(100),
        included_segments=["testers"],
    )
    db.add(new_card)
    await db.commit()
    await german_rule(client)
    return new_card


async def test_a_segments_version_is_restored_and_every_flag_using_it_follows(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, used: FeatureFlag
) -> None:
    await app.state.flags.refresh(force=True)
    before = (await client.get(FEED, params=ASKED)).json()["flags"]
    revision = (await fresh(db, used)).revision
    offered_here = [bool(s.restore) for s in history((await segment_page(client))[0])]

    page = await segment_restore_page(client, 1)  # as made: no rules
    restored = await restore(client, page)
    landed = await client.get(restored.headers["location"])
    await app.state.flags.refresh(force=True)
    after = (await client.get(FEED, params=ASKED)).json()["flags"]
    row = await segment(db, "testers")
    [entry] = await audit(db, "action:restore", "flag_segments")

    assert offered_here == [False, True]
    assert changes(page) == {"Rules": ("Country is one of DE", "none")}
    assert "as <strong>revision 1</strong> left it" in page
    assert restored.status_code == 303
    assert restored.headers["location"].endswith(f"/admin/flag-segments/details/{row.id}")
    assert "Restore this version: done" in landed.text
    assert (row.rules, row.allow_list, row.revision) == ([], [U1], 3)
    assert entry.before == {
        "rules": [{"attribute": "country", "operator": "in", "values": ["DE"]}],
        "revision": 2,
    }
    assert entry.after["rules"] == []
    assert (entry.after["restored_version"], entry.after["refreshed"]) == (
        "revision 1",
        "new-card (Development, Staging, Production)",
    )
    assert (await fresh(db, used)).revision == revision + 1
    assert "new-card" in before
    assert "new-card" not in after
    assert history(landed.text)[0] == Shown(
        "", "Restored revision 1", {"Rules": ("Country is one of DE", "none")}, "", ""
    )


async def test_a_segment_restore_that_would_change_nothing_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, used: FeatureFlag
) -> None:
    page = await segment_restore_page(client, 1)
    segment_now, _ = await segment_page(client)
    edit = offered(segment_now)["Edit"].href
    body = {
        name: values
        for name, values in (await edit_form(client, edit)).items()
        if not name.startswith("rules-")
    }
    assert (await client.post(edit, data=body)).status_code == 302

    refused = await restore(client, page)
    landed = await client.get(refused.headers["location"])

    assert refused.status_code == 303
    assert "is already as revision 1 left it: there is nothing to restore." in landed.text
    assert (await segment(db, "testers")).revision == 3
    assert await audit(db, "action:restore", "flag_segments") == []


async def test_a_role_that_may_not_edit_segments_is_not_offered_a_restore_and_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, used: FeatureFlag
) -> None:
    page = await segment_restore_page(client, 1)
    await rows.insert(
        db, "roles", rows.role_row(name="segment-reader", permissions=["flag_segments:view"])
    )
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, "segment-reader"))

    shown = history((await segment_page(client))[0])
    form = next(f for f in parse(page).forms if "action_form" in f["fields"])
    refused = await client.post(
        unescape(form["action"]), data=form["fields"] | {"csrf_token": await token(client)}
    )

    assert len(shown) == 2
    assert not any(s.restore for s in shown)
    assert refused.status_code == 403
    row = await segment(db, "testers")
    assert (row.revision, len(row.rules)) == (2, 1)
    assert await audit(db, "action:restore", "flag_segments") == []
