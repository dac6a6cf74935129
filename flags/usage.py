"""How often each flag was answered, counted without a database write per request.

The doors note every answer they give in memory (`EvaluationCounts.add`, a dictionary
increment per flag, keyed by the engine's fixed `Evaluation` object); the flag store's
refresh loop adds the notes into `flag_evaluation_counts` every `FLUSH_EVERY_S`, one row per
flag, environment, variant and UTC hour, in one statement. A worker that crashes loses at
most what it counted since its last write; a database that does not answer keeps the notes
for the next try. An answer is counted in the hour it was written in, so one given in the
last seconds of an hour may land in the next. A 304 evaluates nothing and is not counted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from flags.engine import Evaluation
from models.base import utcnow
from models.flag_usage import FlagEvaluationCount
from models.flags import FeatureFlag

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 10.0
UNIQUE = ("flag_key", "environment", "variant", "hour")


def variant_of(evaluation: Evaluation) -> str:
    """What a count names an answer by: its variant, else on/off, or error."""
    if evaluation.error is not None:
        return "error"
    return evaluation.variant or ("on" if evaluation.on else "off")


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class EvaluationCounts:
    """One worker's unwritten counts."""

    def __init__(self, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.flush_every_s = flush_every_s
        self._pending: dict[str, Counter[Evaluation]] = {}
        """Environment -> answer -> times given since the last write."""
        self._flushed_at = time.monotonic()

    def add(self, environment: str, answers: Iterable[Evaluation]) -> None:
        counts = self._pending.get(environment)
        if counts is None:
            counts = self._pending[environment] = Counter()
        # Counted in C (`Counter.update` over an iterable): the doors add on every request.
        counts.update(answers)

    async def flush_if_due(self, database: Database, *, force: bool = False) -> int:
        """Write the counts when `flush_every_s` has passed (or `force`); returns how many
        rows were written."""
        if not self._pending:
            return 0
        if not force and time.monotonic() - self._flushed_at < self.flush_every_s:
            return 0
        taken, self._pending = self._pending, {}
        self._flushed_at = time.monotonic()
        rows = rows_of(taken, utcnow())
        try:
            async with database.session() as db, db.begin():
                await add_counts(db, rows)
        except Exception as exc:  # the doors keep serving while the database is away
            log.warning("flag evaluation counts not written, kept for the next try: %s", exc)
            for environment, counts in taken.items():
                self.add_counts(environment, counts)
            return 0
        return len(rows)

    def add_counts(self, environment: str, counts: dict[Evaluation, int]) -> None:
        self._pending.setdefault(environment, Counter()).update(counts)


def rows_of(pending: dict[str, dict[Evaluation, int]], now: datetime) -> list[dict[str, object]]:
    """Counts as rows of `now`'s hour, one per flag, environment and variant (two answers
    may share a variant: on by targeting and on by rollout)."""
    summed: dict[tuple[str, str, str], int] = {}
    for environment, counts in pending.items():
        for answer, count in counts.items():
            key = (answer.key, environment, variant_of(answer))
            summed[key] = summed.get(key, 0) + count
    hour = hour_of(now)
    return [
        {"flag_key": k, "environment": e, "variant": v, "hour": hour, "count": n}
        for (k, e, v), n in summed.items()
    ]


async def add_counts(db: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Add `rows` to what is stored, in one statement: other workers add to the same rows."""
    if not rows:
        return
    table = FlagEvaluationCount.__table__
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(rows)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=list(UNIQUE), set_={"count": table.c.count + statement.excluded.count}
        )
    )


async def last_evaluated(db: AsyncSession, flag_key: str) -> dict[str, datetime]:
    """Per environment, the hour the flag was last answered in (as far as written)."""
    found = await db.execute(
        sa.select(FlagEvaluationCount.environment, sa.func.max(FlagEvaluationCount.hour))
        .where(FlagEvaluationCount.flag_key == flag_key)
        .group_by(FlagEvaluationCount.environment)
    )
    return {environment: hour for environment, hour in found.all()}


async def last_evaluated_of(db: AsyncSession, flag_keys: Collection[str]) -> dict[str, datetime]:
    """For each of these flags the doors ever answered, the last hour they did, in any
    environment: one query, a probe of the counts' (flag_key, hour) index per flag (a
    grouped max over the keys would read every hour each flag was counted in)."""
    if not flag_keys:
        return {}
    c = FlagEvaluationCount
    last = sa.select(sa.func.max(c.hour)).where(c.flag_key == FeatureFlag.key).scalar_subquery()
    found = await db.execute(
        sa.select(FeatureFlag.key, last).where(FeatureFlag.key.in_(list(flag_keys)))
    )
    return {key: hour for key, hour in found.all() if hour is not None}
