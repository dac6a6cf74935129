"""Creating and revoking the keys apps send to read flags. Only hashes are stored."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail
from core.settings import Settings
from flags import revision as _registers_the_revision_event  # noqa: F401
from flags.key_uses import last_uses
from flags.snapshot import CLIENT_KEYS, EMPTY, Snapshot
from models.base import utcnow
from models.flags import PRODUCTION, FlagEnvironment
from models.ops import RuntimeSetting

PREFIX = "ssk_"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A key's name, e.g. `ios-production`: it is read in logs and on the command line."""


class BadKeyNameError(ValueError):
    """A name no key may have, or one an active key already has."""


class UnknownEnvironmentError(ValueError):
    """A key was asked for an environment that does not exist."""


def check_name(name: str) -> str:
    """The name as a key would be made with, or why it cannot be."""
    if not NAME.fullmatch(name):
        raise BadKeyNameError(
            "a key's name is 1 to 64 letters, digits, dots, dashes or underscores, starting "
            "with a letter or digit, e.g. ios-production."
        )
    return name


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def _setting(db: AsyncSession) -> RuntimeSetting:
    row = await db.scalar(
        sa.select(RuntimeSetting).where(RuntimeSetting.key == CLIENT_KEYS).with_for_update()
    )
    if row is None:
        row = RuntimeSetting(
            key=CLIENT_KEYS,
            value=[],
            is_secret=True,
            description="Keys apps must send to read flags (hashed); none ever issued = open.",
        )
        db.add(row)
    return row


def open_without_key(settings: Settings) -> bool:
    """Until the first key is issued the flag doors answer anyone: always in development, in
    production only when FLAGS_PUBLIC says the flags are public."""
    return settings.flags_public or not settings.is_production


def doors_line(settings: Settings, snapshot: Snapshot) -> tuple[int, str]:
    """Whom the flag feed and OFREP answer, as the level and the one line startup logs."""
    if snapshot is EMPTY:
        return logging.WARNING, (
            "Flag feed and OFREP: the flags could not be read yet; they answer 503 until then."
        )
    if snapshot.keys_required:
        working = len(snapshot.client_keys)
        if not working:
            return logging.WARNING, (
                "Flag feed and OFREP: every app key issued is revoked, so every app is "
                "refused; make a key for each app."
            )
        return logging.INFO, (
            f"Flag feed and OFREP: an app key is required ({working} working); each key "
            "reads its own environment."
        )
    if not open_without_key(settings):
        return logging.WARNING, (
            "Flag feed and OFREP: closed, production with no app key issued; issue one with "
            "`swipesavvy-admin flags create-key --name NAME`, or set FLAGS_PUBLIC=true."
        )
    if snapshot.default is None:
        return logging.WARNING, (
            f"Flag feed and OFREP: FLAGS_ENVIRONMENT names no flag environment "
            f"({snapshot.default_environment!r}); they answer 503 until it exists or a key "
            "is issued."
        )
    why = "FLAGS_PUBLIC is set" if settings.is_production else "the server runs in development"
    return logging.INFO, (
        f"Flag feed and OFREP: open to anyone until an app key is issued ({why}), answering "
        f"with the {snapshot.default_environment} environment's flags."
    )


def _active(entry: dict[str, Any]) -> bool:
    return not entry.get("revoked_at")


async def list_keys(db: AsyncSession) -> list[dict[str, Any]]:
    """Every key ever issued, newest last, with when it was last used (as written by the
    workers, see `flags.key_uses`) and without its hash."""
    row = await db.scalar(sa.select(RuntimeSetting).where(RuntimeSetting.key == CLIENT_KEYS))
    used = await last_uses(db)
    shown = ("name", "created_at", "created_by", "revoked_at")
    return [
        {k: entry.get(k) for k in shown}
        | {
            "environment": entry.get("environment") or PRODUCTION,
            "last_used_at": used.get(entry["sha256"]),
        }
        for entry in (row.value if row else [])
    ]


async def environments(db: AsyncSession) -> list[tuple[str, str]]:
    """The environments a key may be made for, as (key, name), in their order."""
    found = await db.execute(
        sa.select(FlagEnvironment.key, FlagEnvironment.name).order_by(
            FlagEnvironment.position, FlagEnvironment.key
        )
    )
    return [(key, name) for key, name in found]


async def create_key(
    db: AsyncSession, name: str, actor: trail.Actor, environment: str = PRODUCTION
) -> str:
    """A new key for `name`, reading `environment`'s flags; returned once, never stored in
    clear. The caller commits."""
    check_name(name)
    known = [key for key, _ in await environments(db)]
    if environment not in known:
        raise UnknownEnvironmentError(
            f"there is no environment {environment[:40]!r}; pick one of {', '.join(known)}."
        )
    row = await _setting(db)
    if any(k["name"] == name and _active(k) for k in row.value or []):
        raise BadKeyNameError(f"a key named {name!r} exists; revoke it first.")
    key = PREFIX + secrets.token_urlsafe(32)
    entry = {
        "name": name,
        "sha256": key_hash(key),
        "created_at": utcnow().isoformat(),
        "created_by": actor.email,
        "environment": environment,
    }
    row.value = [*(row.value or []), entry]
    await db.flush()
    await trail.append(
        db,
        actor,
        trail.Entry(
            "flags.create_key",
            "settings",
            CLIENT_KEYS,
            after={"name": name, "environment": environment},
        ),
    )
    return key


async def revoke_key(db: AsyncSession, name: str, actor: trail.Actor) -> None:
    """Stop the key working. It stays listed as revoked, so revoking the last key leaves
    the endpoints locked rather than opening them to everyone."""
    row = await _setting(db)
    entries = list(row.value or [])
    found = [n for n, k in enumerate(entries) if k["name"] == name and _active(k)]
    if not found:
        raise ValueError(f"no active key named {name!r}.")
    entries[found[0]] = entries[found[0]] | {"revoked_at": utcnow().isoformat()}
    row.value = entries
    await db.flush()
    await trail.append(
        db, actor, trail.Entry("flags.revoke_key", "settings", CLIENT_KEYS, before={"name": name})
    )
