"""Segments and prerequisites in the engine and the snapshot: who a segment holds, the order
they are evaluated in and the reasons given, a three-flag chain, and prerequisites that go
round or name a flag not served, which break the flags concerned, never the others."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flags import engine
from flags.definition import compile_segment
from flags.engine import (
    Context,
    Flag,
    Operator,
    Prerequisite,
    Reason,
    Rule,
    Segment,
    evaluate,
    evaluate_flags,
)
from flags.snapshot import _served
from models.flags import FlagEnvironment

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EU = Segment(
    "eu",
    allow=frozenset({"u-allowed"}),
    deny=frozenset({"u-denied"}),
    rules=(Rule("country", Operator.IN, ("DE", "FR")),),
)
TESTERS = Segment("testers", allow=frozenset({"u-tester"}))


def flag(key: str = "f", **values: Any) -> Flag:
    return Flag(**{"key": key, "enabled": True} | values)


def user(key: str, country: str = "US") -> Context:
    return Context(key, "ios", None, {"country": country})


def test_a_segment_holds_its_allow_list_and_rule_matches_but_never_its_deny_list() -> None:
    assert EU.holds(user("u-1", "DE"))
    assert not EU.holds(user("u-1", "US"))
    assert EU.holds(user("u-allowed", "US"))
    assert not EU.holds(user("u-denied", "DE"))
    # Without rules only the allow-list is in it.
    assert TESTERS.holds(user("u-tester"))
    assert not TESTERS.holds(user("u-1", "DE"))
    assert not TESTERS.holds(Context(None))


def test_included_segments_need_one_and_excluded_ones_none() -> None:
    included = flag(included=(EU, TESTERS))
    excluded = flag(excluded=(TESTERS,))
    both = flag(included=(EU,), excluded=(TESTERS,), allow=frozenset({"u-vip"}))

    assert evaluate(included, user("u-1", "DE"), NOW).reason is Reason.TARGETING_MATCH
    assert evaluate(included, user("u-tester"), NOW).on
    assert evaluate(included, user("u-1"), NOW).reason is Reason.DEFAULT
    assert not evaluate(excluded, user("u-tester", "DE"), NOW).on
    assert evaluate(excluded, user("u-1"), NOW).on
    assert not evaluate(both, Context("u-tester", None, None, {"country": "DE"}), NOW).on
    # The flag's own allow-list comes before its segments.
    assert evaluate(both, user("u-vip"), NOW).on


def test_a_prerequisite_not_met_gives_the_off_value_with_targeting_match() -> None:
    base = flag(
        "base", rollout_percentage=Decimal(100), allow=frozenset({"u-1"}), deny=frozenset({"u-2"})
    )
    needs = flag("needs", default_value="old", prerequisites=(Prerequisite("base", None, base),))
    off = flag(
        "needs",
        default_value="old",
        prerequisites=(Prerequisite("base", None, flag("base", enabled=False)),),
    )

    met, failed = evaluate(needs, user("u-1"), NOW), evaluate(needs, user("u-2"), NOW)

    assert (met.on, met.reason) == (True, Reason.TARGETING_MATCH)
    assert (failed.on, failed.value, failed.reason) == (False, "old", Reason.TARGETING_MATCH)
    assert evaluate(off, user("u-1"), NOW).reason is Reason.TARGETING_MATCH
    assert (
        evaluate(
            flag("needs", enabled=False, prerequisites=needs.prerequisites), user("u-1"), NOW
        ).reason
        is Reason.DISABLED
    )


def state(**values: Any) -> SimpleNamespace:
    empty = {"platforms": [], "allow_list": [], "deny_list": [], "rules": [], "variants": []}
    defaults = {
        "enabled": True,
        "rollout_percentage": Decimal(100),
        "min_app_version": None,
        "max_app_version": None,
        "default_value": None,
        "starts_at": None,
        "ends_at": None,
        "revision": 1,
        "included_segments": [],
        "excluded_segments": [],
        "prerequisites": [],
        "flag_type": "release",
    }
    return SimpleNamespace(**empty | defaults | values, id=uuid.uuid4())


def serve(**flags: SimpleNamespace) -> Any:
    production = FlagEnvironment(id=uuid.uuid4(), key="production", name="Production")
    rows = [SimpleNamespace(**vars(f), key=key) for key, f in sorted(flags.items())]
    segments = {
        "eu": compile_segment(
            SimpleNamespace(
                key="eu",
                allow_list=[],
                deny_list=[],
                rules=[{"attribute": "country", "operator": "in", "values": ["DE"]}],
            )
        )
    }
    return _served(production, rows, {}, segments, 7)


def test_a_three_flag_chain_is_evaluated_through_the_snapshot() -> None:
    served = serve(
        c=state(prerequisites=[{"flag": "b"}]),
        b=state(
            prerequisites=[{"flag": "a", "variant": "new"}],
            included_segments=["eu"],
        ),
        a=state(
            rollout_percentage=Decimal(100),
            variants=[{"name": "old", "weight": 0}, {"name": "new", "weight": 1}],
            deny_list=["u-out"],
        ),
    )
    c = served.by_key["c"]

    assert served.broken == {}
    assert [f.key for f in served.flags] == ["a", "b", "c"]
    assert evaluate(c, user("u-1", "DE"), NOW).on
    assert not evaluate(c, user("u-1", "US"), NOW).on  # b's segment
    assert not evaluate(c, user("u-out", "DE"), NOW).on  # a's deny-list
    assert served.by_key["c"].prerequisites[0].flag is served.by_key["b"]


def test_every_flag_at_once_answers_as_each_alone_working_each_out_once(
    monkeypatch: Any,
) -> None:
    chain = {
        f"f{n}": state(
            prerequisites=[{"flag": f"f{n - 1}"}] if n else [],
            rollout_percentage=Decimal(60),
            included_segments=["eu"] if n in (3, 6) else [],
            variants=[{"name": "x", "weight": 1}, {"name": "y", "weight": 1}] if n == 5 else [],
        )
        for n in range(8)
    }
    served = serve(**chain)
    calls: list[str] = []
    counted = engine.evaluate

    def counting(flag: Flag, *args: Any) -> Any:
        calls.append(flag.key)
        return counted(flag, *args)

    holds = Segment.holds

    def holding(segment: Segment, context: Context) -> bool:
        calls.append(f"segment {segment.key}")
        return holds(segment, context)

    turned_on: set[str] = set()
    for n in range(300):
        context = user(f"u-{n}", "DE" if n % 2 else "US")
        alone = [evaluate(flag, context, NOW) for flag in served.flags]
        turned_on |= {answer.key for answer in alone if answer.on}
        monkeypatch.setattr(engine, "evaluate", counting)
        monkeypatch.setattr(Segment, "holds", holding)
        calls.clear()
        assert evaluate_flags(served.flags, context, NOW) == alone
        evaluated = [call for call in calls if not call.startswith("segment")]
        assert sorted(evaluated) == sorted(chain)
        assert calls.count("segment eu") <= 1
        monkeypatch.setattr(engine, "evaluate", counted)
        monkeypatch.setattr(Segment, "holds", holds)
    assert turned_on == set(chain)  # every link of the chain is on for someone


def test_prerequisites_that_go_round_or_are_missing_break_only_those_flags() -> None:
    served = serve(
        a=state(prerequisites=[{"flag": "b"}]),
        b=state(prerequisites=[{"flag": "c"}]),
        c=state(prerequisites=[{"flag": "a"}]),
        d=state(prerequisites=[{"flag": "gone"}]),
        e=state(included_segments=["no-such-segment"]),
        f=state(),
    )

    assert [f.key for f in served.flags] == ["f"]
    assert "a → b → c → a" in served.broken["c"]
    assert set(served.broken) == {"a", "b", "c", "d", "e"}
    assert "prerequisite 'gone' is not there" in served.broken["d"]
    assert "segment 'no-such-segment' is not there" in served.broken["e"]


def test_segments_count_in_the_fingerprint_only_where_a_flag_has_them() -> None:
    plain = serve(f=state())
    same = serve(f=state())
    targeted = serve(f=state(included_segments=["eu"]))

    assert plain.fingerprint == same.fingerprint
    assert targeted.fingerprint != plain.fingerprint
