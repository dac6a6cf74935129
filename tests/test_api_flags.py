"""The flags management API (`/api/v1/admin/flags`) on both databases: every field changed
through PATCH, in production (the flag's own fields too) and in another environment; bad
input refused with the flag form's own messages and nothing written; the roles'
permissions, sign-in and CSRF; the audit entry; four eyes (202), unmarking review included,
and the kill switch that never waits; the list's pages and filters; create, with every field
the OpenAPI document allows; If-Match."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from flags.definition import problems
from models import AuditLog
from models.approvals import ApprovalRequest
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState
from tests import staff

API = "/api/v1/admin/flags"
FEED = "/api/feature-flags/mobile/active"
REASON = "Release train 4.3 goes out today"
EVERY_FIELD = {
    "enabled": True,
    "rollout_percentage": 30,
    "platforms": ["ios", "android"],
    "min_app_version": "4.2.0",
    "max_app_version": "5.0.0",
    "allow_list": ["u-1", "u-2"],
    "deny_list": ["u-9"],
    "rules": [{"attribute": "country", "operator": "in", "values": ["US", "CA"]}],
    "variants": [
        {"name": "red", "weight": 25, "payload": "#f00"},
        {"name": "blue", "weight": 75, "payload": {"hex": "#00f"}},
    ],
    "default_value": {"banner": False},
    "starts_at": "2026-12-01T09:00:00Z",
    "ends_at": "2027-01-01T00:00:00Z",
    "included_segments": ["testers"],
    "excluded_segments": [],
    "prerequisites": [{"flag": "wallet"}],
}
"""A value for every field of a state, each different from `checkout`'s."""
FLAG_OWN = {
    "name": "Checkout v2",
    "description": "The new checkout",
    "flag_type": "experiment",
    "requires_review": True,
}
"""A value for every field of the flag itself (shared by its environments), each different
from `checkout`'s and from a new flag's default."""


async def bearer(client: httpx.AsyncClient, db: AsyncSession, role: str) -> dict[str, str]:
    return await bearer_of(client, await staff.make_staff(db, role))


async def bearer_of(client: httpx.AsyncClient, account: staff.Account) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/admin/auth/login", json={"email": account.email, "password": staff.PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    return await bearer(client, db, "superadmin")


@pytest.fixture
async def flag(db: AsyncSession) -> FeatureFlag:
    """`checkout`: on at 10% on iOS in production, with two variants (made through the
    ORM, so it has a state, off, in every other environment)."""
    made = FeatureFlag(
        key="checkout",
        name="Checkout",
        enabled=True,
        rollout_percentage=Decimal(10),
        platforms=["ios"],
        variants=[
            {"name": "red", "weight": 50, "payload": "#f00"},
            {"name": "blue", "weight": 50, "payload": "#00f"},
        ],
    )
    db.add(made)
    await db.commit()
    return made


async def fresh(db: AsyncSession, flag: FeatureFlag) -> FeatureFlag:
    await db.commit()
    await db.refresh(flag)
    return flag


async def audited(db: AsyncSession, entity_type: str) -> list[AuditLog]:
    return [e for e in await staff.audit_entries(db, "update") if e.entity_type == entity_type]


async def test_every_field_of_productions_state_changes_through_patch_and_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], flag: FeatureFlag
) -> None:
    db.add_all([FlagSegment(key="testers", name="Testers"), FeatureFlag(key="wallet", name="W")])
    await db.commit()
    answer = await client.patch(f"{API}/checkout", json=EVERY_FIELD | FLAG_OWN, headers=boss)
    read = await client.get(f"{API}/checkout", headers=boss)
    [entry] = await audited(db, "feature_flags")
    row = await fresh(db, flag)

    assert answer.status_code == 200, answer.text
    production = answer.json()["environments"]["production"]
    assert production == {
        **EVERY_FIELD,
        "rollout_percentage": "30.00",
        "starts_at": "2026-12-01T09:00:00Z",
        "ends_at": "2027-01-01T00:00:00Z",
        "revision": 2,
    }
    assert {name: answer.json()[name] for name in FLAG_OWN} == FLAG_OWN
    assert read.json() == answer.json()
    assert read.headers["etag"] == answer.headers["etag"]
    assert answer.json()["environments"]["staging"]["enabled"] is False
    assert (row.rollout_percentage, row.platforms, row.revision) == (
        Decimal("30.00"),
        ["ios", "android"],
        2,
    )
    assert (row.flag_type, row.requires_review) == ("experiment", True)
    assert entry.entity_id == str(flag.id)
    assert entry.before["rollout_percentage"] == "10.00"
    assert entry.after["rollout_percentage"] == "30.00"
    assert {name: entry.before[name] for name in FLAG_OWN} == {
        "name": "Checkout",
        "description": "",
        "flag_type": "release",
        "requires_review": False,
    }
    assert {name: entry.after[name] for name in FLAG_OWN} == FLAG_OWN


