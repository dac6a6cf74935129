"""Evaluating a feature flag for one app user. Pure: no I/O, no clock of its own.

Order: disabled → schedule → deny-list → allow-list → platform, version and attribute
rules → rollout → variant.

Bucketing, the part mobile SDKs must reproduce exactly: MurmurHash3 x86 32-bit, unsigned,
seed 0, of the UTF-8 bytes of "{flag_key}:{targeting_key}", modulo 10,000. A user is in the
rollout when that bucket is below rollout_percentage * 100, so raising the percentage only
ever adds users. Variants hash the same bytes with seed 86028157, modulo the total weight,
so the variant a user gets does not depend on whether they are in the rollout.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@lru_cache(maxsize=4096)
def parse_version(text: str) -> semver.Version:
    """`4.2` reads as 4.2.0; 1.0.10 is newer than 1.0.9. Raises ValueError if not a version."""
    return semver.Version.parse(text.strip(), optional_minor_and_patch=True)


def bucket(flag_key: str, targeting_key: str, seed: int = 0) -> int:
    return mmh3.hash(f"{flag_key}:{targeting_key}".encode(), seed, signed=False) % BUCKETS


def variant_point(flag_key: str, targeting_key: str, total_weight: int) -> int:
    return (
        mmh3.hash(f"{flag_key}:{targeting_key}".encode(), VARIANT_SEED, signed=False) % total_weight
    )


@dataclass(frozen=True)
class Rule:
    attribute: str
    operator: Operator
    values: tuple[Any, ...]

    def matches(self, context: Context) -> bool:
        actual = context.attribute(self.attribute)
        if actual is None:
            return False
        try:
            return self._compare(actual)
        except (ValueError, TypeError, ArithmeticError):
            return False

    def _compare(self, actual: Any) -> bool:
        first = self.values[0]
        match self.operator:
            case Operator.IN:
                return actual in self.values
            case Operator.NOT_IN:
                return actual not in self.values
            case Operator.EQ:
                return bool(actual == first)
            case Operator.NEQ:
                return bool(actual != first)
            case Operator.SEMVER_GTE:
                return parse_version(str(actual)) >= parse_version(str(first))
            case Operator.SEMVER_LT:
                return parse_version(str(actual)) < parse_version(str(first))
            case Operator.GTE:
                return Decimal(str(actual)) >= Decimal(str(first))
            case Operator.LT:
                return Decimal(str(actual)) < Decimal(str(first))
            case Operator.CONTAINS:
                if isinstance(actual, list | tuple):
                    return first in actual
                return str(first) in str(actual)
        return False


@dataclass(frozen=True)
class Variant:
    name: str
    weight: int
    payload: Any


@dataclass(frozen=True)
class Flag:
    """A flag as the engine sees it: parsed once when the snapshot is built."""

    key: str
    enabled: bool
    rollout_percentage: Decimal = Decimal(100)
    platforms: frozenset[str] = frozenset()
    min_version: semver.Version | None = None
    max_version: semver.Version | None = None
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()
    variants: tuple[Variant, ...] = ()
    default_value: Any = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    revision: int = 1
    flag_type: str = "release"
    threshold: int = field(init=False)
    total_weight: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", int(self.rollout_percentage * 100))
        object.__setattr__(self, "total_weight", sum(v.weight for v in self.variants))

    @property
    def targeted(self) -> bool:
        """Whether anything but the on/off switch decides who gets it."""
        return bool(
            self.platforms
            or self.min_version
            or self.max_version
            or self.rules
            or self.allow
            or self.deny
        )

    @property
    def off_value(self) -> Any:
        return False if self.default_value is None else self.default_value


@dataclass(frozen=True)
class Context:
    targeting_key: str | None = None
    platform: str | None = None
    app_version: semver.Version | None = None
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


@dataclass(frozen=True)
class Evaluation:
    key: str
    on: bool
    value: Any
    variant: str | None
    reason: Reason
    error: ErrorCode | None = None


def evaluate(flag: Flag, context: Context, now: datetime) -> Evaluation:
    if not flag.enabled:
        return _off(flag, Reason.DISABLED)
    if (flag.starts_at and now < flag.starts_at) or (flag.ends_at and now >= flag.ends_at):
        return _off(flag, Reason.DEFAULT)
    key = context.targeting_key
    if key is not None and key in flag.deny:
        return _off(flag, Reason.TARGETING_MATCH)
    if key is not None and key in flag.allow:
        return _on(flag, context, Reason.TARGETING_MATCH)
    if not _eligible(flag, context):
        return _off(flag, Reason.DEFAULT)
    if flag.threshold < BUCKETS:
        if key is None:
            return _missing_key(flag)
        if bucket(flag.key, key) >= flag.threshold:
            return _off(flag, Reason.DEFAULT)
        return _on(flag, context, Reason.SPLIT)
    return _on(flag, context, Reason.TARGETING_MATCH if flag.targeted else Reason.STATIC)


def _eligible(flag: Flag, context: Context) -> bool:
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
    return all(rule.matches(context) for rule in flag.rules)


def _on(flag: Flag, context: Context, reason: Reason) -> Evaluation:
    if not flag.variants:
        return Evaluation(flag.key, True, True, None, reason)
    chosen = flag.variants[0]
    if len(flag.variants) > 1:
        if context.targeting_key is None:
            return _missing_key(flag)
        point = variant_point(flag.key, context.targeting_key, flag.total_weight)
        for candidate in flag.variants:
            if point < candidate.weight:
                chosen = candidate
                break
            point -= candidate.weight
        reason = Reason.SPLIT
    return Evaluation(flag.key, True, chosen.payload, chosen.name, reason)


def _off(flag: Flag, reason: Reason) -> Evaluation:
    return Evaluation(flag.key, False, flag.off_value, None, reason)


def _missing_key(flag: Flag) -> Evaluation:
    return Evaluation(
        flag.key, False, flag.off_value, None, Reason.ERROR, ErrorCode.TARGETING_KEY_MISSING
    )
