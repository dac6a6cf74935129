"""Flag environments on screen: each environment's state side by side on the flag's page,
switched and edited there; copying a state between environments with its changes shown
first (and a second person for production where the flag's review rules say so); the
environments screen. Every step follows the links and forms as the pages render them."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from audit import trail
from flags.client_keys import create_key
from models import AuditLog
from models.approvals import ApprovalRequest
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState
from tests import staff
from tests.admin_views.screens import field_error, token
from tests.admin_views.test_four_eyes_edits import Rendered, approved, refusals
from tests.admin_views.test_record_actions import offered, parse

OFREP = "/ofrep/v1/evaluate/flags"
REASON = "Tried on staging all week"


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def flag(db: AsyncSession) -> FeatureFlag:
    """`checkout`, off at 10% on iOS in production; on at 40% on iOS and Android in
    staging; as made in development (off)."""
    made = FeatureFlag(
        key="checkout",
        name="Checkout",
        enabled=False,
        rollout_percentage=Decimal(10),
        platforms=["ios"],
        variants=[
            {"name": "red", "weight": 50, "payload": "#f00"},
            {"name": "blue", "weight": 50, "payload": "#00f"},
        ],
    )
    db.add(made)
    await db.commit()
    staged = await state(db, made, "staging")
    staged.enabled = True
    staged.rollout_percentage = Decimal(40)
    staged.platforms = ["ios", "android"]
    await db.commit()
    return made


CADENCES = {"weekly": 40, "daily": 30, "monthly": 20, "yearly": 10}
LAST_TWO = {"variants-2-weight": "25", "variants-3-weight": "5"}
"""The third and fourth variants' weights changed (monthly 20 → 25, yearly 10 → 5): the
variants as a whole, with their payloads, once read the same before and after, cut at 80
characters."""
WAS = "monthly 20 (cadence: monthly) · yearly 10 (cadence: yearly)"
NOW = "monthly 25 (cadence: monthly) · yearly 5 (cadence: yearly)"


@pytest.fixture
async def cadenced(db: AsyncSession) -> FeatureFlag:
    """`budget-digest`: variants weekly 40, daily 30, monthly 20 and yearly 10, each with its
    cadence as payload, in every environment."""
    made = FeatureFlag(
        key="budget-digest",
        name="Budget digest",
        variants=[
            {"name": name, "weight": weight, "payload": {"cadence": name}}
            for name, weight in CADENCES.items()
        ],
    )
    db.add(made)
    await db.commit()
    return made


async def state(db: AsyncSession, flag: FeatureFlag, key: str) -> FlagEnvironmentState:
    await db.commit()
    found = await db.scalars(
        sa.select(FlagEnvironmentState)
        .join(FlagEnvironment)
        .where(FlagEnvironmentState.flag_id == flag.id, FlagEnvironment.key == key)
        .execution_options(populate_existing=True)
    )
    return found.one()


async def fresh(db: AsyncSession, flag: FeatureFlag) -> FeatureFlag:
    await db.commit()
    await db.refresh(flag)
    return flag


async def flag_page(client: httpx.AsyncClient, flag: FeatureFlag, **params: str) -> str:
    page = await client.get(f"/admin/feature-flags/details/{flag.id}", params=params)
    assert page.status_code == 200, page.text[-500:]
    return page.text


def card(page: str, environment: str) -> str:
    """One environment's card on the flag's page."""
    found = re.search(
        rf'<div class="card h-100" data-environment="{environment}">(.*?)'
        r'(?=<div class="col-md-6 col-xl-4">'
        r'|</div>\s*</div>\s*</div>\s*(?:<div class="modal|</div>|$))',
        page,
        re.S,
    )
    assert found, f"no card for {environment}"
    return found[1]


def shown(card_html: str, field: str) -> str:
    found = re.search(rf'data-field="{field}"><dt>[^<]*</dt><dd>(.*?)</dd>', card_html, re.S)
    assert found, f"no {field} on the card"
    return " ".join(re.sub(r"<[^>]+>", "", found[1]).split())


async def switch(client: httpx.AsyncClient, flag: FeatureFlag, environment: str, name: str) -> str:
    """Press the card's on/off on the flag's page as staff.js does (a POST of the link, or
    of its dialog's Yes); the flag's page it lands back on."""
    here = f"http://testserver/admin/feature-flags/details/{flag.id}"
    page = await flag_page(client, flag)
    [link] = [link for link in parse(card(page, environment)).links if "data-switch" in link.attrs]
    assert link.attrs["data-switch"] == name
    href = link.href
    if link.attrs.get("data-bs-toggle") == "modal":
        dialog = link.attrs["data-bs-target"].removeprefix("#")
        found = re.search(rf'id="{dialog}".*?<a href="([^"]+)" class="btn btn-blue', page, re.S)
        assert found, f"no dialog {dialog}"
        href = found[1]
    answer = await client.post(
        unescape(href), data={"csrf_token": await token(client)}, headers={"referer": here}
    )
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"].endswith(httpx.URL(here).path)
    return (await client.get(answer.headers["location"])).text


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


def body_of(form: Rendered) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for name, value in form.values:
        body.setdefault(name, []).append(value)
    return body


async def edit_form(client: httpx.AsyncClient, url: str) -> dict[str, list[str]]:
    page = await client.get(url)
    assert page.status_code == 200, page.text[:300]
    form = Rendered(httpx.URL(url).path)
    form.feed(page.text)
    return body_of(form) | {"csrf_token": [await token(client)]}


async def audit(db: AsyncSession, action: str, entity_type: str) -> list[AuditLog]:
    await db.commit()
    return list(
        await db.scalars(
            sa.select(AuditLog)
            .where(AuditLog.action == action, AuditLog.entity_type == entity_type)
            .order_by(AuditLog.sequence)
        )
    )


# -- The flag's page ----------------------------------------------------------------------


async def test_the_flags_page_shows_each_environments_state_side_by_side(
    client: httpx.AsyncClient, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await flag_page(client, flag)

    assert re.findall(r'<div class="card h-100" data-environment="(\w+)"', page) == [
        "development",
        "staging",
        "production",
    ]
    staging, production = card(page, "staging"), card(page, "production")
    assert ">on</span>" in staging
    assert ">off</span>" in production
    assert shown(staging, "targeting") == "iOS, Android · 40% of users"
    assert shown(production, "targeting") == "iOS · 10% of users"
    assert shown(card(page, "development"), "variants") == "red 50 · blue 50"
    assert shown(production, "default_value") == "none"


async def test_each_environment_is_switched_on_and_off_from_its_card_and_audited(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
) -> None:
    key = await create_key(db, "ios-dev", trail.SYSTEM, "development")
    await db.commit()

    turned_on = await switch(client, flag, "development", "enable")
    await app.state.flags.refresh(force=True)
    answer = await client.post(
        f"{OFREP}/checkout",
        json={"context": {"targetingKey": "u-1", "platform": "ios"}},
        headers={"X-API-Key": key},
    )
    development = await state(db, flag, "development")
    turned_off = await switch(client, flag, "staging", "disable")

    assert ">on</span>" in card(turned_on, "development")
    assert development.enabled
    assert development.revision == 2
    assert answer.json()["reason"] != "DISABLED"
    assert ">off</span>" in card(turned_off, "staging")
    assert not (await state(db, flag, "staging")).enabled
    assert not (await fresh(db, flag)).enabled  # production is left as it was
    [enabled] = await audit(db, "action:enable", "flag_environment_states")
    [disabled] = await audit(db, "action:disable", "flag_environment_states")
    assert (enabled.after["environment"], enabled.after["enabled"]) == ("development", True)
    assert (disabled.after["environment"], disabled.after["enabled"]) == ("staging", False)
    assert enabled.entity_id == str(development.id)


async def test_productions_card_switches_the_flag_itself(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    turned_on = await switch(client, flag, "production", "enable")

    assert ">on</span>" in card(turned_on, "production")
    assert (await fresh(db, flag)).enabled
    [entry] = await audit(db, "action:enable", "feature_flags")
    assert entry.after["environment"] == "production"


async def test_a_state_is_edited_from_its_cards_link_and_the_change_audited(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await flag_page(client, flag)
    edit = next(link for link in parse(card(page, "staging")).links if "data-edit" in link.attrs)
    body = await edit_form(client, edit.href)
    body["rollout_percentage"] = ["55"]
    body["min_app_version"] = ["4.2.0"]

    saved = await client.post(edit.href, data=body)
    staged = await state(db, flag, "staging")
    [entry] = await audit(db, "update", "flag_environment_states")

    assert "/admin/flag-environment-states/edit/" in edit.href
    assert saved.status_code == 302, refusals(saved.text)
    assert (staged.rollout_percentage, staged.min_app_version) == (Decimal("55.00"), "4.2.0")
    assert staged.revision == 2
    assert entry.after["environment"] == "staging"
    assert entry.after["rollout_percentage"] == "55.00"
    assert (await fresh(db, flag)).rollout_percentage == Decimal("10.00")
    assert "/admin/feature-flags/edit/" in next(
        link.href for link in parse(card(page, "production")).links if "data-edit" in link.attrs
    )


BAD_STATES = {
    "rules": {"rules-0-attribute": "country", "rules-0-operator": "like", "rules-0-new": "US"},
    "variants": {"variants-0-weight": "-1"},
    "min_app_version": {"min_app_version": "four"},
    "max_app_version": {"min_app_version": "2.0.0", "max_app_version": "1.0.0"},
    "platforms": {"platforms": "tv"},
}
"""Fields filled in wrongly, by the inputs each posts (the builder's rows for rules and
variants: the flag has no rule, so row 0 is the blank one the form offers)."""


@pytest.mark.parametrize("field", BAD_STATES)
async def test_a_state_is_refused_with_the_flag_forms_own_message_and_nothing_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
    field: str,
) -> None:
    page = await flag_page(client, flag)
    links = {
        environment: next(
            link.href for link in parse(card(page, environment)).links if "data-edit" in link.attrs
        )
        for environment in ("staging", "production")
    }
    answers = {}
    for environment, url in links.items():
        body = await edit_form(client, url)
        body |= {name: [value] for name, value in BAD_STATES[field].items()}
        answers[environment] = await client.post(url, data=body)
    staged = await state(db, flag, "staging")

    assert [answer.status_code for answer in answers.values()] == [400, 400]
    assert refusals(answers["staging"].text) == refusals(answers["production"].text)
    assert refusals(answers["staging"].text)
    assert staged.revision == 1
    assert (await fresh(db, flag)).revision == 1
    assert await audit(db, "update", "flag_environment_states") == []


async def test_a_state_keeps_the_flags_variant_names(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await flag_page(client, flag)
    url = next(
        link.href for link in parse(card(page, "staging")).links if "data-edit" in link.attrs
    )
    form = (await client.get(url)).text
    body = await edit_form(client, url)
    body |= {"variants-0-weight": ["25"], "variants-1-weight": ["75"]}

    # The page shows the names read-only; a post that renames one anyway is refused.
    refused = await client.post(url, data=body | {"variants-1-name": ["green"]})
    weighted = await client.post(url, data=body)

    assert re.findall(r'name="variants-\d+-name" value="(\w+)"[^>]* readonly', form) == [
        "red",
        "blue",
    ]
    assert "Add variant" not in form
    assert refused.status_code == 400
    assert field_error(
        refused.text,
        "Keep the flag's variant names (red, blue): only weights and payloads differ between "
        "environments; add or rename variants on the flag itself.",
    )
    assert weighted.status_code == 302, refusals(weighted.text)
    assert (await state(db, flag, "staging")).variants == [
        {"name": "red", "weight": 25, "payload": "#f00"},
        {"name": "blue", "weight": 75, "payload": "#00f"},
    ]


async def test_the_preview_evaluates_in_the_environment_picked(
    client: httpx.AsyncClient, boss: staff.Account, flag: FeatureFlag
) -> None:
    asked = {"preview": "1", "user_id": "u-1", "platform": "android"}

    staging = await flag_page(client, flag, environment="staging", **asked)
    production = await flag_page(client, flag, environment="production", **asked)

    result = r'id="preview-result">(.*?)</div>'
    assert ">on<" in re.search(result, staging, re.S)[1]  # type: ignore[index]
    said = re.search(result, production, re.S)[1]  # type: ignore[index]
    assert "The flag is off here: nobody gets it." in said
    assert "(OFREP reason DISABLED)" in said
    assert 'id="preview-environment-name">Staging<' in staging
    assert '<option value="staging" selected>' in staging


# -- Copying a state ------------------------------------------------------------------------


async def copy_page(client: httpx.AsyncClient, flag: FeatureFlag, **picked: str) -> str:
    """The copy's page from the flag's action bar; with `picked`, its pickers submitted."""
    link = offered(await flag_page(client, flag))["Copy state…"]
    page = await client.get(unescape(link.href))
    assert page.status_code == 200, page.text[:300]
    if picked:
        pickers = next(
            f
            for f in parse(page.text).forms
            if "pks" in f["fields"] and "action_form" not in f["fields"]
        )
        # The pickers' form has no action: it reloads the page it is on.
        here = pickers["action"] or httpx.URL(unescape(link.href)).path
        page = await client.get(here, params=pickers["fields"] | picked)
        assert page.status_code == 200, page.text[:300]
    return page.text


CHANGE_ROW = (
    r'<tr data-change="[^"]*"><td>([^<]*)(?:<div[^>]*data-unchanged>([^<]*)</div>)?</td>'
    r"<td[^>]*>([^<]*)</td><td[^>]*>→ ([^<]*)</td>"
)
"""A row of a page's changes: field, how many items it leaves alone, now, after."""


def changes(page: str) -> dict[str, tuple[str, str]]:
    """Each change on a copy's or restore's page: field → (now, after)."""
    rows = re.findall(CHANGE_ROW, page)
    return {unescape(field): (unescape(now), unescape(after)) for field, _, now, after in rows}


def left_alone(page: str) -> dict[str, str]:
    """The changes of long lists that name only the items that differ: field → how many
    others they leave alone."""
    rows = re.findall(CHANGE_ROW, page)
    return {unescape(field): unescape(left) for field, left, _, _ in rows if left}


async def confirm(client: httpx.AsyncClient, page: str, **extra: str) -> httpx.Response:
    form = next(f for f in parse(page).forms if "action_form" in f["fields"])
    return await client.post(unescape(form["action"]), data=form["fields"] | extra)


async def test_copying_staging_to_production_shows_each_change_then_makes_it(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
) -> None:
    page = await copy_page(client, flag)

    copied = await confirm(client, page)
    landed = await client.get(copied.headers["location"])
    production = await fresh(db, flag)
    [entry] = await audit(db, "action:copy", "feature_flags")

    assert changes(page) == {
        "Enabled": ("off", "on"),
        "Rollout %": ("10%", "40%"),
        "Platforms": ("ios", "ios, android"),
    }
    assert '<option value="staging" selected>' in page
    assert "Copy to Production" in page
    assert copied.status_code == 303
    assert copied.headers["location"].endswith(f"/admin/feature-flags/details/{flag.id}")
    assert "Copy state…: done for checkout." in landed.text
    assert production.enabled
    assert (production.rollout_percentage, production.platforms) == (
        Decimal("40.00"),
        ["ios", "android"],
    )
    assert production.revision == 2
    assert entry.after | entry.before == entry.after | {
        "enabled": False,
        "rollout_percentage": "10.00",
        "platforms": ["ios"],
        "revision": 1,
    }
    assert (entry.after["copied_from"], entry.after["environment"]) == ("staging", "production")
    assert ">on</span>" in card(landed.text, "production")


async def test_copying_into_staging_makes_the_state_and_its_own_audit_entry(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await copy_page(client, flag, source="production", target="staging")

    copied = await confirm(client, page)
    staged = await state(db, flag, "staging")
    [flag_entry] = await audit(db, "action:copy", "feature_flags")
    [state_entry] = await audit(db, "update", "flag_environment_states")

    assert changes(page)["Enabled"] == ("on", "off")
    assert copied.status_code == 303
    assert (staged.enabled, staged.rollout_percentage, staged.platforms) == (
        False,
        Decimal("10.00"),
        ["ios"],
    )
    assert not (await fresh(db, flag)).enabled
    assert flag_entry.after == {
        "copied_from": "production",
        "environment": "staging",
        "reason": None,
    }
    assert state_entry.entity_id == str(staged.id)
    assert state_entry.before["rollout_percentage"] == "40.00"
    assert state_entry.after["copied_from"] == "production"


async def test_a_copy_into_production_of_a_reviewed_flag_waits_for_a_second_person(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
) -> None:
    flag.requires_review = True
    await db.commit()
    page = await copy_page(client, flag)

    without_reason = await confirm(client, page)
    asked = await confirm(client, page, reason=REASON)
    waiting = (await fresh(db, flag)).enabled
    [request] = list(await db.scalars(sa.select(ApprovalRequest)))
    await approved(app, db, asked.headers["location"])
    production = await fresh(db, flag)

    assert "a second person reviews copies into production" in page
    assert 'name="reason"' in page
    assert without_reason.status_code == 303
    assert "/admin/approval-requests/" not in without_reason.headers["location"]
    assert "/admin/approval-requests/details/" in asked.headers["location"]
    assert not waiting
    assert (
        request.preview == "Enabled: off → on; Rollout %: 10% → 40%; Platforms: ios → ios, android"
    )
    assert (production.enabled, production.rollout_percentage) == (True, Decimal("40.00"))
    [entry] = await audit(db, "action:copy", "feature_flags")
    assert entry.after["requested_by"] == boss.email


async def test_a_copy_that_only_turns_production_off_never_waits(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    flag.requires_review = True
    flag.enabled = True
    flag.rollout_percentage = Decimal(100)
    flag.platforms = ["ios", "android"]
    await db.commit()
    staged = await state(db, flag, "staging")
    staged.enabled = False
    staged.rollout_percentage = Decimal(100)
    await db.commit()

    page = await copy_page(client, flag)
    copied = await confirm(client, page)

    assert changes(page) == {"Enabled": ("on", "off")}
    assert "a second person" not in page
    assert copied.status_code == 303
    assert not (await fresh(db, flag)).enabled


async def test_a_copy_of_states_changed_since_they_were_shown_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await copy_page(client, flag)
    staged = await state(db, flag, "staging")
    staged.rollout_percentage = Decimal(20)
    await db.commit()

    refused = await confirm(client, page)
    landed = await client.get(refused.headers["location"])

    assert "changed in Staging or Production since the changes were shown" in landed.text
    assert (await fresh(db, flag)).revision == 1
    assert await audit(db, "action:copy", "feature_flags") == []


async def test_a_copy_of_one_of_many_variants_shows_that_variant_now_and_after(
    client: httpx.AsyncClient, boss: staff.Account, cadenced: FeatureFlag
) -> None:
    await edited(client, cadenced, "staging", **LAST_TWO)

    page = await copy_page(client, cadenced)

    assert changes(page) == {"Variants": (WAS, NOW)}
    assert left_alone(page) == {"Variants": "2 others unchanged"}


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("staging", "staging", "Pick two different environments."),
        ("qa", "production", "There is no environment &#39;qa&#39;."),
    ],
    ids=["same environment", "unknown environment"],
)
async def test_a_copy_asked_wrongly_is_refused_on_its_page_and_nothing_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
    source: str,
    target: str,
    message: str,
) -> None:
    page = await copy_page(client, flag)

    refused = await confirm(client, page, source=source, target=target)

    assert refused.status_code == 400
    assert message in refused.text
    assert (await fresh(db, flag)).revision == 1
    assert (await state(db, flag, "staging")).revision == 1
    assert await audit(db, "action:copy", "feature_flags") == []


