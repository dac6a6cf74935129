"""Running `swipesavvy-admin` in tests as staff run it: its own environment, its own event loop."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from cli.main import cli
from core.settings import Settings
from tests.databases import TEST_BCRYPT_ROUNDS, TEST_SECRET_KEY


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
        "ENV": "development",
    } | extra


async def invoke(settings: Settings, *args: str, stdin: str | None = None, **env: str) -> Result:
    """Run the command in a worker thread, where it starts its own event loop as it does live."""
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, cli, list(args), input=stdin, env=environment(settings, **env)
    )
