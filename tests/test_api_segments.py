"""The segments management API (`/api/v1/admin/segments`) on both databases: every field
made, changed and read back; bad input refused with the Segments form's own messages and
nothing written; the roles' permissions, sign-in and CSRF; the audit entry of each change;
a change refreshing every flag using the segment (the feed's ETag moves); a segment in use
never deleted, the flags named; the list's pages; If-Match."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from flags.definition import problems
from models import AuditLog
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag
from tests import rows, staff
from tests.admin_views.test_flag_environments import state
from tests.test_api_flags import bearer, fresh

API = "/api/v1/admin/segments"
FEED = "/api/feature-flags/mobile/active"
EVERY_FIELD = {
    "name": "EU customers",
    "description": "Customers whose account is in the EU",
    "rules": [
        {"attribute": "country", "operator": "in", "values": ["DE", "FR"]},
        {"attribute": "tier", "operator": "gte", "values": [2]},
    ],
    "allow_list": ["u-1", "u-2"],
    "deny_list": ["u-9"],
}
"""A value for every field of a segment but its key, each different from `testers`'s."""


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    return await bearer(client, db, "superadmin")


@pytest.fixture
async def testers(db: AsyncSession) -> FlagSegment:
    """`testers`: user u-1 only, used by no flag."""
    made = FlagSegment(key="testers", name="Testers", allow_list=["u-1"])
    db.add(made)
    await db.commit()
    return made


@pytest.fixture
async def flag(db: AsyncSession, testers: FlagSegment) -> FeatureFlag:
    """`new-card`: on for everyone in `testers` in production, and for no one in `testers`
    in staging; development names no segment."""
    made = FeatureFlag(
        key="new-card",
        name="New card",
        enabled=True,
        rollout_percentage=Decimal(100),
        included_segments=["testers"],
    )
    db.add(made)
    await db.commit()
    staging, development = await state(db, made, "staging"), await state(db, made, "development")
    staging.included_segments, staging.excluded_segments = [], ["testers"]
    development.included_segments = []
    await db.commit()
    return made


async def stored(db: AsyncSession, segment: FlagSegment) -> FlagSegment:
    await db.commit()
    await db.refresh(segment)
    return segment


async def audited(db: AsyncSession, action: str) -> list[AuditLog]:
    return [e for e in await staff.audit_entries(db, action) if e.entity_type == "flag_segments"]


