"""The flag engine: bucketing vectors for SDKs, uniform and monotonic rollouts, the
evaluation order, schedules, platforms, versions, rules and weighted variants."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from flags.engine import (
    Context,
    ErrorCode,
    Flag,
    Operator,
    Reason,
    Rule,
    Variant,
    bucket,
    evaluate,
    parse_version,
    variant_point,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

# Published for mobile SDKs: (flag key, targeting key, rollout bucket, variant point of 100).
# bucket = murmur3_x86_32(utf8("{key}:{user}"), seed=0) % 10000
# point  = murmur3_x86_32(utf8("{key}:{user}"), seed=86028157) % total_weight
VECTORS = [
    ("new-checkout-flow", "user-1", 3104, 18),
    ("new-checkout-flow", "user-2", 4519, 13),
    ("dark-mode", "8d3f0a4e-1c2b-4e5f-9a7b-6c5d4e3f2a1b", 330, 32),
    ("p2p-transfers", "42", 3537, 18),
    ("cashback-boost-weekend", "alice@example.com", 6600, 58),
    ("a", "b", 2131, 82),
    ("flag", "ünïcödé-user", 1343, 53),
]


def murmur3_x86_32(data: bytes, seed: int) -> int:
    """The reference algorithm, written out so the vectors do not rest on one library."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & mask  # noqa: E731
    full = len(data) // 4 * 4
    for i in range(0, full, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = rotl((k * c1) & mask, 15) * c2 & mask
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask
    tail = data[full:]
    k = int.from_bytes(tail, "little") if tail else 0
    if tail:
        h ^= rotl((k * c1) & mask, 15) * c2 & mask
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    return h ^ (h >> 16)


@pytest.mark.parametrize(("key", "user", "expected_bucket", "expected_point"), VECTORS)
def test_published_bucketing_vectors(
    key: str, user: str, expected_bucket: int, expected_point: int
) -> None:
    data = f"{key}:{user}".encode()

    assert bucket(key, user) == expected_bucket == murmur3_x86_32(data, 0) % 10_000
    assert variant_point(key, user, 100) == expected_point == murmur3_x86_32(data, 86028157) % 100


def test_buckets_are_uniform_within_one_percent() -> None:
    counts = Counter(bucket("uniformity", str(uuid.UUID(int=n))) // 1000 for n in range(100_000))

    for decile in range(10):
        assert abs(counts[decile] - 10_000) <= 1_000, counts


def flag(**values: object) -> Flag:
    return Flag(**{"key": "test-flag", "enabled": True} | values)  # type: ignore[arg-type]


def users(n: int) -> list[str]:
    return [f"user-{i}" for i in range(n)]


def test_raising_the_rollout_only_adds_users() -> None:
    seen: set[str] = set()
    for percent in ("0", "0.01", "5", "12.5", "33.33", "50", "99.99", "100"):
        rollout = flag(rollout_percentage=Decimal(percent))
        now_in = {u for u in users(20_000) if evaluate(rollout, Context(u), NOW).on}
        assert seen <= now_in
        assert abs(len(now_in) / 20_000 - float(percent) / 100) < 0.01
        seen = now_in


def test_the_same_user_gets_the_same_answer_every_time() -> None:
    rollout = flag(rollout_percentage=Decimal("40"))
    first = [evaluate(rollout, Context(u), NOW).on for u in users(1000)]

    assert first == [evaluate(rollout, Context(u), NOW).on for u in users(1000)]


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0.9", "1.0.10"),
        ("1.9.0", "1.10.0"),
        ("4.2", "4.2.1"),
        ("2.0.0-beta.1", "2.0.0"),
        ("0.9", "1.0"),
    ],
)
def test_versions_compare_as_semantic_versions(older: str, newer: str) -> None:
    assert parse_version(older) < parse_version(newer)


def test_evaluation_order_and_reasons() -> None:
    everyone = flag()
    targeted = flag(platforms=frozenset({"ios"}))
    split = flag(rollout_percentage=Decimal("0.01"))
    ios = Context("u1", "ios")

    assert evaluate(everyone, ios, NOW).reason is Reason.STATIC
    assert evaluate(targeted, ios, NOW).reason is Reason.TARGETING_MATCH
    assert evaluate(flag(enabled=False), ios, NOW).reason is Reason.DISABLED
    assert evaluate(flag(enabled=False, allow=frozenset({"u1"})), ios, NOW).on is False
    denied_even_if_allowed = flag(allow=frozenset({"u1"}), deny=frozenset({"u1"}))
    assert evaluate(denied_even_if_allowed, ios, NOW).on is False
    allowed_past_everything = flag(
        allow=frozenset({"u1"}), platforms=frozenset({"web"}), rollout_percentage=Decimal(0)
    )
    assert evaluate(allowed_past_everything, ios, NOW).reason is Reason.TARGETING_MATCH
    in_split = next(u for u in users(100_000) if bucket("test-flag", u) < 1)
    assert evaluate(split, Context(in_split), NOW).reason is Reason.SPLIT
    assert evaluate(split, Context("someone-else"), NOW).reason is Reason.DEFAULT


