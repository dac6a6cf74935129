"""`swipesavvy-admin`: migrate, create staff, seed demo data, refresh rollups, serve."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import NoReturn

import click

from auth.demo import DEMO_ADMIN_EMAIL
from cli import commands
from core.logging import configure_logging
from core.settings import ConfigError, Settings, load_settings
from flags.client_keys import open_without_key
from models.flags import PRODUCTION

DEMO_USERS = 1_000


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit: what every command does on bad input."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def settings_or_exit(*, serving: bool = False) -> Settings:
    """The settings, or one line saying what is wrong with them; `serving` holds them to what
    a server needs besides (`Settings.check_serving`)."""
    try:
        settings = load_settings()
        if serving:
            settings.check_serving()
    except ConfigError as exc:
        fail(str(exc))
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """SwipeSavvy Admin: the staff back office."""
    configure_logging("WARNING")


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision, then give the default roles
    what their screens newly declare (`default_access`)."""
    settings = settings_or_exit()
    try:
        revision, granted = commands.migrate(settings)
    except commands.CommandError as exc:
        fail(str(exc))
    for grant in granted:
        click.echo(f"granted {grant} (declared by its screen)")
    click.echo(f"database is at revision {revision}")


@cli.command("create-admin")
@click.option("--email", required=True, help="Sign-in email of the staff member.")
@click.option("--role", required=True, help="Role name, e.g. superadmin, support, analyst.")
@click.option("--name", "full_name", default="", help="Full name (defaults to the email's name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(email: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Create a staff account. The password is asked for, or read from stdin."""
    settings = settings_or_exit()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        admin_email = asyncio.run(commands.create_admin(settings, email, role, full_name, password))
    except commands.CommandError as exc:
        fail(str(exc))
    click.echo(f"created {role} account {admin_email}")


@cli.command("seed-demo")
@click.option("--users", default=DEMO_USERS, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--force", is_flag=True, help="Replace existing data with demo data.")
def seed_demo(users: int, seed: int, force: bool) -> None:
    """Fill every table with realistic, consistent demo data."""
    settings = settings_or_exit()
    try:
        written = commands.seed_demo(settings, users=users, seed=seed, force=force)
    except commands.CommandError as exc:
        fail(str(exc))
    click.echo(f"seeded {sum(written.values()):,} rows in {len(written)} tables")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1))
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the admin and the API with uvicorn."""
    settings = settings_or_exit(serving=True)
    try:
        commands.check_database(settings)
    except commands.CommandError as exc:
        fail(str(exc))
    commands.serve(settings, host=host, port=port, workers=workers, reload=reload)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Migrate, seed if empty, print a demo sign-in, then serve (development only)."""
    settings = settings_or_exit(serving=True)
    try:
        password = commands.prepare_demo(settings, DEMO_ADMIN_EMAIL, DEMO_USERS)
    except commands.CommandError as exc:
        fail(str(exc))
    url = f"http://{host}:{port}/admin"
    click.echo(
        "\n"
        f"  SwipeSavvy Admin is starting at {url}\n"
        f"  sign in as   {DEMO_ADMIN_EMAIL}\n"
        f"  password     {password}\n"
        "  (a new password is made each time `demo` starts)\n"
    )
    commands.serve(settings, host=host, port=port, workers=1, reload=False)


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 and name the first broken entry if any."""
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
    except commands.CommandError as exc:
        fail(str(exc))
    report = asyncio.run(commands.verify_audit_trail(settings))
    if not report.intact:
        fail(f"audit trail broken at entry #{report.broken_at}: {report.reason}.")
    click.echo(f"audit trail intact: {report.entries:,} entries verified")


@cli.group()
def ledger() -> None:
    """The money ledger."""


@ledger.command("verify")
def ledger_verify() -> None:
    """List every wallet whose balance differs from its posted transactions; exit 1 if any."""
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
    except commands.CommandError as exc:
        fail(str(exc))
    found = asyncio.run(commands.ledger_mismatches(settings))
    for wallet in found:
        click.echo(
            f"wallet {wallet.wallet_id} ({wallet.currency}): balance {wallet.balance}, "
            f"posted transactions {wallet.posted}, off by {wallet.difference}"
        )
    if found:
        fail(f"ledger out of balance: {len(found):,} wallets differ from their transactions.")
    click.echo("ledger balanced: every wallet equals the sum of its posted transactions")


@cli.group()
def flags() -> None:
    """Keys the mobile app sends to read feature flags."""


@flags.command("create-key")
@click.option("--name", required=True, help="Who the key is for, e.g. ios-production.")
@click.option(
    "--environment",
    default=PRODUCTION,
    show_default=True,
    help="Whose flags the key reads: an environment's key, e.g. staging.",
)
def flags_create_key(name: str, environment: str) -> None:
    """Make a key for one environment; it is printed once and only its hash is kept."""
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
        key = asyncio.run(commands.manage_flag_keys(settings, "create", name, environment))
    except commands.CommandError as exc:
        fail(str(exc))
    click.echo(key)
    click.echo(f"key {name!r} for {environment} created; it is shown only now.", err=True)


@flags.command("revoke-key")
@click.option("--name", required=True)
def flags_revoke_key(name: str) -> None:
    """Stop a key working (within a second on every worker)."""
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
        asyncio.run(commands.manage_flag_keys(settings, "revoke", name))
    except commands.CommandError as exc:
        fail(str(exc))
    click.echo(f"key {name!r} revoked")


@flags.command("list-keys")
def flags_list_keys() -> None:
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
        keys = asyncio.run(commands.manage_flag_keys(settings, "list", None))
    except commands.CommandError as exc:
        fail(str(exc))
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        click.echo(f"{key['name']}\t{key['environment']}\tcreated {key['created_at']}\t{state}")
    if not keys:
        doors = "open" if open_without_key(settings) else "closed (production, FLAGS_PUBLIC off)"
        click.echo(f"no keys: the flag endpoints are {doors}")


@cli.group()
def analytics() -> None:
    """The dashboard's daily rollups."""


@analytics.command("refresh")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Recompute every closed day from this one (YYYY-MM-DD); by default only new days.",
)
def analytics_refresh(since: datetime | None) -> None:
    """Write the rollups for every closed day; safe to run twice or at once."""
    settings = settings_or_exit()
    try:
        commands.check_database(settings)
    except commands.CommandError as exc:
        fail(str(exc))
    started = time.perf_counter()
    done = asyncio.run(commands.refresh_analytics(settings, since.date() if since else None))
    days = f"{done.days.first} to {done.days.last}" if done.days else "none (all current)"
    weeks = f"weeks of {done.weeks[0]} to {done.weeks[1]}" if done.weeks else "no new weeks"
    click.echo(
        f"rollups refreshed: days {days}; cohorts {weeks}; "
        f"{done.rows:,} rows in {time.perf_counter() - started:.1f} s"
    )