async def test_every_field_is_made_changed_and_read_back_and_each_change_audited(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str]
) -> None:
    made = await client.post(
        API,
        json={"key": "eu", "name": "EU", "rules": [], "allow_list": ["u-5"]},
        headers=boss,
    )
    changed = await client.patch(f"{API}/eu", json=EVERY_FIELD, headers=boss)
    read = await client.get(f"{API}/eu", headers=boss)
    [created] = await audited(db, "create")
    [updated] = await audited(db, "update")
    row = (await db.scalars(sa.select(FlagSegment).where(FlagSegment.key == "eu"))).one()

    assert made.status_code == 201, made.text
    assert (made.json()["name"], made.json()["allow_list"], made.json()["revision"]) == (
        "EU",
        ["u-5"],
        1,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert {name: body[name] for name in EVERY_FIELD} == EVERY_FIELD
    assert (body["key"], body["revision"], body["used_by"]) == ("eu", 2, [])
    assert body["url"].endswith(f"/admin/flag-segments/details/{row.id}")
    assert read.json() == body
    assert read.headers["etag"] == changed.headers["etag"] != made.headers["etag"]
    assert (row.name, row.rules, row.allow_list, row.deny_list) == (
        "EU customers",
        EVERY_FIELD["rules"],
        ["u-1", "u-2"],
        ["u-9"],
    )
    assert created.entity_id == str(row.id)
    assert created.after["key"] == "eu"
    assert updated.before["allow_list"] == ["u-5"]
    assert updated.after["allow_list"] == ["u-1", "u-2"]
    assert updated.after["deny_list"] == ["u-9"]


BAD = [
    ("rules", [{"attribute": "country", "operator": "like", "values": ["DE"]}]),
    ("rules", [{"attribute": "country", "operator": "in"}]),
    ("allow_list", [f"u-{n}" for n in range(10_001)]),
    ("key", "Not a key!"),
]


@pytest.mark.parametrize(("field", "value"), BAD, ids=["operator", "values", "too-many", "key"])
async def test_bad_input_gets_the_forms_own_message_and_nothing_is_written(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    testers: FlagSegment,
    field: str,
    value: Any,
) -> None:
    changed = await client.patch(f"{API}/testers", json={field: value}, headers=boss)
    made = await client.post(API, json={"key": "eu", "name": "EU", field: value}, headers=boss)

    for answer in (changed, made):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "invalid"
        assert answer.json()["fields"] == problems({field: value})
        assert answer.json()["message"].startswith("Nothing was changed.")
    row = await stored(db, testers)
    assert (row.revision, row.allow_list) == (1, ["u-1"])
    assert await db.scalar(sa.select(sa.func.count()).select_from(FlagSegment)) == 1
    assert await audited(db, "update") == await audited(db, "create") == []


CHECKED = [
    ({"key": "others"}, "key", "The key cannot change: flags name it."),
    ({"name": "Staff"}, "name", "Name is already used by another segment."),
    ({"name": None}, "name", "'name' cannot be null: leave it out to keep it."),
    ({"name": ""}, "name", "This field is required."),
    ({"colour": "red"}, "colour", "'colour': Extra inputs are not permitted."),
    ({"allow_list": "u-1"}, "allow_list", "'allow_list': Input should be a valid list."),
]


@pytest.mark.parametrize(("body", "field", "message"), CHECKED, ids=[c[1] for c in CHECKED])
async def test_the_screens_and_databases_rules_answer_per_field(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    testers: FlagSegment,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    db.add(FlagSegment(key="staff", name="Staff"))
    await db.commit()

    answer = await client.patch(f"{API}/testers", json=body, headers=boss)

    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == {field: message}
    row = await stored(db, testers)
    assert (row.key, row.name, row.revision) == ("testers", "Testers", 1)
    assert await audited(db, "update") == []


async def role(client: httpx.AsyncClient, db: AsyncSession, *permissions: str) -> dict[str, str]:
    """A bearer token of a staff member whose role holds only `permissions`: the default
    roles get their segment permissions from `migrate`, which the test databases skip."""
    name = f"role-{len(permissions)}-{permissions[0].replace(':', '-')}"
    await rows.insert(db, "roles", rows.role_row(name=name, permissions=list(permissions)))
    await db.commit()
    return await bearer(client, db, name)


async def test_who_may_read_change_and_delete_segments(
    client: httpx.AsyncClient, db: AsyncSession, testers: FlagSegment
) -> None:
    reader = await role(client, db, "flag_segments:view", "feature_flags:view")
    outsider = await role(client, db, "feature_flags:view")
    nobody = await client.get(f"{API}/testers")
    read = await client.get(f"{API}/testers", headers=reader)
    refused = [
        await client.patch(f"{API}/testers", json={"allow_list": []}, headers=reader),
        await client.post(API, json={"key": "new", "name": "New"}, headers=reader),
        await client.delete(f"{API}/testers", headers=reader),
    ]
    unseen = [
        await client.get(API, headers=outsider),
        await client.get(f"{API}/testers", headers=outsider),
        await client.patch(f"{API}/testers", json={"allow_list": []}, headers=outsider),
    ]

    assert nobody.status_code == 401
    assert read.status_code == 200
    assert read.json()["allow_list"] == ["u-1"]
    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert [answer.json()["message"].rsplit(" ", 1)[-1] for answer in refused] == [
        "flag_segments:edit.",
        "flag_segments:create.",
        "flag_segments:delete.",
    ]
    assert [answer.status_code for answer in unseen] == [403, 403, 403]
    assert unseen[0].json()["message"] == (
        "Your role may not view segments: it needs flag_segments:view."
    )
    assert (await stored(db, testers)).allow_list == ["u-1"]
    assert await db.scalar(sa.select(sa.func.count()).select_from(FlagSegment)) == 1


async def test_a_session_change_needs_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession, testers: FlagSegment
) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    without = await client.patch(f"{API}/testers", json={"allow_list": ["u-2"]})
    token = await staff.csrf_token(client)
    with_token = await client.patch(
        f"{API}/testers", json={"allow_list": ["u-2"]}, headers={"X-CSRF-Token": token}
    )

    assert (without.status_code, without.json()["error"]) == (403, "csrf_failed")
    assert with_token.status_code == 200, with_token.text
    assert (await stored(db, testers)).allow_list == ["u-2"]


async def test_changing_a_segments_rules_refreshes_every_flag_using_it(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    flag: FeatureFlag,
) -> None:
    asked = {"platform": "ios", "user_id": "u-2", "attr.country": "DE"}
    await app.state.flags.refresh(force=True)
    before = await client.get(FEED, params=asked)
    read = await client.get(f"{API}/testers", headers=boss)

    changed = await client.patch(
        f"{API}/testers",
        json={"rules": [{"attribute": "country", "operator": "in", "values": ["DE"]}]},
        headers=boss,
    )
    await app.state.flags.refresh(force=True)
    after = await client.get(FEED, params=asked)
    [entry] = await audited(db, "update")

    assert read.json()["used_by"] == [
        {"flag": "new-card", "environment": "staging", "how": "excluded"},
        {"flag": "new-card", "environment": "production", "how": "included"},
    ]
    assert changed.status_code == 200, changed.text
    assert "new-card" not in before.json()["flags"]
    assert "new-card" in after.json()["flags"]
    assert after.headers["etag"] != before.headers["etag"]
    assert (await fresh(db, flag)).revision == 2
    assert (await state(db, flag, "staging")).revision == 2
    assert entry.after["refreshed"] == "new-card (Staging, Production)"


async def test_a_segment_in_use_is_not_deleted_and_the_flags_are_named(
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: dict[str, str],
    flag: FeatureFlag,
    testers: FlagSegment,
) -> None:
    db.add(FlagSegment(key="unused", name="Unused"))
    await db.commit()

    refused = await client.delete(f"{API}/testers", headers=boss)
    deleted = await client.delete(f"{API}/unused", headers=boss)
    gone = await client.get(f"{API}/unused", headers=boss)
    [entry] = await audited(db, "delete")

    assert refused.status_code == 409, refused.text
    assert refused.json() == {
        "error": "conflict",
        "message": "Testers cannot be deleted: new-card (Staging, Production) use it. Take "
        "it out of their segments first.",
    }
    assert await stored(db, testers)
    assert deleted.status_code == 204, deleted.text
    assert gone.status_code == 404
    assert entry.before["key"] == "unused"


async def test_a_change_sent_with_an_old_etag_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], testers: FlagSegment
) -> None:
    held = (await client.get(f"{API}/testers", headers=boss)).headers["etag"]
    first = await client.patch(
        f"{API}/testers", json={"allow_list": ["u-2"]}, headers=boss | {"If-Match": held}
    )
    second = await client.patch(
        f"{API}/testers", json={"allow_list": ["u-3"]}, headers=boss | {"If-Match": held}
    )
    deleting = await client.delete(f"{API}/testers", headers=boss | {"If-Match": held})

    assert first.status_code == 200, first.text
    assert [second.status_code, deleting.status_code] == [412, 412]
    assert second.json()["error"] == "precondition_failed"
    assert (await stored(db, testers)).allow_list == ["u-2"]


async def test_the_list_pages_by_key(
    client: httpx.AsyncClient, db: AsyncSession, boss: dict[str, str], flag: FeatureFlag
) -> None:
    db.add_all([FlagSegment(key="alpha", name="Alpha"), FlagSegment(key="beta", name="Beta")])
    await db.commit()

    first = (await client.get(API, params={"limit": 2}, headers=boss)).json()
    rest = (await client.get(API, params={"after": first["next_after"]}, headers=boss)).json()
    bad = await client.get(API, params={"limit": 0}, headers=boss)

    assert [s["key"] for s in first["segments"]] == ["alpha", "beta"]
    assert [s["key"] for s in rest["segments"]] == ["testers"]
    assert [use["flag"] for use in rest["segments"][0]["used_by"]] == ["new-card", "new-card"]
    assert "next_after" not in rest
    assert bad.status_code == 400


async def test_an_unknown_segment_is_not_found(
    client: httpx.AsyncClient, boss: dict[str, str]
) -> None:
    answers = [
        await client.get(f"{API}/nope", headers=boss),
        await client.patch(f"{API}/nope", json={"name": "Nope"}, headers=boss),
        await client.delete(f"{API}/nope", headers=boss),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
