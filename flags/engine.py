"""Evaluating a feature flag for one app user. Pure: no I/O, no clock of its own.

Order: disabled → schedule → prerequisites → deny-list → allow-list → excluded segments →
included segments, platform, version and attribute rules → rollout → variant.

Prerequisites: each names another flag of the same environment (and maybe one of its
variants) that must be on for the same user. A prerequisite not met answers the flag's off
value with reason TARGETING_MATCH, as the deny-list does: the flag is on (DISABLED is kept for
a flag switched off) and targeting decided this user does not get it. LaunchDarkly reports
its own PREREQUISITE_FAILED; OpenFeature has no such reason.

Segments are audiences shared by flags: a user is in one when on its allow-list, else when
not on its deny-list and it has rules and matches all of them. A user in any excluded
segment is not eligible (DEFAULT); with included segments, one must hold the user. Both are
resolved into the flag when the snapshot is built: evaluating reads no segment by key.

Bucketing, the part mobile SDKs must reproduce exactly: MurmurHash3 x86 32-bit, unsigned,
seed 0, of the UTF-8 bytes of "{flag_key}:{targeting_key}", modulo 10,000. A user is in the
rollout when that bucket is below rollout_percentage * 100, so raising the percentage only
ever adds users. Variants hash the same bytes with seed 86028157, modulo the total weight,
so the variant a user gets does not depend on whether they are in the rollout.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

import mmh3
import semver

BUCKETS = 10_000
VARIANT_SEED = 86028157
PLATFORMS = frozenset({"ios", "android", "web"})


class Reason(StrEnum):
    """OpenFeature's evaluation reasons."""

    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    DEFAULT = "DEFAULT"
    ERROR = "ERROR"


class Operator(StrEnum):
    IN = "in"
    NOT_IN = "not_in"
    EQ = "eq"
    NEQ = "neq"
    SEMVER_GTE = "semver_gte"
    SEMVER_LT = "semver_lt"
    GTE = "gte"
    LT = "lt"
    CONTAINS = "contains"


class Version(tuple):
    """A semantic version as a tuple ordered by semver precedence.

    (major, minor, patch, pre) where pre is (1,) for a release and (0, *identifiers) for a
    pre-release, numeric identifiers sorting before alphanumeric ones; build metadata is
    ignored. Being a plain tuple, comparisons run in C: the feed compares versions for
    every flag on every request.
    """

    text: str

    def __new__(cls, parsed: semver.Version, text: str) -> Version:
        pre: tuple[Any, ...] = (1,)
        if parsed.prerelease:
            pre = (
                0,
                *((0, int(p)) if p.isdigit() else (1, p) for p in parsed.prerelease.split(".")),
            )
        version = super().__new__(cls, (parsed.major, parsed.minor, parsed.patch, pre))
        version.text = text
        return version

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version:
    """`4.2` reads as 4.2.0; 1.0.10 is newer than 1.0.9. Raises ValueError if not a version."""
    text = text.strip()
    return Version(semver.Version.parse(text, optional_minor_and_patch=True), text)


def bucket(flag_key: str, targeting_key: str, seed: int = 0) -> int:
    return mmh3.hash(f"{flag_key}:{targeting_key}".encode(), seed, signed=False) % BUCKETS


def variant_point(flag_key: str, targeting_key: str, total_weight: int) -> int:
    return (
        mmh3.hash(f"{flag_key}:{targeting_key}".encode(), VARIANT_SEED, signed=False) % total_weight
    )


