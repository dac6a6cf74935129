"""What the command line does, as functions: the CLI parses arguments and calls these."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
import uvicorn
from sqlalchemy.exc import IntegrityError

from admin_views import discover_pages, discover_views
from admin_views.shared import default_access
from admin_views.shared.default_access import Grant
from analytics import refresh as analytics_refresh
from analytics.refresh import Refreshed
from audit import trail
from audit.verify import Report, verify_chain
from auth.passwords import WeakPasswordError, check_password_policy, hash_password
from cli.http_protocol import ServedProtocol
from core.database import Database, database_url
from core.settings import ConfigError, Settings
from demo_data.generate import estimated_rows
from demo_data.load import SeedRefusedError, has_customer_data
from demo_data.load import seed_demo as write_demo_data
from flags import client_keys
from ledger.verify import Mismatch, mismatches
from migrations import runner
from models.base import utcnow
from models.flags import PRODUCTION
from models.people import AdminUser, Role

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEMO_SEED = 42
COMMAND_LINE = trail.Actor(email="command line")
"""How the audit trail names changes made with `swipesavvy-admin`."""
T = TypeVar("T")


class CommandError(Exception):
    """A command cannot go on; the message is the one line the user sees."""


def _where(settings: Settings) -> str:
    try:
        return database_url(settings.database_url).render_as_string(hide_password=True)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text


async def _database_revision(settings: Settings) -> str | None:
    where = _where(settings)
    url = database_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise CommandError(
                f"cannot reach the database at {where}: folder {folder} does not exist."
            )
    database = Database(settings)
    try:
        async with asyncio.timeout(10), database.engine.connect() as connection:
            return await connection.run_sync(runner.current_revision)
    except Exception as exc:  # any way of failing to connect is reported the same way
        raise CommandError(f"cannot reach the database at {where}: {_reason(exc)}") from exc
    finally:
        await database.dispose()


def check_database(settings: Settings) -> None:
    """Raise CommandError unless the database answers and is at the newest revision."""
    revision = asyncio.run(_database_revision(settings))
    head = runner.head_revision()
    if revision != head:
        raise CommandError(
            f"the database at {_where(settings)} is at revision {revision or 'none'}, "
            f"not {head}: run `swipesavvy-admin migrate`."
        )


def migrate(settings: Settings) -> tuple[str, list[Grant]]:
    """Upgrade the schema, then give the default roles what the screens newly declare;
    return the revision and the grants given."""
    try:
        # A mistyped declaration stops the command before the schema changes.
        screens = [*discover_views(), *discover_pages()]
    except default_access.BadDeclarationError as exc:
        raise CommandError(str(exc)) from None
    asyncio.run(_database_revision(settings))
    runner.upgrade(settings)
    granted = asyncio.run(_with_database(settings, _grant_default_access, screens=screens))
    return str(runner.head_revision()), granted


async def _grant_default_access(
    database: Database, _settings: Settings, *, screens: list[default_access.ScreenClass]
) -> list[Grant]:
    async with database.session() as session, session.begin():
        return await default_access.grant_declared(session, screens)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 255:
        raise CommandError(f"{email!r} is not an email address.")
    return email


async def create_admin(
    settings: Settings, email: str, role: str, full_name: str, password: str
) -> str:
    email = normalise_email(email)
    try:
        check_password_policy(password, email=email)
    except WeakPasswordError as exc:
        raise CommandError(str(exc)) from None
    database = Database(settings)
    try:
        async with database.session() as session:
            role_row = await session.scalar(sa.select(Role).where(Role.name == role))
            if role_row is None:
                names = ", ".join(await session.scalars(sa.select(Role.name).order_by(Role.name)))
                raise CommandError(f"unknown role {role!r}; choose one of: {names}.")
            if await session.scalar(sa.select(AdminUser.id).where(AdminUser.email == email)):
                raise CommandError(f"a staff account with email {email} already exists.")
            admin = AdminUser(
                email=email,
                full_name=full_name or email.split("@")[0],
                password_hash=await hash_password(password, settings.bcrypt_rounds),
                role_id=role_row.id,
            )
            session.add(admin)
            try:
                await session.flush()
                await trail.append(
                    session,
                    COMMAND_LINE,
                    trail.Entry(
                        "create", "admin_users", str(admin.id), after={"email": email, "role": role}
                    ),
                )
                await session.commit()
            except IntegrityError:
                raise CommandError(f"a staff account with email {email} already exists.") from None
    finally:
        await database.dispose()
    return email


async def verify_audit_trail(settings: Settings) -> Report:
    database = Database(settings)
    try:
        async with database.session() as session:
            return await verify_chain(session)
    finally:
        await database.dispose()


async def ledger_mismatches(settings: Settings) -> list[Mismatch]:
    return await _with_database(settings, _mismatches)


async def _mismatches(database: Database, _settings: Settings) -> list[Mismatch]:
    async with database.session() as session:
        return [mismatch async for mismatch in mismatches(session)]


async def manage_flag_keys(
    settings: Settings, action: str, name: str | None, environment: str = PRODUCTION
) -> Any:
    """create / revoke / list the keys apps use to read flags; a key is made for
    `environment` and reads its flags."""
    database = Database(settings)
    try:
        async with database.session() as session, session.begin():
            if action == "list":
                return await client_keys.list_keys(session)
            if name is None:
                raise CommandError("--name is required.")
            try:
                if action == "create":
                    return await client_keys.create_key(session, name, COMMAND_LINE, environment)
                await client_keys.revoke_key(session, name, COMMAND_LINE)
                return None
            except ValueError as exc:
                raise CommandError(str(exc)) from None
    finally:
        await database.dispose()


def _refuse_in_production(settings: Settings, command: str) -> None:
    if settings.is_production:
        raise CommandError(f"{command} writes demo data and is refused when ENV=production.")


def seed_demo(settings: Settings, *, users: int, seed: int, force: bool) -> Counter[str]:
    _refuse_in_production(settings, "seed-demo")
    check_database(settings)
    return asyncio.run(_with_database(settings, _seed, users=users, seed=seed, force=force))


async def _with_database(settings: Settings, work: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    database = Database(settings)
    try:
        return await work(database, settings, **kwargs)
    finally:
        await database.dispose()


async def _seed(
    database: Database, settings: Settings, *, users: int, seed: int, force: bool
) -> Counter[str]:
    progress = click.progressbar(
        length=estimated_rows(users), label="Seeding demo data", file=sys.stderr
    )
    with progress:
        try:
            return await write_demo_data(
                database,
                users=users,
                seed=seed,
                bcrypt_rounds=settings.bcrypt_rounds,
                force=force,
                on_rows=progress.update,
            )
        except SeedRefusedError as exc:
            raise CommandError(str(exc)) from None


def prepare_demo(settings: Settings, email: str, users: int) -> str:
    """Migrate, seed an empty database, and (re)set the demo superadmin; return its password."""
    _refuse_in_production(settings, "demo")
    migrate(settings)
    return asyncio.run(_with_database(settings, _prepare_demo, email=email, users=users))


async def _prepare_demo(database: Database, settings: Settings, *, email: str, users: int) -> str:
    async with database.session() as session:
        empty = not await has_customer_data(session)
    if empty:
        await _seed(database, settings, users=users, seed=DEMO_SEED, force=False)
    password = secrets.token_urlsafe(12)
    password_hash = await hash_password(password, settings.bcrypt_rounds)
    async with database.session() as session, session.begin():
        superadmin = await session.scalar(sa.select(Role.id).where(Role.name == "superadmin"))
        admin = await session.scalar(sa.select(AdminUser).where(AdminUser.email == email))
        if admin is None:
            session.add(
                AdminUser(
                    email=email,
                    full_name="Demo Superadmin",
                    password_hash=password_hash,
                    role_id=superadmin,
                )
            )
        else:
            admin.password_hash = password_hash
            admin.password_changed_at = utcnow()
            admin.role_id = superadmin
            admin.is_active = True
    return password


GRACEFUL_SHUTDOWN_S = 30
"""How long a stopping server lets requests in flight finish."""


def serve(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        # The app reads X-Forwarded-* itself, from TRUSTED_PROXIES only (core/hosts.py), the
        # same under any server; uvicorn's own reading would trust 127.0.0.1 besides.
        proxy_headers=False,
        http=ServedProtocol,
        # uvloop's event loop: the same asyncio code, the loop itself in C.
        loop="uvloop",
        # On SIGTERM requests in flight finish; one that is stuck (a huge export) may not
        # hold a deploy for ever.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


async def refresh_analytics(settings: Settings, since: date | None) -> Refreshed:
    """Bring the dashboard's rollups up to yesterday, or recompute them from `since`."""
    database = Database(settings)
    try:
        return await analytics_refresh.refresh_database(database, since=since)
    finally:
        await database.dispose()
