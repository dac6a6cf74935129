"""Every change to a flag, its environments' states, the environments, the segments or the
app keys bumps the flags revision in its transaction, and on PostgreSQL notifies the workers
on commit, so their snapshots refresh at once. A segment's change also bumps the revision
of every flag state using it: each of those flags changed for the app."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from flags.snapshot import CLIENT_KEYS, REVISION_KEY
from flags.uses import segment_uses
from models.base import utcnow
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState
from models.ops import RuntimeSetting

CHANNEL = "swipesavvy_flags"


def _touches_flags(db: Session) -> bool:
    for obj in (*db.new, *db.deleted, *(o for o in db.dirty if db.is_modified(o))):
        if isinstance(obj, FeatureFlag | FlagEnvironmentState | FlagEnvironment | FlagSegment):
            return True
        if isinstance(obj, RuntimeSetting) and obj.key == CLIENT_KEYS:
            return True
    return False


def bump(db: Session) -> int:
    """Add one to the revision (creating the row) and notify listeners; returns it."""
    table = RuntimeSetting.__table__
    current = db.execute(
        sa.select(table.c.value).where(table.c.key == REVISION_KEY).with_for_update()
    ).scalar_one_or_none()
    revision = int(current or 0) + 1
    now = utcnow()
    if current is None:
        db.execute(
            sa.insert(RuntimeSetting).values(
                key=REVISION_KEY,
                value=revision,
                description="Counts feature flag changes; caches compare it. Set by the app.",
                is_secret=False,
            )
        )
    else:
        db.execute(
            sa.update(table)
            .where(table.c.key == REVISION_KEY)
            .values(value=revision, updated_at=now)
        )
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.select(sa.func.pg_notify(CHANNEL, str(revision))))
    return revision


@event.listens_for(Session, "before_flush")
def _bump_on_flag_change(db: Session, _context: Any, _instances: Any) -> None:
    changed = [o for o in db.dirty if isinstance(o, FlagSegment) and db.is_modified(o)]
    for segment in changed:
        for use in segment_uses(db, segment.key):
            use.state.revision += 1
    if _touches_flags(db):
        bump(db)