async def test_nothing_to_copy_is_said_and_no_copy_offered(
    client: httpx.AsyncClient, boss: staff.Account, flag: FeatureFlag
) -> None:
    page = await copy_page(client, flag, source="development", target="production")

    assert "checkout is the same in Development and Production: there is nothing to copy." in page
    assert 'name="action_form"' not in page


# -- The environments screen ---------------------------------------------------------------


async def test_an_environment_added_on_its_screen_gives_every_flag_a_state_off(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    listing = await client.get("/admin/flag-environments/list")
    new = next(link.href for link in parse(listing.text).links if link.href.endswith("/create"))
    body = await edit_form(client, new)
    body |= {"key": ["QA"], "name": ["Quality assurance"], "position": [""]}

    made = await client.post(new, data=body)
    qa = await db.scalar(sa.select(FlagEnvironment).where(FlagEnvironment.key == "qa"))
    page = await flag_page(client, flag)

    assert made.status_code == 302, refusals(made.text)
    assert qa is not None
    assert (qa.name, qa.position) == ("Quality assurance", 40)
    qa_state = await state(db, flag, "qa")
    assert (qa_state.enabled, qa_state.platforms) == (False, ["ios"])
    assert re.findall(r'<div class="card h-100" data-environment="(\w+)"', page)[-1] == "qa"
    [entry] = await audit(db, "create", "flag_environments")
    assert entry.after["key"] == "qa"


async def test_an_environment_is_renamed_but_its_key_never_changes(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    staging = await db.scalar(sa.select(FlagEnvironment).where(FlagEnvironment.key == "staging"))
    record = await client.get(f"/admin/flag-environments/details/{staging.id}")
    url = offered(record.text)["Edit"].href
    body = await edit_form(client, url)

    renamed = await client.post(url, data=body | {"name": ["Pre-production"]})
    rekeyed = await client.post(url, data=body | {"key": ["preprod"]})
    await db.refresh(staging)

    assert "Delete" not in offered(record.text)
    assert renamed.status_code == 302, refusals(renamed.text)
    assert rekeyed.status_code == 400
    assert field_error(
        rekeyed.text, "The key cannot change: app keys and FLAGS_ENVIRONMENT name it."
    )
    assert (staging.key, staging.name) == ("staging", "Pre-production")


async def test_an_environment_key_that_cannot_be_one_is_refused_and_nothing_made(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    listing = await client.get("/admin/flag-environments/list")
    new = next(link.href for link in parse(listing.text).links if link.href.endswith("/create"))
    body = await edit_form(client, new)

    refused = await client.post(new, data=body | {"key": ["no spaces"], "name": ["Spaces"]})

    assert refused.status_code == 400
    assert field_error(
        refused.text, "Use 1 to 40 lower-case letters, digits, dots, dashes or underscores."
    )
    assert await db.scalar(sa.select(sa.func.count()).select_from(FlagEnvironment)) == 3
