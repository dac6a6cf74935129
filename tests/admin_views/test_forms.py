"""Create and edit on every table that has forms: good input saves (and is audited), bad
input comes back with the message on the field, the other values kept, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from models import (
    AdminUser,
    AICampaign,
    AIModel,
    CampaignPerformance,
    FeatureFlag,
    Merchant,
    PaymentMethod,
    Role,
    RuntimeSetting,
    SupportTicket,
    TicketMessage,
    User,
    Wallet,
)
from tests import staff
from tests.admin_views.screens import audit_for, count, field_error, save
from tests.admin_views.test_four_eyes_edits import approved

Ids = dict[str, Any]


@dataclass
class Case:
    slug: str
    model: type[Any]
    valid: Callable[[Ids], dict[str, Any]]
    saved: Callable[[Any], bool]
    """What the saved row must look like."""
    edit: dict[str, Any] = field(default_factory=dict)
    edited: Callable[[Any], bool] = lambda row: True
    approved: bool = False
    """The create waits for a second staff member's approval (four eyes)."""
    bad: list[tuple[str, Callable[[Ids], dict[str, Any]], str, str]] = field(default_factory=list)
    """(name, overrides, field, message)."""


CASES = [
    Case(
        "users",
        User,
        lambda ids: {
            "email": " New.Customer@Example.com ",
            "phone": "+15559990000",
            "first_name": "Nia",
            "last_name": "Okafor",
            "date_of_birth": "1991-04-05",
            "country": "gb",
            "kyc_status": "pending",
            "email_verified": "y",
        },
        lambda u: (
            u.email == "new.customer@example.com" and u.country == "GB" and u.status == "active"
        ),
        edit={"kyc_status": "verified"},
        edited=lambda u: u.kyc_status == "verified",
        bad=[
            (
                "taken email",
                lambda ids: {"email": ids["user_email"]},
                "email",
                "Email is already used by another customer.",
            ),
            (
                "not an email",
                lambda ids: {"email": "nia at example"},
                "email",
                "Enter an email address, e.g. name@example.com.",
            ),
            (
                "country too long",
                lambda ids: {"country": "GBR"},
                "country",
                "Field cannot be longer than 2 characters.",
            ),
        ],
    ),
    Case(
        "admin-users",
        AdminUser,
        lambda ids: {
            "email": "new.agent@example.com",
            "full_name": "New Agent",
            "role": ids["support_role"],
            "is_active": "y",
            "new_password": "a long enough passphrase",
            "change_reason": "New hire on the support desk",
        },
        lambda a: a.email == "new.agent@example.com" and a.password_hash.startswith("$2b$"),
        edit={"full_name": "Renamed Agent", "new_password": "", "change_reason": ""},
        edited=lambda a: a.full_name == "Renamed Agent",
        bad=[
            (
                "no password",
                lambda ids: {"new_password": ""},
                "new_password",
                "A new staff account needs a password.",
            ),
            (
                "weak password",
                lambda ids: {"new_password": "short"},
                "new_password",
                "password is too short: use at least 12 characters.",
            ),
        ],
        approved=True,
    ),
    Case(
        "roles",
        Role,
        lambda ids: {
            "name": "Auditor",
            "description": "Reads the trail",
            "permissions": ["audit_logs:view"],
        },
        lambda r: r.name == "auditor" and r.permissions == ["audit_logs:view"],
        edit={"description": "Reads and exports the trail"},
        edited=lambda r: r.description.startswith("Reads and exports"),
        bad=[
            (
                "bad permission",
                lambda ids: {"permissions": ["audit_logs:read"]},
                "permissions",
                "Not a permission: audit_logs:read. Use <table>:<verb>, e.g. merchants:edit.",
            ),
        ],
    ),
    Case(
        "merchants",
        Merchant,
        lambda ids: {
            "name": "Harbor Bakery",
            "contact_email": "hello@harbor.example.com",
            "category": "dining",
            "cashback_rate": "2.50",
            "address": '{"city": "Portland"}',
            "tags": ["local"],
        },
        lambda m: (
            m.name == "Harbor Bakery"
            and m.status == "pending"
            and m.address == {"city": "Portland"}
        ),
        edit={"cashback_rate": "3.00"},
        edited=lambda m: str(m.cashback_rate) == "3.00",
        bad=[
            (
                "name too long",
                lambda ids: {"name": "x" * 201},
                "name",
                "Field cannot be longer than 200 characters.",
            ),
            (
                "cashback over 100",
                lambda ids: {"cashback_rate": "150"},
                "cashback_rate",
                "Cashback must be between 0 and 100 percent.",
            ),
            (
                "address not JSON",
                lambda ids: {"address": "{city: Portland"},
                "address",
                "Invalid JSON",
            ),
            (
                "taken email",
                lambda ids: {"contact_email": ids["merchant_email"]},
                "contact_email",
                "Contact email is already used by another merchant.",
            ),
        ],
    ),
    Case(
        "support-tickets",
        SupportTicket,
        lambda ids: {
            "user": ids["user"],
            "subject": "Card declined at the gym",
            "description": "Twice this morning.",
            "priority": "high",
            "category": "payments",
            "channel": "phone",
        },
        lambda t: (
            t.subject == "Card declined at the gym"
            and t.status == "open"
            and t.reference.startswith("TCK-")
        ),
        edit={"priority": "urgent"},
        edited=lambda t: t.priority == "urgent",
        bad=[
            ("no subject", lambda ids: {"subject": ""}, "subject", "This field is required."),
            (
                "unknown priority",
                lambda ids: {"priority": "whenever"},
                "priority",
                "Not a valid choice.",
            ),
        ],
    ),
    Case(
        "ticket-messages",
        TicketMessage,
        lambda ids: {"ticket": ids["ticket"], "body": "Following up by phone.", "is_internal": "y"},
        lambda m: m.author_type == "agent" and m.is_internal,
        edit={"body": "Followed up by phone."},
        edited=lambda m: m.body == "Followed up by phone.",
        bad=[("empty", lambda ids: {"body": ""}, "body", "This field is required.")],
    ),
    Case(
        "feature-flags",
        FeatureFlag,
        lambda ids: {
            "key": "Tap-To-Pay",
            "name": "Tap to pay",
            "description": "NFC payments",
            "flag_type": "release",
            "enabled": "y",
            "rollout_percentage": "12.50",
            "platforms": ["ios"],
            "default_value": "false",
        },
        lambda f: (
            f.key == "tap-to-pay" and str(f.rollout_percentage) == "12.50" and f.revision == 1
        ),
        edit={"rollout_percentage": "25"},
        edited=lambda f: str(f.rollout_percentage) == "25.00" and f.revision == 2,
        bad=[
            (
                "rollout over 100",
                lambda ids: {"rollout_percentage": "101"},
                "rollout_percentage",
                "Rollout must be between 0 and 100 percent.",
            ),
            (
                "unknown rule operator",
                lambda ids: {
                    "rules-0-attribute": "country",
                    "rules-0-operator": "like",
                    "rules-0-new": "US",
                },
                "rules",
                "Rule 1: operator must be one of contains, eq, gte, in, lt, neq, not_in, "
                "semver_gte, semver_lt.",
            ),
            (
                "variant weights that do not add up to 100",
                lambda ids: {
                    "variants-0-name": "a",
                    "variants-0-weight": "60",
                    "variants-1-name": "b",
                    "variants-1-weight": "30",
                },
                "variants",
                "The weights must add up to 100 (they add up to 90).",
            ),
            (
                "negative variant weight",
                lambda ids: {"variants-0-name": "a", "variants-0-weight": "-1"},
                "variants",
                "Variant 1: weight must be a whole number, 0 or more.",
            ),
            (
                "malformed version",
                lambda ids: {"min_app_version": "4.x-beta"},
                "min_app_version",
                "'4.x-beta' is not a version like 4.2.0.",
            ),
            (
                "version range upside down",
                lambda ids: {"min_app_version": "5.0.0", "max_app_version": "4.9.9"},
                "max_app_version",
                "The highest version is below the lowest.",
            ),
        ],
    ),
    Case(
        "ai-campaigns",
        AICampaign,
        lambda ids: {
            "name": "Coffee week",
            "description": "",
            "channel": "push",
            "audience": '{"countries": ["US"]}',
            "budget": "1500.00",
            "currency": "USD",
            "starts_at": "2027-01-04 09:00:00",
            "ends_at": "2027-01-11 09:00:00",
            "ai_model": ids["ai_model"],
        },
        lambda c: (c.name, c.status, str(c.budget)) == ("Coffee week", "draft", "1500.00"),
        edit={"budget": "2000"},
        edited=lambda c: str(c.budget) == "2000.00",
        bad=[
            (
                "negative budget",
                lambda ids: {"budget": "-5"},
                "budget",
                "Budget cannot be negative.",
            ),
            (
                "ends before it starts",
                lambda ids: {"ends_at": "2027-01-01 09:00:00"},
                "ends_at",
                "The end must come after the start.",
            ),
        ],
    ),
    Case(
        "campaign-performance",
        CampaignPerformance,
        lambda ids: {
            "campaign": ids["campaign"],
            "day": "2027-02-01",
            "impressions": "1000",
            "clicks": "40",
            "conversions": "4",
            "spend": "12.00",
            "revenue": "80.00",
        },
        lambda p: p.clicks == 40 and str(p.spend) == "12.00",
        edit={"conversions": "6"},
        edited=lambda p: p.conversions == 6,
        bad=[
            (
                "more clicks than impressions",
                lambda ids: {"clicks": "2000"},
                "clicks",
                "Clicks cannot exceed impressions.",
            ),
            ("negative spend", lambda ids: {"spend": "-1"}, "spend", "Money cannot be negative."),
        ],
    ),
    Case(
        "ai-models",
        AIModel,
        lambda ids: {
            "name": "reply-drafter",
            "provider": "internal",
            "version": "0.1.0",
            "purpose": "support_assistant",
            "status": "testing",
            "config": '{"temperature": 0.3}',
            "metrics": "{}",
        },
        lambda m: m.name == "reply-drafter" and m.config == {"temperature": 0.3},
        edit={"status": "active"},
        edited=lambda m: m.status == "active",
        bad=[("config not JSON", lambda ids: {"config": "{oops"}, "config", "Invalid JSON")],
    ),
    Case(
        "settings",
        RuntimeSetting,
        lambda ids: {
            "key": "support.greeting",
            "value": '"Hi there"',
            "description": "",
            "is_secret": "",
        },
        lambda s: s.key == "support.greeting" and s.value == "Hi there",
        edit={"description": "Shown in replies"},
        edited=lambda s: s.description == "Shown in replies",
        bad=[
            (
                "taken key",
                lambda ids: {"key": ids["setting_key"]},
                "key",
                "Key is already used by another setting.",
            ),
        ],
    ),
    Case(
        "wallets",
        Wallet,
        lambda ids: {"user": ids["user"], "currency": "MXN"},
        lambda w: w.currency == "MXN" and str(w.balance) == "0.00" and w.status == "active",
        bad=[
            (
                "unknown currency",
                lambda ids: {"currency": "XYZ"},
                "currency",
                "Invalid value, must be one of: CAD, EUR, GBP, MXN, USD.",
            ),
            (
                "second wallet in a currency",
                lambda ids: {"currency": ids["user_currency"]},
                "user",
                "User and Currency is already used by another wallet.",
            ),
        ],
    ),
    Case(
        "payment-methods",
        PaymentMethod,
        lambda ids: {
            "user": ids["user"],
            "kind": "card",
            "brand": "visa",
            "last_four": "4242",
            "exp_month": "7",
            "exp_year": "2030",
            "holder_name": "Nia Okafor",
            "status": "active",
        },
        lambda p: p.last_four == "4242" and p.exp_month == 7,
        edit={"exp_year": "2031"},
        edited=lambda p: p.exp_year == 2031,
        bad=[
            (
                "not four digits",
                lambda ids: {"last_four": "42a2"},
                "last_four",
                "Exactly the last four digits, e.g. 4242.",
            ),
            (
                "month 13",
                lambda ids: {"exp_month": "13"},
                "exp_month",
                "Expiry month must be between 1 and 12.",
            ),
            (
                "card without expiry",
                lambda ids: {"exp_month": "", "exp_year": ""},
                "exp_month",
                "A card needs an expiry month and year.",
            ),
        ],
    ),
]


