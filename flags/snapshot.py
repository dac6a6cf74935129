"""Everything the flag endpoints need, read from the database at once and then held in memory."""

from __future__ import annotations

import hashlib
import logging
import uuid
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from flags.definition import compile_flag, compile_segment
from flags.engine import Flag, Segment
from flags.environments import Stored, by_environment, new_state, state_of
from models.base import utcnow
from models.flag_segments import FlagSegment
from models.flags import PRODUCTION, FeatureFlag, FlagEnvironment, FlagEnvironmentState
from models.ops import RuntimeSetting

log = logging.getLogger(__name__)

REVISION_KEY = "flags.revision"
"""A settings row counting flag changes; bumped in the transaction of every change."""
CLIENT_KEYS = "flags.client_keys"
"""A settings row listing the keys issued to apps, as [{"name", "sha256", "created_at",
"created_by", "environment"?, "revoked_at"?}]; a key without an environment (one issued
before environments existed) reads production. Until the first key is issued the flag
endpoints are open."""


@dataclass(frozen=True, eq=False)
class Served:
    """One environment's flags as the doors serve them. Compared and hashed by identity:
    the doors keep renderings per `Served` (`memo`)."""

    environment: str
    """The environment's key, e.g. `staging`."""
    revision: int
    flags: tuple[Flag, ...] = ()
    broken: Mapping[str, str] = field(default_factory=dict)
    """Flags whose stored definition does not compile here: key -> why. Never served."""
    by_key: Mapping[str, Flag] = field(init=False)
    fingerprint: str = field(init=False)
    """A digest of every definition served: equal on every worker holding the same flags,
    and between environments only when they would answer alike."""
    schedule_changes: tuple[datetime, ...] = field(init=False)
    """The instants a scheduled flag starts or ends, in order."""
    memo: dict[Any, Any] = field(init=False, repr=False)
    """What the doors rendered of these answers, kept as long as they are served
    (api/outcomes.py)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", MappingProxyType({f.key: f for f in self.flags}))
        # The same digest as before environments existed: production's ETags stay valid.
        served = repr((self.revision, self.flags, sorted(self.broken.items())))
        # A flag's segments and prerequisites (left out of its repr) count where it has any.
        targeting = [
            (f.key, f.included, f.excluded, f.prerequisites)
            for f in self.flags
            if f.included or f.excluded or f.prerequisites
        ]
        if targeting:
            served += repr(targeting)
        digest = hashlib.blake2b(served.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "fingerprint", digest)
        changes = {t for f in self.flags for t in (f.starts_at, f.ends_at) if t is not None}
        object.__setattr__(self, "schedule_changes", tuple(sorted(changes)))
        object.__setattr__(self, "memo", {})

    def schedule_phase(self, now: datetime) -> int:
        """How many schedule changes have happened by `now`. Between two changes every
        answer depends only on the definitions and the caller's context."""
        return bisect_right(self.schedule_changes, now)


@dataclass(frozen=True)
class Snapshot:
    revision: int
    environments: Mapping[str, Served] = field(default_factory=dict)
    """Every environment's flags, by its key, in the environments' order."""
    client_keys: Mapping[str, Served] = field(default_factory=dict)
    """The hash of each key that works now, to the flags of the environment it reads."""
    keys_required: bool = False
    """Once any key has been issued, even if all are revoked since."""
    default: Served | None = None
    """What the doors answer without keys: the environment FLAGS_ENVIRONMENT names, None
    when no environment has that key."""
    default_environment: str = PRODUCTION
    loaded_at: datetime | None = None

    def of(self, environment: str) -> Served:
        """One environment's flags; none for an environment that does not exist."""
        found = self.environments.get(environment)
        return found if found is not None else Served(environment, self.revision)


EMPTY = Snapshot(revision=-1)


async def stored_revision(db: AsyncSession) -> int:
    value = await db.scalar(
        sa.select(RuntimeSetting.value).where(RuntimeSetting.key == REVISION_KEY)
    )
    return int(value or 0)


