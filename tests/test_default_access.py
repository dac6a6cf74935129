"""The default roles get what the screens declare (`default_access`) from `migrate`, staff
edits on the Roles screen win, and a mistyped declaration stops startup naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views import discover_pages, discover_views
from admin_views.merchants import MerchantAdmin
from admin_views.payments import WalletAdmin
from admin_views.shared import default_access
from app import create_app
from auth.permissions import allows
from core.database import Database
from core.settings import Settings
from migrations import runner
from models import AuditLog, Role, RuntimeSetting
from tests import staff
from tests.admin_views.test_four_eyes_edits import approved
from tests.admin_views.test_role_grid import edit_form, post
from tests.command_line import invoke
from tests.databases import fresh_database_url, make_settings

MIGRATION_0002 = import_module("migrations.versions.0002_default_roles").DEFAULT_ROLES
"""What the hand-written data migration gave the default roles: the declarations' baseline."""
SUPPORT_MAY_VIEW_MERCHANTS = {**MerchantAdmin.default_access, "support": ("view",)}


@pytest.fixture(autouse=True)
def isolated_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's .env or .secret_key leaks into a test."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fresh_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    with fresh_database_url(backend, tmp_path, "access") as url:
        yield make_settings(url)


async def migrate(settings: Settings) -> list[str]:
    """`swipesavvy-admin migrate`; the grants it reports giving."""
    result = await invoke(settings, "migrate")
    assert result.exit_code == 0, result.output
    *granted, last = result.stdout.strip().splitlines()
    assert last == f"database is at revision {runner.head_revision()}"
    return granted


async def permissions(database: Database) -> dict[str, list[str]]:
    async with database.session() as session:
        return dict((await session.execute(sa.select(Role.name, Role.permissions))).all())


async def grant_entries(db: AsyncSession) -> list[AuditLog]:
    await db.commit()
    return list(
        await db.scalars(
            sa.select(AuditLog)
            .where(AuditLog.actor_email == default_access.ACTOR.email)
            .order_by(AuditLog.sequence)
        )
    )


def newer_than_0002() -> list[default_access.Grant]:
    """What screens added after migration 0002 declare, which `migrate` grants on top of it."""
    return [
        grant
        for grant in default_access.declared_grants([*discover_views(), *discover_pages()])
        if not allows(MIGRATION_0002[grant.role][1], grant.resource, grant.verb)
    ]


def baseline(role: str) -> set[str]:
    """The role's permissions once `migrate` ran on a fresh database."""
    newer = {grant.permission for grant in newer_than_0002() if grant.role == role}
    return set(MIGRATION_0002[role][1]) | newer


async def grant_newer_screens(settings: Settings, db: AsyncSession) -> int:
    """`migrate` on the shared database, which the migrations alone built: it grants what
    screens newer than 0002 declare. How many grant entries that wrote."""
    await migrate(settings)
    return len(await grant_entries(db))


def every_box() -> list[tuple[str, str]]:
    """Every (resource, verb) a role can hold on the discovered screens."""
    return [
        (default_access.resource(screen), verb)
        for screen in [*discover_views(), *discover_pages()]
        for verb in default_access.offered(screen)
    ]


def allowed(granted: list[str]) -> set[tuple[str, str]]:
    return {box for box in every_box() if allows(granted, *box)}


async def test_migrate_on_a_fresh_database_leaves_the_default_roles_as_0002_made_them(
    fresh_settings: Settings,
) -> None:
    newer = newer_than_0002()
    lines = [f"granted {grant} (declared by its screen)" for grant in newer]
    assert await migrate(fresh_settings) == lines
    assert await migrate(fresh_settings) == []

    database = Database(fresh_settings)
    try:
        found = await permissions(database)
        async with database.session() as session:
            remembered = await session.scalar(
                sa.select(RuntimeSetting.value).where(
                    RuntimeSetting.key == default_access.APPLIED_KEY
                )
            )
            entries = await grant_entries(session)
    finally:
        await database.dispose()
    assert {name: set(granted) for name, granted in found.items()} == {
        name: baseline(name) for name in MIGRATION_0002
    }
    declared = default_access.declared_grants([*discover_views(), *discover_pages()])
    assert remembered == sorted(str(grant) for grant in declared)
    assert len(entries) == len(newer)


async def test_the_declarations_grant_what_0002_grants(
    settings: Settings, clean_database: Database, db: AsyncSession
) -> None:
    await db.execute(sa.update(Role).where(Role.name != "superadmin").values(permissions=[]))
    await db.commit()

    granted = await migrate(settings)

    found = await permissions(clean_database)
    for name in MIGRATION_0002:
        assert allowed(found[name]) == allowed(list(baseline(name))), name
    assert len(granted) == len(await grant_entries(db)) > 0


