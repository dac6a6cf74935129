"""Creating and revoking the keys apps send to read flags. Only hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail
from flags import revision as _registers_the_revision_event  # noqa: F401
from flags.snapshot import CLIENT_KEYS
from models.base import utcnow
from models.ops import RuntimeSetting

PREFIX = "ssk_"


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


def _active(entry: dict[str, Any]) -> bool:
    return not entry.get("revoked_at")


async def list_keys(db: AsyncSession) -> list[dict[str, Any]]:
    """Every key ever issued, newest last, without its hash."""
    row = await db.scalar(sa.select(RuntimeSetting).where(RuntimeSetting.key == CLIENT_KEYS))
    shown = ("name", "created_at", "revoked_at")
    return [{k: entry.get(k) for k in shown} for entry in (row.value if row else [])]


async def create_key(db: AsyncSession, name: str, actor: trail.Actor) -> str:
    """A new key for `name`; returned once, never stored in clear. The caller commits."""
    row = await _setting(db)
    if any(k["name"] == name and _active(k) for k in row.value or []):
        raise ValueError(f"a key named {name!r} exists; revoke it first.")
    key = PREFIX + secrets.token_urlsafe(32)
    entry = {"name": name, "sha256": key_hash(key), "created_at": utcnow().isoformat()}
    row.value = [*(row.value or []), entry]
    await db.flush()
    await trail.append(
        db, actor, trail.Entry("flags.create_key", "settings", CLIENT_KEYS, after={"name": name})
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