@dataclass(frozen=True, slots=True)
class Rule:
    attribute: str
    operator: Operator
    values: tuple[Any, ...]
    test: Callable[[Any], bool] = field(init=False, repr=False, compare=False)
    """The comparison, specialised to the operator and values when the snapshot is built."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _comparison(self.operator, self.values))

    def matches(self, context: Context) -> bool:
        actual = context.attribute(self.attribute)
        if actual is None:
            return False
        try:
            return self.test(actual)
        except (ValueError, TypeError, ArithmeticError):
            return False


def _comparison(op: Operator, values: tuple[Any, ...]) -> Callable[[Any], bool]:
    """A predicate on the context's value. Parsing the rule's own values happens here, once;
    a value that does not parse raises ValueError and the flag is reported as broken."""
    first = values[0]
    try:
        members: frozenset[Any] | tuple[Any, ...] = frozenset(values)
    except TypeError:  # a list or object among the values: compare one by one
        members = values
    match op:
        case Operator.IN:
            return lambda actual: actual in members
        case Operator.NOT_IN:
            return lambda actual: actual not in members
        case Operator.EQ:
            return lambda actual: bool(actual == first)
        case Operator.NEQ:
            return lambda actual: bool(actual != first)
        case Operator.CONTAINS:
            return lambda actual: (
                first in actual if isinstance(actual, list | tuple) else str(first) in str(actual)
            )
    parse, compare = _ORDERED[op]
    bound = parse(first)
    return lambda actual: compare(parse(actual), bound)


_ORDERED: dict[Operator, tuple[Callable[[Any], Any], Callable[[Any, Any], bool]]] = {
    Operator.SEMVER_GTE: (lambda value: parse_version(str(value)), operator.ge),
    Operator.SEMVER_LT: (lambda value: parse_version(str(value)), operator.lt),
    Operator.GTE: (lambda value: Decimal(str(value)), operator.ge),
    Operator.LT: (lambda value: Decimal(str(value)), operator.lt),
}
"""The operators that order values: how to read a value, and the comparison."""


@dataclass(slots=True)
class Known:
    """What the evaluation of one context against one snapshot has answered so far: a flag
    others require, or a segment many flags name, is worked out once per context."""

    flags: dict[str, Evaluation] = field(default_factory=dict)
    segments: dict[str, bool] = field(default_factory=dict)

    def holds(self, segment: Segment, context: Context) -> bool:
        found = self.segments.get(segment.key)
        if found is None:
            found = self.segments[segment.key] = segment.holds(context)
        return found


@dataclass(frozen=True, slots=True)
class Segment:
    """An audience as the engine sees it, parsed once when the snapshot is built."""

    key: str
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()

    def holds(self, context: Context) -> bool:
        key = context.targeting_key
        if key is not None:
            if key in self.deny:
                return False
            if key in self.allow:
                return True
        if not self.rules:
            return False
        for rule in self.rules:
            if not rule.matches(context):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """Another flag of the same environment that must be on for the user, and give
    `variant` when one is named."""

    key: str
    variant: str | None
    flag: Flag = field(repr=False, compare=False)

    def met(self, context: Context, now: datetime, known: Known | None = None) -> bool:
        answer = known.flags.get(self.key) if known is not None else None
        if answer is None:
            answer = evaluate(self.flag, context, now, known)
            if known is not None:
                known.flags[self.key] = answer
        return answer.on and (self.variant is None or answer.variant == self.variant)


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    weight: int
    payload: Any


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag as the engine sees it: parsed once when the snapshot is built."""

    key: str
    enabled: bool
    rollout_percentage: Decimal = Decimal(100)
    platforms: frozenset[str] = frozenset()
    min_version: Version | None = None
    max_version: Version | None = None
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    variants: tuple[Variant, ...] = ()
    default_value: Any = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    revision: int = 1
    flag_type: str = "release"
    included: tuple[Segment, ...] = field(default=(), repr=False)
    """Segments one of which must hold the user, when any."""
    excluded: tuple[Segment, ...] = field(default=(), repr=False)
    """Segments none of which may hold the user."""
    prerequisites: tuple[Prerequisite, ...] = field(default=(), repr=False)
    # Left out of the repr, which the snapshot's fingerprint reads: a flag without them
    # keeps the fingerprint (and the feed's ETags) it had before they existed.
    threshold: int = field(init=False)
    targeted: bool = field(init=False)
    """Whether anything but the on/off switch decides who gets it."""
    conditional: bool = field(init=False)
    """Whether segments, platform, version or rules limit who may get it."""
    gated: bool = field(init=False)
    """Whether a schedule or prerequisites may turn it off before its targeting is read."""
    segmented: bool = field(init=False)
    """Whether it includes or excludes segments."""
    outcomes: _Outcomes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        conditional = bool(
            self.platforms
            or self.min_version
            or self.max_version
            or self.rules
            or self.included
            or self.excluded
        )
        targeted = conditional or bool(self.allow or self.deny or self.prerequisites)
        object.__setattr__(self, "threshold", int(self.rollout_percentage * 100))
        object.__setattr__(self, "targeted", targeted)
        object.__setattr__(self, "conditional", conditional)
        # One test each on the hot path for what most flags lack.
        gated = bool(self.starts_at or self.ends_at or self.prerequisites)
        object.__setattr__(self, "gated", gated)
        object.__setattr__(self, "segmented", bool(self.included or self.excluded))
        object.__setattr__(self, "outcomes", _Outcomes.of(self))

    @property
    def off_value(self) -> Any:
        return False if self.default_value is None else self.default_value


@dataclass(frozen=True, slots=True)
class Context:
    targeting_key: str | None = None
    platform: str | None = None
    app_version: Version | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def attribute(self, name: str) -> Any:
        if name in self.attributes:
            return self.attributes[name]
        if name == "platform":
            return self.platform
        if name in ("app_version", "appVersion"):
            return str(self.app_version) if self.app_version else None
        if name in ("targetingKey", "user_id"):
            return self.targeting_key
        return None


class ErrorCode(StrEnum):
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"


@dataclass(frozen=True, eq=False, slots=True)
class Evaluation:
    """One of a flag's fixed answers. Compared and hashed by identity: the doors memoise
    the wire form of each answer for the life of its snapshot."""

    key: str
    on: bool
    value: Any
    variant: str | None
    reason: Reason
    error: ErrorCode | None = None


