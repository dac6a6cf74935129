"""The preview's "why" agrees with the engine for any flag and user, and says each check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flags.engine import (
    Context,
    Flag,
    Operator,
    Prerequisite,
    Rule,
    Segment,
    Variant,
    evaluate,
    parse_version,
)
from flags.explain import explain

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
USERS = ["u-1", "u-2", "u-3", "u-4", "u-5", "u-6", "u-7", "u-8"]

users = st.none() | st.sampled_from(USERS)
versions = st.none() | st.sampled_from(["1.0.0", "4.2.0", "4.3.0", "5.0.0-beta.1", "9.1"])
rules = st.lists(
    st.sampled_from(
        [
            Rule("country", Operator.IN, ("US", "CA")),
            Rule("country", Operator.NOT_IN, ("GB",)),
            Rule("tier", Operator.GTE, (2,)),
            Rule("tier", Operator.LT, (3,)),
            Rule("appVersion", Operator.SEMVER_GTE, ("4.3.0",)),
            Rule("tags", Operator.CONTAINS, ("beta",)),
            Rule("plan", Operator.EQ, ("pro",)),
            Rule("plan", Operator.NEQ, ("free",)),
        ]
    ),
    max_size=2,
)
segments = st.builds(
    Segment,
    key=st.sampled_from(["beta", "eu", "staff"]),
    allow=st.frozensets(st.sampled_from(USERS), max_size=2),
    deny=st.frozensets(st.sampled_from(USERS), max_size=2),
    rules=rules.map(tuple),
)
moments = st.none() | st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)])


def flags(prerequisites: st.SearchStrategy[tuple[Prerequisite, ...]]) -> st.SearchStrategy[Flag]:
    return st.builds(
        Flag,
        key=st.sampled_from(["checkout", "wallet", "cards"]),
        enabled=st.booleans(),
        rollout_percentage=st.sampled_from([Decimal(0), Decimal("12.5"), Decimal(50), 100]),
        platforms=st.frozensets(st.sampled_from(["ios", "android", "web"]), max_size=2),
        min_version=st.none() | st.sampled_from([parse_version("4.2.0")]),
        max_version=st.none() | st.sampled_from([parse_version("6.0.0")]),
        allow=st.frozensets(st.sampled_from(USERS), max_size=2),
        deny=st.frozensets(st.sampled_from(USERS), max_size=2),
        rules=rules.map(tuple),
        variants=st.sampled_from(
            [(), (Variant("only", 1, "x"),), (Variant("a", 1, 1), Variant("b", 3, 2))]
        ),
        starts_at=moments,
        ends_at=moments,
        included=st.lists(segments, max_size=2).map(tuple),
        excluded=st.lists(segments, max_size=1).map(tuple),
        prerequisites=prerequisites,
    )


required = flags(st.just(())).flatmap(
    lambda flag: st.tuples(
        st.builds(
            Prerequisite,
            key=st.just(flag.key),
            variant=st.none() | st.sampled_from(["a", "b"]),
            flag=st.just(flag),
        )
    )
)
any_flag = flags(st.just(()) | required)
contexts = st.builds(
    Context,
    targeting_key=users,
    platform=st.none() | st.sampled_from(["ios", "android", "web"]),
    app_version=versions.map(lambda v: parse_version(v) if v else None),
    attributes=st.fixed_dictionaries(
        {},
        optional={
            "country": st.sampled_from(["US", "GB", "DE"]),
            "tier": st.integers(0, 4),
            "tags": st.lists(st.sampled_from(["beta", "vip"]), max_size=2),
            "plan": st.sampled_from(["pro", "free"]),
        },
    ),
)


@settings(max_examples=600, deadline=None)
@given(flag=any_flag, context=contexts)
def test_the_why_gives_the_engines_answer_for_any_flag_and_user(
    flag: Flag, context: Context
) -> None:
    assert explain(flag, context, NOW).on == evaluate(flag, context, NOW).on


def flag(**given: Any) -> Flag:
    return Flag(key="checkout", enabled=True, **given)


def asked(**given: Any) -> Context:
    version = given.pop("app_version", None)
    return Context(
        given.pop("user", "u-1"),
        given.pop("platform", None),
        parse_version(version) if version else None,
        given,
    )


BETA = Segment("beta", allow=frozenset({"u-1"}))
EU = Segment("eu", rules=(Rule("country", Operator.IN, ("DE", "FR")),))
PAID = flag(variants=(Variant("a", 1, 1), Variant("b", 1, 2)))


@pytest.mark.parametrize(
    ("the_flag", "context", "on", "why"),
    [
        (Flag(key="x", enabled=False), asked(), False, "The flag is off here: nobody gets it."),
        (
            flag(starts_at=NOW + timedelta(hours=3)),
            asked(),
            False,
            "Scheduled: nobody gets it before 4 Dec 2026, 15:00 UTC.",
        ),
        (
            flag(ends_at=NOW - timedelta(days=2)),
            asked(),
            False,
            "Its schedule ended 2 Dec 2026, 12:00 UTC: nobody gets it.",
        ),
        (
            flag(prerequisites=(Prerequisite("wallet", None, Flag("wallet", False)),)),
            asked(),
            False,
            "It requires wallet, which is off for this user.",
        ),
        (
            flag(prerequisites=(Prerequisite("paid", "b", PAID),)),
            asked(user="u-3"),
            False,
            "It requires paid to give b; this user gets a.",
        ),
        (flag(deny=frozenset({"u-1"})), asked(), False, "u-1 is on its deny list."),
        (
            flag(allow=frozenset({"u-1"}), platforms=frozenset({"ios"})),
            asked(platform="web"),
            True,
            "u-1 is on its allow list.",
        ),
        (
            flag(platforms=frozenset({"ios", "android"})),
            asked(platform="web"),
            False,
            "Only for Android, iOS; this is Web.",
        ),
        (
            flag(platforms=frozenset({"ios"})),
            asked(),
            False,
            "Only for iOS; no platform given.",
        ),
        (
            flag(min_version=parse_version("4.3.0")),
            asked(app_version="4.2.1"),
            False,
            "Only for app version ≥ 4.3.0; this is 4.2.1.",
        ),
        (
            flag(min_version=parse_version("4.3.0"), max_version=parse_version("5.0.0")),
            asked(),
            False,
            "Only for app version 4.3.0 to 5.0.0; no app version given.",
        ),
        (
            flag(excluded=(EU,)),
            asked(country="DE"),
            False,
            "This user is in EU customers, which it excludes.",
        ),
        (
            flag(included=(BETA, EU)),
            asked(user="u-2", country="US"),
            False,
            "Only for Beta testers or EU customers; this user is in none.",
        ),
        (
            flag(rules=(Rule("country", Operator.IN, ("US", "CA")),)),
            asked(country="GB"),
            False,
            "Only where Country is one of US, CA; Country is GB.",
        ),
        (
            flag(rules=(Rule("tier", Operator.GTE, (2,)),)),
            asked(),
            False,
            "Only where Tier at least 2; Tier not given.",
        ),
        (
            flag(rollout_percentage=Decimal(20)),
            asked(user=None),
            False,
            "No user id: the 20% rollout needs one to choose.",
        ),
        (
            flag(rollout_percentage=Decimal("12.5")),
            asked(user="u-1"),
            False,
            "Outside the 12.5% rollout: this user falls at 24.99%.",
        ),
        (
            flag(rollout_percentage=Decimal(50)),
            asked(user="u-2"),
            True,
            "In the 50% rollout: this user falls at 12.1%.",
        ),
        (PAID, asked(user=None), False, "No user id: its variants need one to choose."),
        (
            flag(included=(BETA,)),
            asked(),
            True,
            "This user matches its targeting, and it is on for all of them.",
        ),
        (flag(), asked(user=None), True, "It is on for everyone."),
    ],
)
def test_each_check_is_said_in_words(the_flag: Flag, context: Context, on: bool, why: str) -> None:
    names = {"beta": "Beta testers", "eu": "EU customers"}

    said = explain(the_flag, context, NOW, names)

    assert (said.on, said.why) == (on, why)
    assert evaluate(the_flag, context, NOW).on is on
