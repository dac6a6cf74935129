"""A flag's life after launch: settled (served fully on or fully off in production, since
when) and archived (kept, served to no app).

`settled_since` is kept here, on every flush that changes a flag, whatever door changed it
(a form, a row action, the API, a copy, an approval): the "stale after 30 days at 100% or
0%" rule then reads one column, which a list filter can ask the database about. Reading it
from the audit trail instead would parse every flag's history per page, and would miss flags
written around the audited doors (the demo's, a migration's).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from models.base import utcnow
from models.flags import FeatureFlag, settled


def _was_settled_as(flag: FeatureFlag) -> str | None:
    """How production served `flag` before the changes now being flushed."""
    attrs = sa.inspect(flag).attrs
    return settled(_before(attrs.enabled), _before(attrs.rollout_percentage))


def _before(attribute: Any) -> Any:
    history = attribute.history
    return history.deleted[0] if history.deleted else attribute.value


@event.listens_for(Session, "before_flush")
def _keep_settled_since(db: Session, _context: Any, _instances: Any) -> None:
    """A flag that becomes fully on or fully off is settled from now (one made with the
    moment given, by a seed or an import, keeps it); one that changes between the two
    starts again; one partly rolled out is not settled."""
    now = utcnow()
    for flag in (*db.new, *db.dirty):
        if not isinstance(flag, FeatureFlag):
            continue
        created = flag in db.new
        if not created and not db.is_modified(flag):
            continue
        settled = flag.settled_as()
        if settled is None:
            flag.settled_since = None
        elif flag.settled_since is None or (not created and _was_settled_as(flag) != settled):
            flag.settled_since = now