async def test_turning_review_off_waits_for_a_second_person_as_on_the_screen(
    client: httpx.AsyncClient, db: AsyncSession, flag: FeatureFlag
) -> None:
    flag.requires_review = True
    await db.commit()
    maker, checker = await bearer(client, db, "superadmin"), await bearer(client, db, "superadmin")

    no_reason = await client.patch(
        f"{API}/checkout", json={"requires_review": False}, headers=maker
    )
    asked = await client.patch(
        f"{API}/checkout", json={"requires_review": False, "reason": REASON}, headers=maker
    )
    waiting = (await fresh(db, flag)).requires_review
    request = asked.json()["approval_request"]
    approved = await client.post(
        f"/api/v1/admin/approvals/{request['id']}/approve", json={}, headers=checker
    )
    [entry] = await audited(db, "feature_flags")

    assert no_reason.status_code == 422
    assert "is marked as needing review" in no_reason.json()["fields"]["reason"]
    assert asked.status_code == 202, asked.text
    assert waiting is True
    assert approved.status_code == 200, approved.text
    assert (await fresh(db, flag)).requires_review is False
    assert (entry.before["requires_review"], entry.after["requires_review"]) == (True, False)
    assert entry.after["reason"] == REASON


async def test_another_environments_state_changes_on_its_own(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], flag: FeatureFlag
) -> None:
    db.add_all([FlagSegment(key="testers", name="Testers"), FeatureFlag(key="wallet", name="W")])
    await db.commit()
    asked = EVERY_FIELD | {
        "variants": [{"name": "blue", "weight": 90}, {"name": "red", "weight": 10}]
    }
    answer = await client.patch(
        f"{API}/checkout", json=asked | {"environment": "staging"}, headers=boss
    )
    renamed = await client.patch(
        f"{API}/checkout",
        json={"environment": "staging", "variants": [{"name": "green", "weight": 100}]},
        headers=boss,
    )
    shared = await client.patch(
        f"{API}/checkout", json={"environment": "staging", "name": "Other"}, headers=boss
    )
    [entry] = await audited(db, "flag_environment_states")

    assert answer.status_code == 200, answer.text
    staging = answer.json()["environments"]["staging"]
    assert (staging["enabled"], staging["rollout_percentage"], staging["variants"]) == (
        True,
        "30.00",
        [{"name": "blue", "weight": 90}, {"name": "red", "weight": 10}],
    )
    assert answer.json()["environments"]["production"]["rollout_percentage"] == "10.00"
    assert entry.after["environment"] == "staging"
    assert renamed.status_code == 422
    assert "Keep the flag's variant names (red, blue)" in renamed.json()["fields"]["variants"]
    assert shared.status_code == 422
    assert "shared by every environment" in shared.json()["fields"]["name"]
    assert (await fresh(db, flag)).revision == 1


BAD = [
    ("rules", [{"attribute": "country", "operator": "like", "values": ["US"]}]),
    ("variants", [{"name": "red", "weight": -1}, {"name": "blue", "weight": 1}]),
    ("min_app_version", "four"),
    ("platforms", ["tv"]),
]


@pytest.mark.parametrize(("field", "value"), BAD, ids=[f for f, _ in BAD])
async def test_bad_input_gets_the_forms_own_message_and_nothing_is_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    flag: FeatureFlag,
    field: str,
    value: Any,
) -> None:
    answer = await client.patch(f"{API}/checkout", json={field: value}, headers=boss)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid"
    assert answer.json()["fields"] == problems({field: value})
    assert (await fresh(db, flag)).revision == 1
    assert await audited(db, "feature_flags") == []


CHECKED = [
    (
        {"rollout_percentage": 150},
        "rollout_percentage",
        "Rollout must be between 0 and 100 percent.",
    ),
    (
        {"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"},
        "ends_at",
        "The end must come after the start.",
    ),
    ({"key": "other"}, "key", "The key cannot change once the app uses it."),
    ({"max_app_version": "1.0.0", "min_app_version": "2.0.0"}, "max_app_version", None),
    ({"enabled": None}, "enabled", "'enabled' cannot be null: leave it out to keep it."),
    ({"colour": "red"}, "colour", "'colour': Extra inputs are not permitted."),
]


