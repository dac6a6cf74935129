"""The first app: health probes, sign-in, and a working screen for every table."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import admin_views
from admin_views import sqladmin_door as door
from admin_views.base import StaffView
from app import create_app
from core.database import Database
from core.settings import Settings
from demo_data.load import seed_demo
from models import AdminSession, AdminUser, Base, User
from tests import discovered, staff
from tests.databases import TEST_BCRYPT_ROUNDS, make_settings


async def test_healthz_answers_without_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


@pytest.fixture
def unreachable_settings(backend: str, tmp_path: Path) -> Settings:
    if backend == "postgresql":
        return make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/swipesavvy")
    not_a_database = tmp_path / "corrupt.db"
    not_a_database.write_bytes(b"this is not an SQLite file" * 100)
    return make_settings(f"sqlite+aiosqlite:///{not_a_database}")


async def test_readyz_is_503_and_healthz_200_while_the_database_is_down(
    unreachable_settings: Settings,
) -> None:
    app = create_app(unreachable_settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/readyz")
            alive = await client.get("/healthz")
    finally:
        await app.state.database.dispose()

    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    assert alive.status_code == 200


async def test_admin_screens_need_a_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/users/list")

    assert response.status_code == 302
    assert (
        response.headers["location"] == "http://testserver/admin/login?next=%2Fadmin%2Fusers%2Flist"
    )


def test_every_table_has_exactly_one_screen() -> None:
    views = admin_views.discover_views()

    assert sorted(view.resource() for view in views) == sorted(Base.metadata.tables)


def test_two_screens_for_one_table_fail_at_startup() -> None:
    class DuplicateUserAdmin(StaffView, model=User):
        pass

    with pytest.raises(RuntimeError, match="both declare screens for 'users'"):
        admin_views.check_views([*admin_views.discover_views(), DuplicateUserAdmin])


@pytest.fixture
async def signed_in(
    client: httpx.AsyncClient, db: AsyncSession, clean_database: Database
) -> httpx.AsyncClient:
    await seed_demo(clean_database, users=15, seed=7, bcrypt_rounds=TEST_BCRYPT_ROUNDS)
    return await staff.signed_in(client, await staff.make_staff(db, "superadmin"))


@pytest.mark.parametrize("view", discovered.VIEWS, ids=lambda view: view.resource())
async def test_each_table_lists_shows_and_edits_its_rows(
    signed_in: httpx.AsyncClient, db: AsyncSession, view: type[StaffView]
) -> None:
    slug = discovered.slug(view)
    sorted_by = [getattr(view.model, name) for name, _ in door.default_sort(view())]
    first_on_page = [
        sa.desc(column) if descending else sa.asc(column)
        for column, (_, descending) in zip(sorted_by, door.default_sort(view()), strict=True)
    ]
    first = (await db.execute(sa.select(*sorted_by).order_by(*first_on_page).limit(1))).first()
    assert first is not None, discovered.add_demo_data(view.resource())

    # Rows tied on the sort may come in whichever order the list's own tiebreak gives.
    tied = await db.scalars(
        sa.select(view.model.id).where(
            *(column == value for column, value in zip(sorted_by, first, strict=True))
        )
    )
    tied_ids = {str(row_id) for row_id in tied}
    listing = await signed_in.get(f"/admin/{slug}/list")
    shown = [row_id for row_id in tied_ids if row_id in listing.text]
    row_id = shown[0] if shown else None
    details = await signed_in.get(f"/admin/{slug}/details/{row_id}")

    assert listing.status_code == 200
    assert view.name_plural in listing.text
    assert row_id is not None, "the row the list sorts first is not on its first page"
    assert details.status_code == 200
    if view.can_edit:
        assert (await signed_in.get(f"/admin/{slug}/edit/{row_id}")).status_code == 200
    if view.can_create:
        assert (await signed_in.get(f"/admin/{slug}/create")).status_code == 200


async def test_secret_columns_never_reach_a_screen(
    signed_in: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await db.scalar(sa.select(AdminUser).limit(1))
    session = await db.scalar(sa.select(AdminSession).limit(1))

    pages = [
        await signed_in.get(f"/admin/admin-users/details/{account.id}"),
        await signed_in.get(f"/admin/admin-users/edit/{account.id}"),
        await signed_in.get("/admin/admin-users/list"),
        await signed_in.get(f"/admin/admin-sessions/details/{session.id}"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert account.password_hash not in page.text
        assert "password_hash" not in page.text
        assert session.token_hash not in page.text


async def test_an_unknown_row_is_a_404(signed_in: httpx.AsyncClient) -> None:
    response = await signed_in.get(f"/admin/users/details/{uuid.uuid4()}")

    assert response.status_code == 404