@pytest.fixture
async def ids(db: AsyncSession, boss: staff.Account) -> Ids:
    await db.rollback()
    user_id, email = (await db.execute(sa.select(User.id, User.email).limit(1))).one()
    return {
        "user": str(user_id),
        "user_email": email,
        "user_currency": await db.scalar(
            sa.select(Wallet.currency).where(Wallet.user_id == user_id)
        ),
        "support_role": str(await db.scalar(sa.select(Role.id).where(Role.name == "support"))),
        "merchant_email": await db.scalar(sa.select(Merchant.contact_email).limit(1)),
        "ticket": str(await db.scalar(sa.select(SupportTicket.id).limit(1))),
        "ai_model": str(await db.scalar(sa.select(AIModel.id).limit(1))),
        "campaign": str(await db.scalar(sa.select(AICampaign.id).limit(1))),
        "setting_key": await db.scalar(sa.select(RuntimeSetting.key).limit(1)),
    }


async def newest(db: AsyncSession, model: type[Any]) -> Any:
    await db.rollback()
    return await db.scalar(sa.select(model).order_by(model.created_at.desc()).limit(1))


@pytest.mark.parametrize("case", CASES, ids=[c.slug for c in CASES])
async def test_good_input_is_saved_and_audited(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, ids: Ids, case: Case
) -> None:
    before = await count(db, case.model)

    created = await save(client, case.slug, case.valid(ids))
    if case.approved:
        assert created.status_code == 303, created.text[-3000:]
        await approved(app, db, created.headers["location"])
        before += 1  # the account of the second superadmin, who approved it
    else:
        assert created.status_code == 302, created.text[-3000:]
    assert await count(db, case.model) == before + 1
    row = await newest(db, case.model)
    row_id = row.id
    assert case.saved(row)
    assert len(await audit_for(db, "create", row_id)) == 1
    if case.edit:
        edited = await save(client, case.slug, case.valid(ids) | case.edit, pk=row_id)
        assert edited.status_code == 302, edited.text[-3000:]
        await db.rollback()
        assert case.edited(await db.get(case.model, row_id, populate_existing=True))
        [update] = await audit_for(db, "update", row_id)
        assert set(update.after) <= set(case.edit) | {"revision"}