@pytest.mark.parametrize(("body", "field", "message"), CHECKED, ids=[c[1] for c in CHECKED])
async def test_the_screens_and_databases_rules_answer_per_field(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    flag: FeatureFlag,
    body: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    answer = await client.patch(f"{API}/checkout", json=body, headers=boss)

    assert answer.status_code == 422, answer.text
    said = answer.json()["fields"][field]
    assert said == (message or problems(body).get(field, said))
    assert (await fresh(db, flag)).revision == 1


async def test_who_may_read_and_change_flags(
    client: httpx.AsyncClient, db: AsyncSession, flag: FeatureFlag
) -> None:
    reader = await bearer(client, db, "marketing")
    nobody = await client.patch(f"{API}/checkout", json={"enabled": False})
    read = await client.get(f"{API}/checkout", headers=reader)
    refused = await client.patch(f"{API}/checkout", json={"enabled": False}, headers=reader)
    refused_staging = await client.patch(
        f"{API}/checkout", json={"environment": "staging", "enabled": True}, headers=reader
    )
    made = await client.post(API, json={"key": "new", "name": "New"}, headers=reader)

    assert nobody.status_code == 401
    assert read.status_code == 200
    assert [refused.status_code, refused_staging.status_code, made.status_code] == [403] * 3
    assert refused.json()["message"].endswith("it needs feature_flags:edit.")
    assert refused_staging.json()["message"].endswith("it needs flag_environment_states:edit.")
    assert (await fresh(db, flag)).enabled is True


async def test_a_session_change_needs_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession, flag: FeatureFlag
) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "operations"))
    without = await client.patch(f"{API}/checkout", json={"rollout_percentage": 20})
    token = await staff.csrf_token(client)
    with_token = await client.patch(
        f"{API}/checkout", json={"rollout_percentage": 20}, headers={"X-CSRF-Token": token}
    )

    assert (without.status_code, without.json()["error"]) == (403, "csrf_failed")
    assert with_token.status_code == 200, with_token.text
    assert (await fresh(db, flag)).rollout_percentage == Decimal("20.00")


async def test_a_reviewed_flag_waits_for_a_second_person_but_its_kill_switch_never_does(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flag: FeatureFlag
) -> None:
    flag.requires_review = True
    await db.commit()
    maker, checker = await bearer(client, db, "superadmin"), await bearer(client, db, "superadmin")
    await app.state.flags.refresh(force=True)
    served = (await client.get(FEED, params={"user_id": "u-1", "platform": "ios"})).json()

    no_reason = await client.patch(
        f"{API}/checkout", json={"rollout_percentage": 40}, headers=maker
    )
    asked = await client.patch(
        f"{API}/checkout", json={"rollout_percentage": 40, "reason": REASON}, headers=maker
    )
    waiting = (await fresh(db, flag)).rollout_percentage
    request = asked.json()["approval_request"]
    approved = await client.post(
        f"/api/v1/admin/approvals/{request['id']}/approve", json={}, headers=checker
    )
    after_approval = (await fresh(db, flag)).rollout_percentage
    killed = await client.patch(f"{API}/checkout", json={"enabled": False}, headers=maker)
    await app.state.flags.refresh(force=True)
    served_after = (await client.get(FEED, params={"user_id": "u-1", "platform": "ios"})).json()

    assert no_reason.status_code == 422
    assert "a second person reviews changes" in no_reason.json()["fields"]["reason"]
    assert asked.status_code == 202, asked.text
    assert request["preview"] == "rollout %: 10% → 40%"
    assert waiting == Decimal("10.00")
    assert approved.status_code == 200, approved.text
    assert after_approval == Decimal("40.00")
    assert killed.status_code == 200, killed.text
    assert killed.json()["environments"]["production"]["enabled"] is False
    assert "checkout" in served["flags"] or served["flags"] == {}
    assert "checkout" not in served_after["flags"]
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 1


async def test_the_list_pages_by_key_and_filters(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], flag: FeatureFlag
) -> None:
    for key, kind, enabled in [("a-off", "experiment", False), ("b-on", "release", True)]:
        db.add(FeatureFlag(key=key, name=key, flag_type=kind, enabled=enabled))
    await db.commit()
    staging = await db.scalar(
        sa.select(FlagEnvironmentState)
        .join(FlagEnvironment)
        .where(FlagEnvironment.key == "staging", FlagEnvironmentState.flag_id == flag.id)
    )
    staging.enabled = True
    await db.commit()

    first = (await client.get(API, params={"limit": 2}, headers=boss)).json()
    rest = (await client.get(API, params={"after": first["next_after"]}, headers=boss)).json()
    on = (await client.get(API, params={"enabled": "true"}, headers=boss)).json()
    on_staging = (
        await client.get(API, params={"enabled": "true", "environment": "staging"}, headers=boss)
    ).json()
    experiments = (await client.get(API, params={"flag_type": "experiment"}, headers=boss)).json()
    unknown = await client.get(API, params={"enabled": "true", "environment": "qa"}, headers=boss)

    assert [f["key"] for f in first["flags"]] == ["a-off", "b-on"]
    assert [f["key"] for f in rest["flags"]] == ["checkout"]
    assert "next_after" not in rest
    assert [f["key"] for f in on["flags"]] == ["b-on", "checkout"]
    assert [f["key"] for f in on_staging["flags"]] == ["checkout"]
    assert [f["key"] for f in experiments["flags"]] == ["a-off"]
    assert unknown.status_code == 400


