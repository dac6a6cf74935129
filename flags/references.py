"""What a flag's state names outside itself, checked against the database: the segments it
includes or excludes and the flags it requires. Every door that saves a state (the flag's
form, a state's form, a copy between environments) asks `problems`, so a state never
names a segment or flag that is not there, nor makes prerequisites go round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flags.environments import every_state, variant_names
from flags.uses import dependents, in_words
from models.flag_segments import FlagSegment
from models.flags import FlagEnvironment


def problems(
    db: Session, flag_key: str, environment: str, state: Mapping[str, Any]
) -> dict[str, str]:
    """What is wrong, per field, with `state`'s segments and prerequisites as the state of
    the flag `flag_key` in the environment keyed `environment`; empty when nothing is.
    Fields absent from `state` are not checked."""
    found: dict[str, str] = {}
    if "included_segments" in state or "excluded_segments" in state:
        found |= _segments(db, state)
    if "prerequisites" in state:
        wrong = _prerequisites(db, flag_key, environment, state.get("prerequisites") or [])
        if wrong:
            found["prerequisites"] = wrong
    return found


def _segments(db: Session, state: Mapping[str, Any]) -> dict[str, str]:
    known = set(db.scalars(sa.select(FlagSegment.key)))
    found = {}
    for name in ("included_segments", "excluded_segments"):
        missing = [key for key in state.get(name) or () if key not in known]
        if missing:
            found[name] = f"No segment {', '.join(missing)}."
    both = set(state.get("included_segments") or ()) & set(state.get("excluded_segments") or ())
    if both and "excluded_segments" not in found:
        found["excluded_segments"] = (
            f"{', '.join(sorted(both))} cannot be both included and excluded."
        )
    return found


def _prerequisites(
    db: Session, flag_key: str, environment: str, asked: Sequence[dict[str, Any]]
) -> str | None:
    here = {
        flag.key: (flag, state)
        for flag, where, state in every_state(db)
        if where.key == environment
    }
    for required in asked:
        key, variant = required.get("flag"), required.get("variant")
        if key == flag_key:
            return f"{flag_key} cannot require itself."
        if key not in here:
            return f"There is no flag {key}."
        if variant is not None and variant not in variant_names(here[key][0].variants):
            return f"{key} has no variant {variant}."
    graph = {key: [p.get("flag") for p in s.prerequisites or ()] for key, (_f, s) in here.items()}
    graph[flag_key] = [p.get("flag") for p in asked]
    path = cycle_from(graph, flag_key)
    if path:
        return (
            f"Prerequisites would go round in {_name(db, environment)}: {' → '.join(path)}. "
            "A flag cannot end up requiring itself."
        )
    return None


def required_variants_problem(db: Session, flag_key: str, variants: Any) -> str | None:
    """Why the flag `flag_key` cannot take `variants`: another flag requires one of its
    variants by a name they drop."""
    names = set(variant_names(variants))
    lost = [
        use
        for use in dependents(db, flag_key)
        if any(
            p.get("flag") == flag_key and p.get("variant") and p["variant"] not in names
            for p in use.state.prerequisites or ()
        )
    ]
    if not lost:
        return None
    return (
        f"{in_words(lost)} require a variant of {flag_key} by a name this drops: keep it, or "
        "change their prerequisites first."
    )


def _name(db: Session, environment: str) -> str:
    found = db.scalar(sa.select(FlagEnvironment.name).where(FlagEnvironment.key == environment))
    return found or environment


def cycle_from(graph: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A path of requirements from `start` back to it (["a", "b", "a"]), if there is one."""
    seen = {start}

    def walk(path: list[str]) -> list[str] | None:
        for step in graph.get(path[-1], ()):
            if step == start:
                return [*path, step]
            if step not in seen:
                seen.add(step)
                if found := walk([*path, step]):
                    return found
        return None

    return walk([start])
