"""The rule builder: a flag's rules, variants and default value edited as rows on its form,
saved as the JSON the engine compiles and refused with `flags.definition`'s messages on the
field; the flag's page says them in words. Every form is the one the page renders, parsed
and posted as a browser without the script would (the blank row is how it adds one)."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from flags.definition import compile_flag
from models.approvals import ApprovalRequest
from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.screens import field_error
from tests.admin_views.test_flag_environments import (
    audit,
    card,
    changes,
    copy_page,
    edit_form,
    flag_page,
    fresh,
    shown,
    state,
)
from tests.admin_views.test_four_eyes_edits import approved, refusals
from tests.admin_views.test_record_actions import offered

EVERY_OPERATOR = [
    ("country", "in", "US, CA", ["US", "CA"]),
    ("country", "not_in", "FR", ["FR"]),
    ("language", "eq", "en", ["en"]),
    ("cohort", "neq", "beta", ["beta"]),
    ("app_version", "semver_gte", "4.3.0", ["4.3.0"]),
    ("app_version", "semver_lt", "5.0", ["5.0"]),
    ("age", "gte", "18", [18]),
    ("score", "lt", "2.5", [2.5]),
    ("email", "contains", "@swipesavvy.com", ["@swipesavvy.com"]),
]
"""(attribute, operator, values as typed, values as saved)."""


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def flag(db: AsyncSession) -> FeatureFlag:
    """`checkout`, on at 10% on iOS from 4.2.0, with two variants and no rule."""
    made = FeatureFlag(
        key="checkout",
        name="Checkout",
        enabled=True,
        rollout_percentage=Decimal(10),
        platforms=["ios"],
        min_app_version="4.2.0",
        variants=[
            {"name": "red", "weight": 50, "payload": "#f00"},
            {"name": "blue", "weight": 50, "payload": {"hex": "#00f"}},
        ],
    )
    db.add(made)
    await db.commit()
    return made


async def opened(client: httpx.AsyncClient, flag: FeatureFlag) -> tuple[str, dict[str, list[str]]]:
    """The flag's form from its page's Edit link: (where it posts, its values as rendered)."""
    url = offered(await flag_page(client, flag))["Edit"].href
    return url, await edit_form(client, url)


def blank_row(body: dict[str, list[str]], field: str) -> str:
    """The prefix of the blank row the form offers for adding one (`rules-3-`)."""
    numbers = {int(m[1]) for name in body if (m := re.match(rf"{field}-(\d+)-", name))}
    row = f"{field}-{max(numbers)}-"
    assert body[f"{row}{'attribute' if field == 'rules' else 'name'}"] == [""], "no blank row"
    return row


async def test_a_rule_of_every_operator_is_added_in_a_row_and_saved_as_the_engine_reads_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    for attribute, operator, typed, _ in EVERY_OPERATOR:
        url, body = await opened(client, flag)
        row = blank_row(body, "rules")
        body |= {f"{row}attribute": [attribute], f"{row}operator": [operator], f"{row}new": [typed]}
        saved = await client.post(url, data=body)
        assert saved.status_code == 302, (operator, refusals(saved.text))
    added = (await fresh(db, flag)).rules

    url, body = await opened(client, flag)
    again = await client.post(url, data=body)  # saved as rendered: kept tags keep their type
    kept = (await fresh(db, flag)).rules

    expected = [
        {"attribute": attribute, "operator": operator, "values": values}
        for attribute, operator, _, values in EVERY_OPERATOR
    ]
    assert added == expected
    assert again.status_code == 302, refusals(again.text)
    assert kept == expected
    assert [type(rule["values"][0]) for rule in kept][-3:-1] == [int, float]
    assert len(compile_flag(flag).rules) == len(EVERY_OPERATOR)


async def test_a_rule_is_removed_by_clearing_its_row_and_a_tag_by_unticking_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    flag.rules = [
        {"attribute": "country", "operator": "in", "values": ["US", "CA", "MX"]},
        {"attribute": "age", "operator": "gte", "values": [18]},
    ]
    await db.commit()
    url, body = await opened(client, flag)
    body["rules-0-value"] = [v for v in body["rules-0-value"] if v != '"CA"']
    body |= {"rules-1-attribute": [""], "rules-1-value": []}

    saved = await client.post(url, data=body)

    assert saved.status_code == 302, refusals(saved.text)
    assert (await fresh(db, flag)).rules == [
        {"attribute": "country", "operator": "in", "values": ["US", "MX"]}
    ]


async def test_variants_are_reweighted_and_one_added_with_a_json_payload(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    url, body = await opened(client, flag)
    row = blank_row(body, "variants")
    body |= {"variants-0-weight": ["30"], "variants-1-weight": ["40"]}
    body |= {f"{row}name": ["green"], f"{row}weight": ["30"], f"{row}payload": ['{"hex": "#0f0"}']}
    body["default_value"] = ['{"hex": "#888"}']

    saved = await client.post(url, data=body)
    changed = await fresh(db, flag)

    assert saved.status_code == 302, refusals(saved.text)
    assert changed.variants == [
        {"name": "red", "weight": 30, "payload": "#f00"},
        {"name": "blue", "weight": 40, "payload": {"hex": "#00f"}},
        {"name": "green", "weight": 30, "payload": {"hex": "#0f0"}},
    ]
    assert changed.default_value == {"hex": "#888"}


REFUSED = {
    "weights not 100": (
        {"variants-0-weight": ["60"]},
        "variants",
        "The weights must add up to 100 (they add up to 110).",
    ),
    "payload not JSON": (
        {"variants-1-payload": ['{"hex": ']},
        "variants",
        "Variant 2 (blue): This is not JSON: expecting value at line 1, column 9.",
    ),
    "version not a version": (
        {
            "rules-0-attribute": ["app_version"],
            "rules-0-operator": ["semver_gte"],
            "rules-0-new": ["four"],
        },
        "rules",
        "Rule 1: 'four' is not a version.",
    ),
    "number not a number": (
        {"rules-0-attribute": ["age"], "rules-0-operator": ["lt"], "rules-0-new": ["old"]},
        "rules",
        "Rule 1: 'old' is not a number.",
    ),
    "default value not JSON": (
        {"default_value": ["{nope"]},
        "default_value",
        "This is not JSON: expecting property name enclosed in double quotes at line 1, column 2.",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_wrong_row_is_refused_with_the_message_on_its_field_and_nothing_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
    case: str,
) -> None:
    changes, field, message = REFUSED[case]
    url, body = await opened(client, flag)

    refused = await client.post(url, data=body | changes)

    assert refused.status_code == 400
    assert field_error(refused.text, message), refusals(refused.text)
    assert re.search(rf'data-field="{field}">.*?class="invalid-feedback">', refused.text, re.S), (
        "the message is not under its field"
    )
    assert (await fresh(db, flag)).revision == 1
    assert await audit(db, "update", "feature_flags") == []


async def test_a_payload_that_is_not_json_is_shown_back_as_typed_with_its_message_in_place(
    client: httpx.AsyncClient, boss: staff.Account, flag: FeatureFlag
) -> None:
    url, body = await opened(client, flag)

    refused = await client.post(url, data=body | {"variants-1-payload": ['{"hex": ']})

    box = re.search(
        r'name="variants-1-payload"[^>]*>\s*(.*?)</textarea>\s*<div[^>]*>(.*?)</div>',
        refused.text,
        re.S,
    )
    assert box, "no payload box for the blue variant"
    assert box[1] == "{&#34;hex&#34;: "
    assert box[2] == "This is not JSON: expecting value at line 1, column 9."


async def test_a_reviewed_flags_rows_wait_for_a_second_person_and_are_saved_as_posted(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
) -> None:
    flag.requires_review = True
    await db.commit()
    url, body = await opened(client, flag)
    row = blank_row(body, "rules")
    body |= {f"{row}attribute": ["country"], f"{row}new": ["US, CA"]}
    body |= {"variants-0-weight": ["20"], "variants-1-weight": ["80"]}
    body["change_reason"] = ["Only North America for the first week"]

    asked = await client.post(url, data=body)
    waiting = (await fresh(db, flag)).rules
    [request] = list(await db.scalars(sa.select(ApprovalRequest)))
    await approved(app, db, asked.headers["location"])
    changed = await fresh(db, flag)

    assert "/admin/approval-requests/details/" in asked.headers["location"]
    assert waiting == []
    assert "ules: none → Country is one of US, CA; " in request.preview
    assert "ariants: red 50 (#f00) · blue 50 (hex: #00f) → red 20 (#f00) · blue 80" in (
        request.preview
    )
    assert changed.rules == [{"attribute": "country", "operator": "in", "values": ["US", "CA"]}]
    assert [v["weight"] for v in changed.variants] == [20, 80]


async def test_the_flags_page_says_its_rules_variants_and_default_value_in_words(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    flag.rules = [
        {"attribute": "country", "operator": "in", "values": ["US", "CA"]},
        {"attribute": "age", "operator": "gte", "values": [18]},
    ]
    flag.allow_list = ["u-1", "u-2"]
    flag.default_value = {"hex": "#888", "sizes": [1, 2]}
    await db.commit()

    page = await flag_page(client, flag)
    production = card(page, "production")

    assert shown(production, "targeting") == (
        "Country is one of US, CA · Age at least 18 · iOS ≥ 4.2.0 · always 2 users · 10% of users"
    )
    assert shown(production, "variants") == "red 50 · blue 50"
    assert shown(production, "default_value") == "hex: #888, sizes: (1, 2)"
    assert shown(card(page, "staging"), "targeting") == "iOS ≥ 4.2.0 · 10% of users"
    details = page.split('id="flag-environments"')[0]
    assert "Country is one of US, CA · Age at least 18" in details
    assert not re.search(r"&#34;|\{&#|\[\{", page), "raw JSON on the flag's page"


async def test_a_copys_changes_say_rules_and_variants_in_words_payloads_included(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    staged = await state(db, flag, "staging")
    staged.rules = [{"attribute": "country", "operator": "in", "values": ["US"]}]
    staged.variants = [
        {"name": "red", "weight": 50, "payload": "#f00"},
        {"name": "blue", "weight": 50, "payload": {"hex": "#00a"}},
    ]
    await db.commit()

    page = await copy_page(client, flag)

    assert changes(page)["Rules"] == ("none", "Country is one of US")
    assert changes(page)["Variants"] == (
        "red 50 (#f00) · blue 50 (hex: #00f)",
        "red 50 (#f00) · blue 50 (hex: #00a)",
    )
