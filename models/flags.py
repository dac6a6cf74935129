"""Feature flags the mobile app polls."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column, relationship

from models.base import (
    Base,
    JSONDocument,
    Percent,
    StringList,
    Timestamps,
    UtcDateTime,
    UUIDKey,
    check,
    choice,
    loaded,
)
from models.flag_usage import FlagEvaluationCount


class FlagType(StrEnum):
    RELEASE = "release"
    EXPERIMENT = "experiment"
    OPERATIONAL = "operational"
    KILL_SWITCH = "kill_switch"
    PERMISSION = "permission"


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


LIFETIME_DAYS = {FlagType.RELEASE: 40, FlagType.EXPERIMENT: 40, FlagType.OPERATIONAL: 7}
"""How long a flag of each type is expected to live; kill switches and permissions stay."""


SETTLED_DAYS = 30
"""A flag served fully on or fully off in production this long has done its job: stale, as
one past its lifetime is (kill switches and permission flags are meant to sit still)."""
SETTLED = timedelta(days=SETTLED_DAYS)


UNUSED_DAYS = 30
"""A flag no door has answered for this long is asked for by no app build: stale whatever
its type (a kill switch no app reads switches nothing). Only a flag older than this can be,
and never an archived one, which no door answers."""
UNUSED = timedelta(days=UNUSED_DAYS)


def counted_after(now: datetime) -> datetime:
    """The start of the hour `UNUSED` before `now`: a flag counted in that hour or a later
    one (flag_evaluation_counts.hour) may have been answered within `UNUSED`, so is in use."""
    return (now - UNUSED).replace(minute=0, second=0, microsecond=0)


REVIEW_ROLLOUT = Decimal("50")
"""A flag rolled out to more than this share of users is reviewed before it changes."""


PRODUCTION = "production"
"""The environment whose state is the flag's own row, where every door, review rule, audit
entry and demo row has always read it; `flags.environments.state_of` is the one place that
acts on this."""


class FlagState:
    """A flag's state in one environment: who gets it and what they get.

    Declared once, here, for the two tables that hold states: the flag's own row (the
    production state) and `FlagEnvironmentState` (every other environment's). Key, name,
    type and variant names belong to the flag and are shared by all of its states.
    """

    enabled: Mapped[bool] = mapped_column(default=False, index=True)
    rollout_percentage: Mapped[Decimal] = mapped_column(Percent(), default=Decimal("0.00"))
    platforms: Mapped[list[str]] = mapped_column(StringList(16), default=list)
    """Platforms the flag applies to; empty means all."""
    min_app_version: Mapped[str | None] = mapped_column(sa.String(32))
    max_app_version: Mapped[str | None] = mapped_column(sa.String(32))
    allow_list: Mapped[list[str]] = mapped_column(StringList(), default=list)
    """User ids that always get the flag (after the deny-list)."""
    deny_list: Mapped[list[str]] = mapped_column(StringList(), default=list)
    """User ids that never get the flag."""
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument(), default=list)
    """Attribute rules: [{"attribute", "operator", "values"}], all of which must match."""
    included_segments: Mapped[list[str]] = mapped_column(StringList(100), default=list)
    """Keys of segments (`models.flag_segments`) one of which must hold the user; empty
    means no such limit."""
    excluded_segments: Mapped[list[str]] = mapped_column(StringList(100), default=list)
    """Keys of segments none of which may hold the user."""
    prerequisites: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument(), default=list)
    """Flags that must be on for the same user, in this environment: [{"flag": key} or
    {"flag": key, "variant": name}]."""
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument(), default=list)
    """Weighted variants: [{"name", "weight", "payload"}]; the names are the flag's, the
    weights and payloads the environment's."""
    default_value: Mapped[Any | None] = mapped_column(JSONDocument())
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revision: Mapped[int] = mapped_column(default=1)
    """Bumped on every change, so caches and the app can tell versions apart."""

    @staticmethod
    def checks() -> tuple[sa.CheckConstraint, ...]:
        """A state's rules, as CHECK constraints of the table holding it (new objects for
        each table: a constraint belongs to one)."""
        return (
            check(
                "rollout_percentage >= 0 AND rollout_percentage <= 100",
                "rollout_percentage",
                fields=("rollout_percentage",),
                message="Rollout must be between 0 and 100 percent.",
                minimum=0,
                maximum=100,
            ),
            check(
                "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at",
                "schedule_order",
                fields=("ends_at",),
                message="The end must come after the start.",
            ),
            check(
                "revision >= 1",
                "revision_positive",
                fields=("revision",),
                message="Revision starts at 1.",
                minimum=1,
            ),
        )


STATE_FIELDS = tuple(
    name
    for name, value in vars(FlagState).items()
    if isinstance(value, MappedColumn) and name != "revision"
)
"""What a state holds, as copied between environments (its revision is its own)."""


def settled(enabled: bool | None, rollout: Decimal | None) -> str | None:
    """ "on" for a state served to everyone it targets (on, at 100%), "off" for one served to
    no one (off, or at 0%), None for one partly rolled out."""
    if not enabled or (rollout or 0) == 0:
        return "off"
    return "on" if rollout == 100 else None


class FeatureFlag(UUIDKey, FlagState, Timestamps, Base):
    """A switch, rollout or experiment evaluated for each app user; its columns of
    `FlagState` are its production state."""

    __tablename__ = "feature_flags"
    __table_args__ = (
        check(
            "key = lower(key) AND length(key) > 0",
            "key_slug",
            fields=("key",),
            message="Use lower-case letters, digits and dashes.",
        ),
        *FlagState.checks(),
    )

    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    """Stable slug the app asks for; immutable once created."""
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    flag_type: Mapped[str] = mapped_column(
        choice(FlagType, "flag_type"), default=FlagType.RELEASE, index=True
    )
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    """When staff archived it: kept, history and all, but served to no app and left out of
    the list unless asked for. Flags are archived, never deleted."""
    settled_since: Mapped[datetime | None] = mapped_column(UtcDateTime, info={"derived": True})
    """Since when production has served it fully on (on, at 100%) or fully off (off, or at
    0%) without a break; none while partly rolled out. Kept by flags/lifecycle.py on every
    change, whatever door makes it."""
    requires_review: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    """Changes to it wait for a second person; permission flags and flags rolled out past
    `REVIEW_ROLLOUT` always do (`needs_review`)."""

    def needs_review(self, rollout: Decimal | None = None) -> bool:
        """Whether changing this flag (to `rollout`, when it changes) needs a second person."""
        return (
            self.requires_review
            or self.flag_type == FlagType.PERMISSION
            or max(self.rollout_percentage or 0, rollout or 0) > REVIEW_ROLLOUT
        )

    def settled_as(self) -> str | None:
        """How production serves it: `settled` of its state."""
        return settled(self.enabled, self.rollout_percentage)

    def stale_because(self, now: datetime, last_evaluated: datetime | None) -> str | None:
        """Why it is time to remove it from the app and here, in words; None while it is
        not. `last_evaluated` is the hour the doors last answered it in, None if they never
        have (`flags.usage.last_evaluated_of`); `stale_clause` is the same rule in SQL."""
        days = LIFETIME_DAYS.get(FlagType(self.flag_type))
        if days is not None:
            if now - self.created_at > timedelta(days=days):
                return f"Past its {days}-day lifetime"
            served = self.settled_as()
            if served and self.settled_since and now - self.settled_since > SETTLED:
                held = (now - self.settled_since).days
                said = "On at 100%" if served == "on" else "Off"
                return f"{said} in production for {held} days"
        if self.archived_at is None and now - self.created_at > UNUSED:
            if last_evaluated is None:
                return "Never evaluated"
            if last_evaluated < counted_after(now):
                return f"Not evaluated since {last_evaluated.date().isoformat()}"
        return None

    def is_stale(self, now: datetime, last_evaluated: datetime | None) -> bool:
        return self.stale_because(now, last_evaluated) is not None

    @classmethod
    def stale_clause(cls, now: datetime) -> sa.ColumnElement[bool]:
        """`stale_because` as SQL, for a list filter the database answers; whether the flag
        was answered lately is one probe of the counts' (flag_key, hour) index."""
        counts = FlagEvaluationCount
        return sa.or_(
            *(
                (cls.flag_type == kind) & (cls.created_at < now - timedelta(days=days))
                for kind, days in LIFETIME_DAYS.items()
            ),
            cls.flag_type.in_(list(LIFETIME_DAYS))
            & cls.settled_since.is_not(None)
            & (cls.settled_since < now - SETTLED),
            cls.archived_at.is_(None)
            & (cls.created_at < now - UNUSED)
            & ~sa.exists().where(counts.flag_key == cls.key, counts.hour >= counted_after(now)),
        )

    def __str__(self) -> str:
        return self.key


class FlagEnvironment(UUIDKey, Timestamps, Base):
    """Where an app build reads its flags: development, staging, production, or one staff
    add. Every flag has a state in each; app keys belong to one."""

    __tablename__ = "flag_environments"
    __table_args__ = (
        check(
            "key = lower(key) AND length(key) > 0",
            "key_slug",
            fields=("key",),
            message="Use lower-case letters, digits and dashes.",
        ),
        check(
            "position >= 0",
            "position_non_negative",
            fields=("position",),
            message="The position is 0 or more.",
            minimum=0,
        ),
    )

    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    """Stable slug app keys and FLAGS_ENVIRONMENT name; fixed once created."""
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    """Order on the flag's page, lowest first."""

    def __str__(self) -> str:
        return self.name


class FlagEnvironmentState(UUIDKey, FlagState, Timestamps, Base):
    """A flag's state in an environment other than production (whose state is the flag's
    own row)."""

    label_loads = ("flag", "environment")
    """Named in the label when loaded: see `loaded`."""

    __tablename__ = "flag_environment_states"
    __table_args__ = (sa.UniqueConstraint("flag_id", "environment_id"), *FlagState.checks())

    flag_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("feature_flags.id", ondelete="CASCADE")
    )
    environment_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("flag_environments.id", ondelete="RESTRICT"), index=True
    )

    flag: Mapped[FeatureFlag] = relationship()
    environment: Mapped[FlagEnvironment] = relationship()

    def __str__(self) -> str:
        flag, environment = loaded(self, "flag"), loaded(self, "environment")
        if flag is None or environment is None:
            return "Flag state"
        return f"{flag.key} in {environment.name}"
