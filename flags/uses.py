"""Which flag states use a segment or require a flag: what refuses deleting either while in
use, and names the users; one query each, for every door that deletes or archives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from flags.environments import every_state
from models.flags import FeatureFlag, FlagEnvironment, FlagState


@dataclass(frozen=True)
class Use:
    """A flag's state in one environment that names the thing asked about."""

    flag: FeatureFlag
    environment: FlagEnvironment
    state: FlagState


def segment_uses(db: Session, key: str) -> list[Use]:
    """The states that include or exclude the segment `key`."""
    return segments_uses(db).get(key, [])


def segments_uses(db: Session) -> dict[str, list[Use]]:
    """The states that include or exclude each segment in use, by its key: one reading of
    every state for a whole page of segments."""
    found: dict[str, list[Use]] = {}
    for flag, environment, state in every_state(db):
        named = {*(state.included_segments or ()), *(state.excluded_segments or ())}
        for key in sorted(named):
            found.setdefault(key, []).append(Use(flag, environment, state))
    return found


def dependents(db: Session, key: str) -> list[Use]:
    """The states of other flags that require the flag `key`."""
    return [
        Use(flag, environment, state)
        for flag, environment, state in every_state(db)
        if flag.key != key and any(p.get("flag") == key for p in state.prerequisites or ())
    ]


def in_words(uses: Iterable[Use]) -> str:
    """ "beta-card (Staging, Production), dark-mode (Development)": each flag once, with the
    environments where it uses the thing."""
    named: dict[str, list[str]] = {}
    for use in uses:
        named.setdefault(use.flag.key, []).append(use.environment.name)
    return ", ".join(f"{flag} ({', '.join(where)})" for flag, where in named.items())