BAD = [(case, *bad) for case in CASES for bad in case.bad]


@pytest.mark.parametrize(
    ("case", "name", "overrides", "field_name", "message"),
    BAD,
    ids=[f"{case.slug}-{name}" for case, name, *_ in BAD],
)
async def test_bad_input_comes_back_on_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    ids: Ids,
    case: Case,
    name: str,
    overrides: Callable[[Ids], dict[str, Any]],
    field_name: str,
    message: str,
) -> None:
    form = case.valid(ids) | overrides(ids)
    rows, entries = await count(db, case.model), len(await staff.audit_entries(db))

    refused = await save(client, case.slug, form)

    assert refused.status_code == 400, refused.text[-2000:]
    assert field_error(refused.text, message), refused.text[-4000:]
    assert f'name="{field_name}"' in refused.text
    kept = next(
        (
            value
            for key, value in form.items()
            if isinstance(value, str)
            and key != field_name
            and value.strip()
            and key not in ("new_password", "user", "ticket", "campaign", "role", "ai_model")
        ),
        None,
    )
    if kept is not None:
        assert str(escape(kept.strip())) in refused.text
    assert await count(db, case.model) == rows
    assert len(await staff.audit_entries(db)) == entries


async def test_a_flag_key_cannot_change_once_created(
    client: httpx.AsyncClient, db: AsyncSession, ids: Ids
) -> None:
    flag = await db.scalar(sa.select(FeatureFlag).limit(1))
    form = {
        "key": "renamed-flag",
        "name": flag.name,
        "flag_type": flag.flag_type,
        "rollout_percentage": str(flag.rollout_percentage),
    }

    refused = await save(client, "feature-flags", form, pk=flag.id)

    assert refused.status_code == 400
    assert field_error(refused.text, "The key cannot change once the app uses it.")
    await db.refresh(flag)
    assert flag.key != "renamed-flag"