def test_a_split_needs_a_targeting_key() -> None:
    result = evaluate(flag(rollout_percentage=Decimal(50)), Context(None, "ios"), NOW)

    assert (result.on, result.reason, result.error) == (
        False,
        Reason.ERROR,
        ErrorCode.TARGETING_KEY_MISSING,
    )


def test_schedule_starts_inclusive_and_ends_exclusive() -> None:
    scheduled = flag(starts_at=NOW, ends_at=NOW + timedelta(days=1))

    assert evaluate(scheduled, Context("u"), NOW - timedelta(seconds=1)).on is False
    assert evaluate(scheduled, Context("u"), NOW).on is True
    assert evaluate(scheduled, Context("u"), NOW + timedelta(days=1)).on is False


def test_platform_and_version_range() -> None:
    ranged = flag(
        platforms=frozenset({"ios", "android"}),
        min_version=parse_version("4.2.0"),
        max_version=parse_version("4.10.0"),
    )

    def on(platform: str | None, version: str | None) -> bool:
        return evaluate(
            ranged, Context("u", platform, parse_version(version) if version else None), NOW
        ).on

    assert on("ios", "4.2.0")
    assert on("android", "4.10.0")
    assert on("ios", "4.9.99")
    assert not on("web", "4.5.0")
    assert not on("ios", "4.1.9")
    assert not on("ios", "4.10.1")
    assert not on("ios", None)
    assert not on(None, "4.5.0")


@pytest.mark.parametrize(
    ("operator", "values", "attribute", "expected"),
    [
        (Operator.IN, ("US", "CA"), "US", True),
        (Operator.IN, ("US", "CA"), "GB", False),
        (Operator.NOT_IN, ("US",), "GB", True),
        (Operator.EQ, ("gold",), "gold", True),
        (Operator.NEQ, ("gold",), "gold", False),
        (Operator.SEMVER_GTE, ("17.0",), "17.4.1", True),
        (Operator.SEMVER_LT, ("17.0",), "16.9", True),
        (Operator.GTE, (21,), "21", True),
        (Operator.LT, (21,), "20.5", True),
        (Operator.LT, (21,), "twenty", False),
        (Operator.CONTAINS, ("@swipesavvy",), "jo@swipesavvy.example", True),
        (Operator.CONTAINS, ("beta",), ["beta", "vip"], True),
    ],
)
def test_attribute_rules(
    operator: Operator, values: tuple, attribute: object, expected: bool
) -> None:
    ruled = flag(rules=(Rule("trait", operator, values),))

    assert evaluate(ruled, Context("u", attributes={"trait": attribute}), NOW).on is expected


def test_a_missing_attribute_never_matches() -> None:
    assert (
        evaluate(flag(rules=(Rule("country", Operator.NOT_IN, ("US",)),)), Context("u"), NOW).on
        is False
    )


def test_variants_follow_their_weights_independently_of_the_rollout() -> None:
    weighted = flag(
        rollout_percentage=Decimal(50),
        variants=(
            Variant("control", 20, {"x": 1}),
            Variant("blue", 30, "b"),
            Variant("green", 50, None),
        ),
    )
    everyone = flag(variants=weighted.variants)

    shares = Counter(evaluate(everyone, Context(u), NOW).variant for u in users(20_000))
    inside = [u for u in users(20_000) if evaluate(weighted, Context(u), NOW).on]
    same = all(
        evaluate(weighted, Context(u), NOW).variant == evaluate(everyone, Context(u), NOW).variant
        for u in inside
    )

    assert {name: round(count / 20_000, 2) for name, count in shares.items()} == pytest.approx(
        {"control": 0.2, "blue": 0.3, "green": 0.5}, abs=0.015
    )
    assert same
    result = evaluate(everyone, Context(inside[0]), NOW)
    assert result.reason is Reason.SPLIT
    assert result.value == {"control": {"x": 1}, "blue": "b", "green": None}[result.variant]


def test_off_gives_the_default_value() -> None:
    assert evaluate(
        flag(enabled=False, default_value={"banner": "off"}), Context("u"), NOW
    ).value == {"banner": "off"}
    assert evaluate(flag(enabled=False), Context("u"), NOW).value is False