@dataclass(frozen=True, slots=True)
class _Outcomes:
    """Every answer a flag can give, built once with the snapshot, so evaluating allocates
    nothing: the feed evaluates every flag on every request."""

    disabled: Evaluation
    not_eligible: Evaluation
    denied: Evaluation
    missing_key: Evaluation
    on_static: Evaluation
    on_targeted: Evaluation
    on_split: Evaluation
    by_variant: tuple[Evaluation, ...]
    """One per variant when there are several; picked by the variant hash."""
    weight_bounds: tuple[int, ...]
    """Running totals of the variant weights, for the pick."""
    total_weight: int

    @classmethod
    def of(cls, flag: Flag) -> _Outcomes:
        off = flag.off_value

        def on(reason: Reason) -> Evaluation:
            if flag.variants:
                first = flag.variants[0]
                return Evaluation(flag.key, True, first.payload, first.name, reason)
            return Evaluation(flag.key, True, True, None, reason)

        bounds, total = [], 0
        for variant in flag.variants:
            total += variant.weight
            bounds.append(total)
        return cls(
            disabled=Evaluation(flag.key, False, off, None, Reason.DISABLED),
            not_eligible=Evaluation(flag.key, False, off, None, Reason.DEFAULT),
            denied=Evaluation(flag.key, False, off, None, Reason.TARGETING_MATCH),
            missing_key=Evaluation(
                flag.key, False, off, None, Reason.ERROR, ErrorCode.TARGETING_KEY_MISSING
            ),
            on_static=on(Reason.STATIC),
            on_targeted=on(Reason.TARGETING_MATCH),
            on_split=on(Reason.SPLIT),
            by_variant=tuple(
                Evaluation(flag.key, True, v.payload, v.name, Reason.SPLIT) for v in flag.variants
            )
            if len(flag.variants) > 1
            else (),
            weight_bounds=tuple(bounds),
            total_weight=total,
        )


def evaluate_flags(flags: Iterable[Flag], context: Context, now: datetime) -> list[Evaluation]:
    """Every flag for one context, each flag and segment worked out once: a flag that others
    require is answered once for all of them (a chain of eight prerequisites evaluated its
    first flag eight times), a segment once for every flag naming it."""
    known = Known()
    answered = known.flags
    answers = []
    for flag in flags:
        answer = answered.get(flag.key)
        if answer is None:
            answer = answered[flag.key] = evaluate(flag, context, now, known)
        answers.append(answer)
    return answers


def evaluate(flag: Flag, context: Context, now: datetime, known: Known | None = None) -> Evaluation:
    """The flag's answer for the context; `known` holds what is already answered for the
    same context and snapshot, and takes what is worked out here."""
    outcomes = flag.outcomes
    if not flag.enabled:
        return outcomes.disabled
    if flag.gated:
        if (flag.starts_at and now < flag.starts_at) or (flag.ends_at and now >= flag.ends_at):
            return outcomes.not_eligible
        for prerequisite in flag.prerequisites:
            if not prerequisite.met(context, now, known):
                return outcomes.denied
    key = context.targeting_key
    if key is not None and key in flag.deny:
        return outcomes.denied
    if key is not None and key in flag.allow:
        return _on(flag, key, outcomes.on_targeted)
    if flag.conditional and not _eligible(flag, context, known):
        return outcomes.not_eligible
    if flag.threshold < BUCKETS:
        if key is None:
            return outcomes.missing_key
        if bucket(flag.key, key) >= flag.threshold:
            return outcomes.not_eligible
        return _on(flag, key, outcomes.on_split)
    return _on(flag, key, outcomes.on_targeted if flag.targeted else outcomes.on_static)


def _eligible(flag: Flag, context: Context, known: Known | None) -> bool:
    # Cheapest first: most flags that turn a context away do it by platform or version.
    if flag.platforms and context.platform not in flag.platforms:
        return False
    if flag.min_version or flag.max_version:
        version = context.app_version
        if version is None:
            return False
        if flag.min_version and version < flag.min_version:
            return False
        if flag.max_version and version > flag.max_version:
            return False
    if flag.segmented and not _in_segments(flag, context, known):
        return False
    for rule in flag.rules:
        if not rule.matches(context):
            return False
    return True


def _in_segments(flag: Flag, context: Context, known: Known | None) -> bool:
    """In none of the excluded segments and, where there are included ones, in one."""
    holds = known.holds if known is not None else _holds
    for segment in flag.excluded:
        if holds(segment, context):
            return False
    if not flag.included:
        return True
    for segment in flag.included:
        if holds(segment, context):
            return True
    return False


def _holds(segment: Segment, context: Context) -> bool:
    return segment.holds(context)


def _on(flag: Flag, key: str | None, single: Evaluation) -> Evaluation:
    """`single` when the flag has at most one variant; else the variant the user hashes to."""
    outcomes = flag.outcomes
    if not outcomes.by_variant:
        return single
    if key is None:
        return outcomes.missing_key
    point = variant_point(flag.key, key, outcomes.total_weight)
    return outcomes.by_variant[bisect_right(outcomes.weight_bounds, point)]