@pytest.mark.parametrize(
    ("permissions", "refused"),
    [("users:view", True), ("roles:view", True), ("roles:edit", False), ("*", False)],
)
async def test_nobody_takes_roles_edit_from_their_own_role(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    ids: Ids,
    permissions: str,
    refused: bool,
) -> None:
    own = await db.scalar(sa.select(Role).where(Role.name == "superadmin"))
    form = {
        "name": "superadmin",
        "description": own.description,
        "permissions": permissions,
        "change_reason": "Narrowing the superadmins",
    }

    response = await save(client, "roles", form, pk=own.id)
    if response.status_code == 303:  # what the role may do changed: a second person approves
        await approved(app, db, response.headers["location"])

    message = "This is your own role: keep roles:edit (or *), or ask another superadmin"
    await db.refresh(own)
    if refused:
        assert response.status_code == 400
        assert message in response.text
        assert own.permissions == ["*"]
    else:
        assert response.status_code in (302, 303), response.text[-400:]
        assert own.permissions == [permissions]


async def test_a_secret_setting_is_written_but_never_shown(
    client: httpx.AsyncClient, db: AsyncSession, ids: Ids
) -> None:
    created = await save(
        client,
        "settings",
        {
            "key": "payments.api_key",
            "value": '"sk_live_abc123"',
            "description": "",
            "is_secret": "y",
        },
    )
    row = await newest(db, RuntimeSetting)

    listing = (await client.get("/admin/settings/list")).text
    edit_form = (await client.get(f"/admin/settings/edit/{row.id}")).text

    assert created.status_code == 302
    assert row.value == "sk_live_abc123"
    assert "sk_live_abc123" not in listing + edit_form
    [entry] = await audit_for(db, "create", row.id)
    assert entry.after["value"] == "***"