async def test_a_flag_is_created_with_a_state_off_everywhere_else(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str]
) -> None:
    made = await client.post(
        API,
        json={"key": "dark-mode", "name": "Dark mode", "enabled": True, "rollout_percentage": 5},
        headers=boss,
    )
    bad = await client.post(API, json={"key": "Not a key!", "name": "x"}, headers=boss)
    [entry] = await staff.audit_entries(db, "create")

    assert made.status_code == 201, made.text
    states = made.json()["environments"]
    assert states["production"]["enabled"] is True
    assert {key: s["enabled"] for key, s in states.items() if key != "production"} == {
        "development": False,
        "staging": False,
    }
    assert entry.entity_type == "feature_flags"
    assert bad.status_code == 422
    assert bad.json()["fields"]["key"] == problems({"key": "not a key!"})["key"]


async def create_fields(client: httpx.AsyncClient) -> set[str]:
    """The fields the OpenAPI document allows in the body that creates a flag."""
    document = (await client.get("/api/openapi.json")).json()
    body = document["paths"][API]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return set(document["components"]["schemas"][name]["properties"])


async def test_a_flag_is_created_with_every_field_the_schema_allows(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    db.add_all([FlagSegment(key="testers", name="Testers"), FeatureFlag(key="wallet", name="W")])
    await db.commit()
    account = await staff.make_staff(db, "superadmin")
    maker, checker = await bearer_of(client, account), await bearer(client, db, "superadmin")
    asked = EVERY_FIELD | FLAG_OWN | {"key": "budget-digest", "reason": REASON}

    # On and marked for review: it is made once a second person approves it.
    waiting = await client.post(API, json=asked, headers=maker)
    request = waiting.json()["approval_request"]
    approved = await client.post(
        f"/api/v1/admin/approvals/{request['id']}/approve", json={}, headers=checker
    )
    read = await client.get(f"{API}/budget-digest", headers=maker)
    await db.commit()
    row = await db.scalar(sa.select(FeatureFlag).where(FeatureFlag.key == "budget-digest"))
    [entry] = await staff.audit_entries(db, "create")

    assert set(asked) == await create_fields(client)
    assert waiting.status_code == 202, waiting.text
    assert approved.status_code == 200, approved.text
    assert read.status_code == 200, read.text
    assert {name: read.json()[name] for name in FLAG_OWN} == FLAG_OWN
    assert read.json()["environments"]["production"] == {
        **EVERY_FIELD,
        "rollout_percentage": "30.00",
        "revision": 1,
    }
    stored = {name: getattr(row, name) for name in EVERY_FIELD | FLAG_OWN}
    assert stored == EVERY_FIELD | FLAG_OWN | {
        "rollout_percentage": Decimal("30.00"),
        "starts_at": datetime(2026, 12, 1, 9, tzinfo=UTC),
        "ends_at": datetime(2027, 1, 1, tzinfo=UTC),
    }
    assert (entry.entity_type, entry.entity_id) == ("feature_flags", str(row.id))
    assert {name: entry.after[name] for name in EVERY_FIELD | FLAG_OWN} == EVERY_FIELD | (
        FLAG_OWN
    ) | {
        "rollout_percentage": "30.00",
        "starts_at": "2026-12-01T09:00:00+00:00",
        "ends_at": "2027-01-01T00:00:00+00:00",
    }
    assert entry.after["key"] == "budget-digest"
    assert (entry.after["requested_by"], entry.after["reason"]) == (account.email, REASON)


async def test_a_change_sent_with_an_old_etag_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], flag: FeatureFlag
) -> None:
    read = await client.get(f"{API}/checkout", headers=boss)
    held = read.headers["etag"]
    first = await client.patch(
        f"{API}/checkout", json={"rollout_percentage": 20}, headers=boss | {"If-Match": held}
    )
    second = await client.patch(
        f"{API}/checkout", json={"rollout_percentage": 30}, headers=boss | {"If-Match": held}
    )

    assert first.status_code == 200, first.text
    assert second.status_code == 412
    assert (await fresh(db, flag)).rollout_percentage == Decimal("20.00")


async def test_an_unknown_flag_is_not_found(
    client: httpx.AsyncClient, boss: dict[str, str]
) -> None:
    answers = [
        await client.get(f"{API}/nope", headers=boss),
        await client.patch(f"{API}/nope", json={"enabled": False}, headers=boss),
    ]

    assert [a.status_code for a in answers] == [404, 404]
