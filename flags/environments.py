"""Flag environments: where a flag's state in each environment lives, and keeping every
flag's states whole as flags and environments come and go.

Production's state is the flag's own row (`FeatureFlag`), where every door, review rule,
audit entry and demo row has always read it; every other environment's state is a
`FlagEnvironmentState`. `state_of` is the one place that knows which is which: the rest
asks it for "the state of this flag in that environment" and gets either.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.jsonable import plain
from models.flags import (
    PRODUCTION,
    STATE_FIELDS,
    FeatureFlag,
    FlagEnvironment,
    FlagEnvironmentState,
    FlagState,
)

Stored = Mapping[uuid.UUID, FlagEnvironmentState]
"""One flag's stored states, by environment id."""


def state_of(flag: FeatureFlag, environment: FlagEnvironment, stored: Stored) -> FlagState | None:
    """`flag`'s state in `environment`: the flag's own row for production, else its stored
    state (`stored`: the flag's states by environment id); None when it has none yet."""
    if environment.key == PRODUCTION:
        return flag
    return stored.get(environment.id)


def by_environment(states: Iterable[FlagEnvironmentState]) -> dict[uuid.UUID, Stored]:
    """Stored states grouped by flag id, then environment id, as `state_of` takes them."""
    grouped: dict[uuid.UUID, dict[uuid.UUID, FlagEnvironmentState]] = {}
    for state in states:
        grouped.setdefault(state.flag_id, {})[state.environment_id] = state
    return grouped


def every_state(db: Session) -> list[tuple[FeatureFlag, FlagEnvironment, FlagState]]:
    """Every flag's stored state in every environment, flags by key, environments in their
    order: what asks which flags use a segment or depend on a flag reads."""
    environments = list(
        db.scalars(
            sa.select(FlagEnvironment).order_by(FlagEnvironment.position, FlagEnvironment.key)
        )
    )
    flags = list(db.scalars(sa.select(FeatureFlag).order_by(FeatureFlag.key)))
    stored = by_environment(db.scalars(sa.select(FlagEnvironmentState)))
    return [
        (flag, environment, state)
        for flag in flags
        for environment in environments
        if (state := state_of(flag, environment, stored.get(flag.id, {}))) is not None
    ]


def definition(state: FlagState) -> dict[str, Any]:
    """What a state holds (without its revision), as a copy another state can take. Values
    not set yet (a flag being made) are left out, so the columns' defaults apply."""
    return {
        name: copy.deepcopy(value)
        for name in STATE_FIELDS
        if (value := getattr(state, name)) is not None
    }


def new_state(flag: FeatureFlag, environment: FlagEnvironment) -> FlagEnvironmentState:
    """The state a flag gets in an environment it has none in: its definition as given
    (production's), off, so nothing reaches an app before someone turns it on there."""
    return FlagEnvironmentState(
        flag_id=flag.id,
        environment_id=environment.id,
        **definition(flag) | {"enabled": False},
        revision=1,
    )


Difference = tuple[str, Any, Any]
"""(field, the target's value, the source's value): what copying one state onto another
changes."""


def differences(source: FlagState, target: FlagState) -> list[Difference]:
    """What copying `source` onto `target` would change, field by field, in `STATE_FIELDS`'s
    order; empty when they already agree."""
    return [
        (name, getattr(target, name), getattr(source, name))
        for name in STATE_FIELDS
        if getattr(target, name) != getattr(source, name)
    ]


def fingerprint(changes: list[Difference]) -> str:
    """A digest of a copy's changes: a copy confirmed on screen goes ahead only while the
    two states still differ exactly as they were shown."""
    text = json.dumps(plain(changes), sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def copy_into(source: FlagState, target: FlagState) -> None:
    """`target` takes every field of `source`'s state; its revision moves on."""
    for name in STATE_FIELDS:
        setattr(target, name, copy.deepcopy(getattr(source, name)))
    target.revision = (target.revision or 0) + 1


def variant_names(variants: Any) -> list[str]:
    return [v.get("name") for v in variants or () if isinstance(v, dict)]


def names_problem(variants: Any, flag: FeatureFlag) -> str | None:
    """Why an environment's variants cannot be saved for `flag`: the names are the flag's,
    shared by every environment; only weights and payloads are the environment's own."""
    shared = variant_names(flag.variants)
    if sorted(map(str, variant_names(variants))) == sorted(shared):
        return None
    named = ", ".join(shared) if shared else "none"
    return (
        f"Keep the flag's variant names ({named}): only weights and payloads differ between "
        "environments; add or rename variants on the flag itself."
    )


def shared_names(variants: list[dict[str, Any]], names_from: list[dict[str, Any]]) -> list[dict]:
    """`variants` (an environment's) renamed to follow `names_from` (the flag's): a name
    they share keeps the environment's weight and payload; a new name takes the flag's
    payload and weight 0, so the environment's split, which adds up to 100, is unchanged
    until someone weighs it there. An environment left with no weight at all takes the
    flag's weights: some variant must be picked."""
    own = {v.get("name"): v for v in variants or () if isinstance(v, dict)}
    renamed = [copy.deepcopy(own.get(v.get("name")) or v | {"weight": 0}) for v in names_from or ()]
    if not any(isinstance(v.get("weight"), int) and v["weight"] > 0 for v in renamed):
        return copy.deepcopy(names_from or [])
    return renamed


def _made(db: Session, flags: list[FeatureFlag], environments: list[FlagEnvironment]) -> None:
    for environment in environments:
        for flag in flags:
            if state_of(flag, environment, {}) is None:
                state = new_state(flag, environment)
                # The flag and the environment may be new: their ids come with the flush.
                state.flag, state.environment = flag, environment
                db.add(state)


def _follow_names(db: Session, flag: FeatureFlag) -> None:
    history = sa.inspect(flag).attrs.variants.history
    if not history.has_changes():
        return
    before = variant_names(history.deleted[0] if history.deleted else [])
    if before == variant_names(flag.variants):
        return
    for state in db.scalars(
        sa.select(FlagEnvironmentState).where(FlagEnvironmentState.flag_id == flag.id)
    ):
        renamed = shared_names(state.variants, flag.variants)
        if renamed != state.variants:
            state.variants = renamed
            state.revision += 1


@event.listens_for(Session, "before_flush")
def _states_stay_whole(db: Session, _context: Any, _instances: Any) -> None:
    """A new flag gets a state in every environment and a new environment one for every
    flag (`new_state`), whatever door made them; a flag whose variant names change has
    them changed in every environment too."""
    new_flags = [obj for obj in db.new if isinstance(obj, FeatureFlag)]
    new_environments = [obj for obj in db.new if isinstance(obj, FlagEnvironment)]
    if new_flags:
        _made(db, new_flags, list(db.scalars(sa.select(FlagEnvironment))))
    if new_environments:
        _made(db, [*db.scalars(sa.select(FeatureFlag)), *new_flags], new_environments)
    for obj in db.dirty:
        if isinstance(obj, FeatureFlag) and db.is_modified(obj):
            _follow_names(db, obj)
