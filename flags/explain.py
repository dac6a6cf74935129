"""Why a flag answers what it does for one user, in words, for the flag's preview.

The engine (`flags.engine.evaluate`) answers millions of times a day and keeps no account of
why. This walks the same checks in the same order, once, for a person asking on screen, and
says the one that decided: "Only for iOS, Android; this is Web.", "Outside the 20% rollout:
this user falls at 63.17%." `tests/flags/test_explain.py` holds the two to the same answer
over many contexts, so a check added to the engine and not here fails there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flags.engine import (
    BUCKETS,
    Context,
    Flag,
    Rule,
    Segment,
    bucket,
    evaluate,
)
from flags.words import PLATFORM_NAMES, attribute_words, rule_words, value_words


@dataclass(frozen=True, slots=True)
class Explanation:
    on: bool
    why: str
    """One or two sentences naming the check that decided."""


def explain(
    flag: Flag,
    context: Context,
    now: datetime,
    segment_names: Mapping[str, str] | None = None,
) -> Explanation:
    """The check that decides `flag` for `context`, in the engine's order."""
    names = segment_names or {}
    user = context.targeting_key
    if not flag.enabled:
        return Explanation(False, "The flag is off here: nobody gets it.")
    if flag.starts_at and now < flag.starts_at:
        return Explanation(False, f"Scheduled: nobody gets it before {_when(flag.starts_at)}.")
    if flag.ends_at and now >= flag.ends_at:
        return Explanation(False, f"Its schedule ended {_when(flag.ends_at)}: nobody gets it.")
    for prerequisite in flag.prerequisites:
        if not prerequisite.met(context, now):
            answer = evaluate(prerequisite.flag, context, now)
            if not answer.on:
                why = f"It requires {prerequisite.key}, which is off for this user."
            else:
                why = (
                    f"It requires {prerequisite.key} to give {prerequisite.variant}; this "
                    f"user gets {answer.variant}."
                )
            return Explanation(False, why)
    if user is not None and user in flag.deny:
        return Explanation(False, f"{user} is on its deny list.")
    if user is not None and user in flag.allow:
        return Explanation(True, f"{user} is on its allow list.")
    if refused := _not_eligible(flag, context, names):
        return Explanation(False, refused)
    share = _percent(flag.threshold)
    if flag.threshold < BUCKETS:
        if user is None:
            return Explanation(False, f"No user id: the {share} rollout needs one to choose.")
        point = bucket(flag.key, user)
        if point >= flag.threshold:
            return Explanation(
                False, f"Outside the {share} rollout: this user falls at {_percent(point)}."
            )
        return Explanation(True, f"In the {share} rollout: this user falls at {_percent(point)}.")
    if len(flag.variants) > 1 and user is None:
        return Explanation(False, "No user id: its variants need one to choose.")
    if flag.conditional:
        return Explanation(True, "This user matches its targeting, and it is on for all of them.")
    return Explanation(True, "It is on for everyone.")


def _not_eligible(flag: Flag, context: Context, names: Mapping[str, str]) -> str | None:
    """What in the platform, version, segments or rules turns the context away, if any."""
    if flag.platforms and context.platform not in flag.platforms:
        only = ", ".join(PLATFORM_NAMES.get(p, p) for p in sorted(flag.platforms))
        given = PLATFORM_NAMES.get(context.platform or "", context.platform)
        return f"Only for {only}; " + (f"this is {given}." if given else "no platform given.")
    if flag.min_version or flag.max_version:
        low, high = flag.min_version, flag.max_version
        wanted = f"{low} to {high}" if low and high else f"≥ {low}" if low else f"≤ {high}"
        version = context.app_version
        if version is None:
            return f"Only for app version {wanted}; no app version given."
        if (low and version < low) or (high and version > high):
            return f"Only for app version {wanted}; this is {version}."
    for segment in flag.excluded:
        if segment.holds(context):
            return f"This user is in {_segment(segment, names)}, which it excludes."
    if flag.included and not any(segment.holds(context) for segment in flag.included):
        among = " or ".join(_segment(segment, names) for segment in flag.included)
        return f"Only for {among}; this user is in none."
    for rule in flag.rules:
        if not rule.matches(context):
            return f"Only where {_rule(rule)}; {_actual(rule, context)}."
    return None


def _segment(segment: Segment, names: Mapping[str, str]) -> str:
    return names.get(segment.key, segment.key)


def _rule(rule: Rule) -> str:
    said = {"attribute": rule.attribute, "operator": rule.operator, "values": rule.values}
    return rule_words(said)


def _actual(rule: Rule, context: Context) -> str:
    value = context.attribute(rule.attribute)
    name = attribute_words(rule.attribute)
    return f"{name} not given" if value is None else f"{name} is {value_words(value)}"


def _percent(basis_points: int) -> str:
    return f"{basis_points / (BUCKETS / 100):.2f}".rstrip("0").rstrip(".") + "%"


def _when(moment: datetime) -> str:
    return moment.strftime("%-d %b %Y, %H:%M UTC")
