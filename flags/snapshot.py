"""Everything the flag endpoints need, read from the database at once and then held in memory."""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from flags.definition import compile_flag
from flags.engine import Flag
from models.base import utcnow
from models.flags import FeatureFlag
from models.ops import RuntimeSetting

log = logging.getLogger(__name__)

REVISION_KEY = "flags.revision"
"""A settings row counting flag changes; bumped in the transaction of every change."""
CLIENT_KEYS = "flags.client_keys"
"""A settings row listing the keys issued to apps, as [{"name", "sha256", "created_at",
"revoked_at"?}]; until the first key is issued the flag endpoints are open."""


@dataclass(frozen=True)
class Snapshot:
    revision: int
    flags: tuple[Flag, ...] = ()
    broken: Mapping[str, str] = field(default_factory=dict)
    """Flags whose stored definition does not compile: key -> why. Never served."""
    client_keys: frozenset[str] = frozenset()
    """Hashes of the keys that work now."""
    keys_required: bool = False
    """Once any key has been issued, even if all are revoked since."""
    loaded_at: datetime | None = None
    by_key: Mapping[str, Flag] = field(init=False)
    fingerprint: str = field(init=False)
    """A digest of every definition served: equal on every worker holding the same flags."""
    schedule_changes: tuple[datetime, ...] = field(init=False)
    """The instants a scheduled flag starts or ends, in order."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", MappingProxyType({f.key: f for f in self.flags}))
        served = repr((self.revision, self.flags, sorted(self.broken.items())))
        digest = hashlib.blake2b(served.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "fingerprint", digest)
        changes = {t for f in self.flags for t in (f.starts_at, f.ends_at) if t is not None}
        object.__setattr__(self, "schedule_changes", tuple(sorted(changes)))

    def schedule_phase(self, now: datetime) -> int:
        """How many schedule changes have happened by `now`. Between two changes every
        answer depends only on the definitions and the caller's context."""
        return bisect_right(self.schedule_changes, now)


EMPTY = Snapshot(revision=-1)


async def stored_revision(db: AsyncSession) -> int:
    value = await db.scalar(
        sa.select(RuntimeSetting.value).where(RuntimeSetting.key == REVISION_KEY)
    )
    return int(value or 0)


async def load(db: AsyncSession) -> Snapshot:
    revision = await stored_revision(db)
    rows = await db.scalars(sa.select(FeatureFlag).order_by(FeatureFlag.key))
    flags, broken = [], {}
    for row in rows:
        try:
            flags.append(compile_flag(row))
        except (ValueError, KeyError, TypeError) as exc:
            broken[row.key] = f"stored definition is invalid: {exc}"
            log.warning("flag %s skipped: %s", row.key, exc)
    issued = await db.scalar(
        sa.select(RuntimeSetting.value).where(RuntimeSetting.key == CLIENT_KEYS)
    )
    issued = [key for key in issued or () if isinstance(key, dict)]
    return Snapshot(
        revision=revision,
        flags=tuple(flags),
        broken=MappingProxyType(broken),
        client_keys=frozenset(key["sha256"] for key in issued if not key.get("revoked_at")),
        keys_required=bool(issued),
        loaded_at=utcnow(),
    )