async def test_a_new_declaration_is_granted_once_and_audited(
    settings: Settings,
    clean_database: Database,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier = await grant_newer_screens(settings, db)
    monkeypatch.setattr(MerchantAdmin, "default_access", SUPPORT_MAY_VIEW_MERCHANTS)
    had = (await permissions(clean_database))["support"]

    assert await migrate(settings) == ["granted support merchants:view (declared by its screen)"]
    assert await migrate(settings) == []

    assert (await permissions(clean_database))["support"] == [*had, "merchants:view"]
    [entry] = (await grant_entries(db))[earlier:]
    assert (entry.action, entry.entity_type) == ("update", "roles")
    assert entry.entity_id == str(await db.scalar(sa.select(Role.id).where(Role.name == "support")))
    assert entry.before == {"permissions": had}
    assert entry.after == {"permissions": [*had, "merchants:view"]}


async def test_a_grant_staff_remove_on_the_roles_screen_is_not_given_again(
    settings: Settings,
    clean_database: Database,
    db: AsyncSession,
    app: Starlette,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier = await grant_newer_screens(settings, db)
    monkeypatch.setattr(MerchantAdmin, "default_access", SUPPORT_MAY_VIEW_MERCHANTS)
    await migrate(settings)
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    support = await db.scalar(sa.select(Role.id).where(Role.name == "support"))
    form = await edit_form(client, support)
    assert form.boxes["merchants:view"] is True
    form.boxes["merchants:view"] = False
    # Taking a permission away waits for a second superadmin (four eyes).
    await approved(app, db, (await post(client, support, form)).headers["location"])

    assert await migrate(settings) == []

    assert not allows((await permissions(clean_database))["support"], "merchants", "view")
    assert len(await grant_entries(db)) == earlier + 1


async def test_a_renamed_or_deleted_default_role_is_skipped(
    settings: Settings,
    clean_database: Database,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier = await grant_newer_screens(settings, db)
    monkeypatch.setattr(MerchantAdmin, "default_access", SUPPORT_MAY_VIEW_MERCHANTS)
    await db.execute(sa.update(Role).where(Role.name == "support").values(name="helpdesk"))
    await db.execute(sa.delete(Role).where(Role.name == "viewer"))
    await db.commit()
    before = await permissions(clean_database)

    assert await migrate(settings) == []

    assert await permissions(clean_database) == before
    assert len(await grant_entries(db)) == earlier


@pytest.mark.parametrize(
    ("view", "declared", "message"),
    [
        (
            MerchantAdmin,
            {"suport": ("view",)},
            "MerchantAdmin.default_access: 'suport' is not a default role",
        ),
        (
            MerchantAdmin,
            {"support": ("veiw",)},
            "MerchantAdmin.default_access: support may 'veiw', but the merchants screen "
            "offers only *, view, create, edit, export, action:*, action:",
        ),
        (
            MerchantAdmin,
            {"support": ("delete",)},
            "MerchantAdmin.default_access: support may 'delete'",
        ),
        (
            WalletAdmin,
            {"operations": ("action:freze",)},
            "WalletAdmin.default_access: operations may 'action:freze'",
        ),
        (
            WalletAdmin,
            {"operations": "view"},
            "WalletAdmin.default_access: 'operations' needs a tuple of verbs",
        ),
    ],
)
async def test_a_mistyped_declaration_stops_startup_and_migrate_naming_it(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    view: type,
    declared: dict[str, tuple[str, ...]],
    message: str,
) -> None:
    monkeypatch.setattr(view, "default_access", declared)

    with pytest.raises(default_access.BadDeclarationError, match="^" + re.escape(message)):
        create_app(settings)
    result = await invoke(settings, "migrate")
    assert result.exit_code != 0
    assert message in result.stderr


async def test_replacing_demo_data_keeps_what_migrate_remembers(fresh_settings: Settings) -> None:
    await migrate(fresh_settings)
    database = Database(fresh_settings)
    try:
        before = await remembered(database)
        forced = await invoke(fresh_settings, "seed-demo", "--users", "12", "--force")
        assert forced.exit_code == 0, forced.output

        assert before, "migrate remembers the grants it found or gave"
        assert await remembered(database) == before
    finally:
        await database.dispose()


async def remembered(database: Database) -> list[str] | None:
    async with database.session() as session:
        return await session.scalar(
            sa.select(RuntimeSetting.value).where(RuntimeSetting.key == default_access.APPLIED_KEY)
        )