async def load(db: AsyncSession, default_environment: str = PRODUCTION) -> Snapshot:
    """Every environment's flags and the keys that read them, resolved now, so that a
    request only picks what it is answered from."""
    revision = await stored_revision(db)
    environments = await db.scalars(
        sa.select(FlagEnvironment).order_by(FlagEnvironment.position, FlagEnvironment.key)
    )
    # An archived flag is served to no app: asked for, it is not found.
    live = sa.select(FeatureFlag).where(FeatureFlag.archived_at.is_(None))
    rows = list(await db.scalars(live.order_by(FeatureFlag.key)))
    stored = by_environment(await db.scalars(sa.select(FlagEnvironmentState)))
    segments = await _segments(db)
    served = {
        environment.key: _served(environment, rows, stored, segments, revision)
        for environment in environments
    }
    issued = await db.scalar(
        sa.select(RuntimeSetting.value).where(RuntimeSetting.key == CLIENT_KEYS)
    )
    issued = [key for key in issued or () if isinstance(key, dict)]
    keys = {}
    for key in issued:
        if key.get("revoked_at"):
            continue
        reads = served.get(key.get("environment") or PRODUCTION)
        if reads is None:
            log.warning(
                "app key %s skipped: no environment %r", key.get("name"), key.get("environment")
            )
            continue
        keys[key["sha256"]] = reads
    if default_environment not in served:
        log.warning("FLAGS_ENVIRONMENT names no environment: %r", default_environment)
    return Snapshot(
        revision=revision,
        environments=MappingProxyType(served),
        client_keys=MappingProxyType(keys),
        keys_required=bool(issued),
        default=served.get(default_environment),
        default_environment=default_environment,
        loaded_at=utcnow(),
    )


async def served_in(db: AsyncSession, environment: FlagEnvironment) -> Served:
    """One environment's flags as the doors would serve them now (the flag's page
    previews with it)."""
    rows = list(await db.scalars(sa.select(FeatureFlag).order_by(FeatureFlag.key)))
    stored = by_environment(
        await db.scalars(
            sa.select(FlagEnvironmentState).where(
                FlagEnvironmentState.environment_id == environment.id
            )
        )
    )
    return _served(environment, rows, stored, await _segments(db), await stored_revision(db))


async def _segments(db: AsyncSession) -> dict[str, Segment]:
    found = {}
    for row in await db.scalars(sa.select(FlagSegment)):
        try:
            found[row.key] = compile_segment(row)
        except (ValueError, KeyError, TypeError) as exc:
            # Flags naming it are then broken, saying so: none is served half-targeted.
            log.warning("segment %s skipped: %s", row.key, exc)
    return found


def _served(
    environment: FlagEnvironment,
    rows: list[FeatureFlag],
    stored: Mapping[uuid.UUID, Stored],
    segments: Mapping[str, Segment],
    revision: int,
) -> Served:
    """Each flag compiled after the flags it requires, so that its prerequisites hold their
    compiled flags; one whose prerequisites go round, or are not served, is broken."""
    states = {
        # A flag written around the app's own doors may lack a state here: it reads as
        # the state it would have been given, off.
        row.key: (
            row,
            state_of(row, environment, stored.get(row.id, {})) or new_state(row, environment),
        )
        for row in rows
    }
    compiled: dict[str, Flag] = {}
    broken: dict[str, str] = {}

    def build(key: str, path: tuple[str, ...]) -> None:
        row, state = states[key]
        try:
            for needed in (p["flag"] for p in state.prerequisites or ()):
                if needed in path or needed == key:
                    raise ValueError(f"prerequisites go round: {' → '.join((*path, key, needed))}")
                if needed in states and needed not in compiled and needed not in broken:
                    build(needed, (*path, key))
            compiled[key] = compile_flag(row, state, segments, compiled)
        except (ValueError, KeyError, TypeError) as exc:
            broken[key] = f"stored definition is invalid: {exc}"
            log.warning("flag %s skipped in %s: %s", key, environment.key, exc)

    for key in states:
        if key not in compiled and key not in broken:
            build(key, ())
    flags = tuple(compiled[row.key] for row in rows if row.key in compiled)
    return Served(environment.key, revision, flags, MappingProxyType(broken))
