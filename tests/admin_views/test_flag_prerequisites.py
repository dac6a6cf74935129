"""Prerequisites on screen and at the doors: a flag's state requires other flags (or one of
their variants), chosen on its form; a chain of three is answered through to the feed and
OFREP; a choice that would make prerequisites go round is refused naming the path; a flag
others require is not deleted. Every step follows the forms as the pages render them."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.screens import field_error, token
from tests.admin_views.test_flag_environments import (
    audit,
    card,
    confirm,
    copy_page,
    edit_form,
    flag_page,
    fresh,
    shown,
    switch,
)
from tests.admin_views.test_four_eyes_edits import refusals
from tests.admin_views.test_record_actions import parse

FEED = "/api/feature-flags/mobile/active"
OFREP = "/ofrep/v1/evaluate/flags"


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def chain(db: AsyncSession) -> dict[str, FeatureFlag]:
    """`wallet` (variants old and new, everyone on new), `cards` and `payouts`: all on for
    the allow-listed u-1 (a rollout past 50% would need a second person for each edit)."""
    made = {
        "wallet": FeatureFlag(
            key="wallet",
            name="Wallet",
            enabled=True,
            rollout_percentage=Decimal(0),
            allow_list=["u-1", "u-2"],
            default_value="none",
            variants=[{"name": "old", "weight": 0}, {"name": "new", "weight": 100}],
        ),
        "cards": FeatureFlag(key="cards", name="Cards", enabled=True, allow_list=["u-1", "u-2"]),
        "payouts": FeatureFlag(
            key="payouts",
            name="Payouts",
            enabled=True,
            allow_list=["u-1", "u-2"],
            default_value="later",
        ),
    }
    db.add_all(made.values())
    await db.commit()
    return made


async def prerequisite_options(
    client: httpx.AsyncClient, flag: FeatureFlag, environment: str = "production"
) -> tuple[str, dict[str, tuple[str, bool]]]:
    """The card's Edit form's URL, and its prerequisites select's options: each label's
    value, and whether the option is shown."""
    page = await flag_page(client, flag)
    links = parse(card(page, environment)).links
    url = next(link.href for link in links if "data-edit" in link.attrs)
    form = (await client.get(url)).text
    select = re.search(r'<select[^>]*name="prerequisites".*?</select>', form, re.S)
    assert select, "no prerequisites on the form"
    options = re.findall(r'<option([^>]*)value="([^"]+)"([^>]*)>([^<]+)<', select[0])
    return url, {
        label.strip(): (value, "hidden" not in before + after)
        for before, value, after, label in options
    }


async def require(
    client: httpx.AsyncClient, flag: FeatureFlag, *choices: str, environment: str = "production"
) -> httpx.Response:
    """The card's Edit, its prerequisites select set to the options labelled `choices`
    (shown or not: a hidden one is posted as a tampered form would)."""
    url, options = await prerequisite_options(client, flag, environment)
    offered = {label: value for label, (value, _shown) in options.items()}
    body = await edit_form(client, url)
    body["prerequisites"] = [offered[choice] for choice in choices]
    return await client.post(url, data=body)


async def test_a_three_flag_chain_reaches_the_feed_and_fails_as_targeting(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    chain: dict[str, FeatureFlag],
) -> None:
    payouts = await require(client, chain["payouts"], "cards is on")
    cards = await require(client, chain["cards"], "wallet gives new")
    await app.state.flags.refresh()
    on = (await client.get(FEED, params={"user_id": "u-1"})).json()["flags"]

    await switch(client, chain["wallet"], "production", "disable")
    await app.state.flags.refresh()
    off = (await client.get(FEED, params={"user_id": "u-1"})).json()["flags"]
    answer = (
        await client.post(f"{OFREP}/payouts", json={"context": {"targetingKey": "u-1"}})
    ).json()

    assert [payouts.status_code, cards.status_code] == [302, 302], refusals(cards.text)
    assert sorted(on) == ["cards", "payouts", "wallet"]
    assert off == {}
    assert (answer["value"], answer["reason"]) == ("later", "TARGETING_MATCH")
    assert (await fresh(db, chain["cards"])).prerequisites == [{"flag": "wallet", "variant": "new"}]
    assert not (await fresh(db, chain["wallet"])).enabled
    cards_page = await flag_page(client, chain["cards"])
    assert shown(card(cards_page, "production"), "prerequisites") == "wallet gives new"
    [entry, _] = await audit(db, "update", "feature_flags")
    assert entry.after["prerequisites"] == [{"flag": "cards"}]


async def test_a_prerequisite_that_would_go_round_is_refused_naming_the_path(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, chain: dict[str, FeatureFlag]
) -> None:
    await require(client, chain["payouts"], "cards is on")
    await require(client, chain["cards"], "wallet is on")

    refused = await require(client, chain["wallet"], "payouts is on")
    itself = await require(client, chain["wallet"], "wallet is on")

    assert refused.status_code == 400
    assert field_error(
        refused.text,
        "Prerequisites would go round in Production: wallet → payouts → cards → wallet. A flag "
        "cannot end up requiring itself.",
    )
    assert field_error(itself.text, "wallet cannot require itself.")
    assert (await fresh(db, chain["wallet"])).prerequisites == []
    assert len(await audit(db, "update", "feature_flags")) == 2


@pytest.mark.parametrize("environment", ["production", "staging"])
async def test_a_flags_form_never_offers_the_flag_itself_as_a_prerequisite(
    client: httpx.AsyncClient, boss: staff.Account, chain: dict[str, FeatureFlag], environment: str
) -> None:
    _url, options = await prerequisite_options(client, chain["wallet"], environment)

    shown = sorted(label for label, (_value, visible) in options.items() if visible)
    assert shown == ["cards is on", "payouts is on"]
    assert not options["wallet is on"][1]
    assert not options["wallet gives new"][1]


async def test_a_flag_others_require_is_not_archived_nor_its_variant_renamed(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, chain: dict[str, FeatureFlag]
) -> None:
    await require(client, chain["cards"], "wallet is on")
    await require(client, chain["payouts"], "wallet gives old", environment="staging")
    pk = chain["wallet"].id

    answer = await client.post(
        f"/admin/feature-flags/action/archive?pks={pk}",
        data={"csrf_token": await token(client)},
    )
    listing = await client.get(answer.headers["location"])
    edit = next(
        link.href
        for link in parse(card(await flag_page(client, chain["wallet"]), "production")).links
        if "data-edit" in link.attrs
    )
    body = await edit_form(client, edit)
    body["variants-0-name"] = ["legacy"]
    renamed = await client.post(edit, data=body)

    assert (
        "wallet cannot be archived: cards (Production), payouts (Staging) require it. Remove it "
        "from their prerequisites first." in listing.text
    )
    await db.commit()
    assert await db.scalar(sa.select(FeatureFlag.archived_at).where(FeatureFlag.id == pk)) is None
    assert await audit(db, "action:archive", "feature_flags") == []
    assert renamed.status_code == 400
    assert field_error(
        renamed.text,
        "payouts (Staging) require a variant of wallet by a name this drops: keep it, or change "
        "their prerequisites first.",
    )
    assert [v["name"] for v in (await fresh(db, chain["wallet"])).variants] == ["old", "new"]


async def test_a_copy_that_would_make_prerequisites_go_round_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, chain: dict[str, FeatureFlag]
) -> None:
    await require(client, chain["payouts"], "wallet is on")
    await require(client, chain["wallet"], "payouts is on", environment="staging")
    page = await copy_page(client, chain["wallet"], source="staging", target="production")

    refused = await confirm(client, page)
    landed = await client.get(refused.headers["location"])

    assert (
        "wallet cannot be copied: Prerequisites would go round in Production: wallet → payouts "
        "→ wallet." in unescape(landed.text)
    )
    assert (await fresh(db, chain["wallet"])).prerequisites == []
    assert await audit(db, "action:copy", "feature_flags") == []
