"""A flag's state said in words (`flags/words.py`), as its page shows it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from flags.engine import Operator
from flags.words import OPERATOR_WORDS, targeting_words, value_words, variants_words


def state(**given: Any) -> SimpleNamespace:
    empty = {
        "rules": [],
        "platforms": [],
        "min_app_version": None,
        "max_app_version": None,
        "allow_list": [],
        "deny_list": [],
        "rollout_percentage": Decimal("100.00"),
    }
    return SimpleNamespace(**empty | given)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({}, "100% of users"),
        (
            {
                "rules": [{"attribute": "country", "operator": "in", "values": ["US", "CA"]}],
                "platforms": ["ios"],
                "min_app_version": "4.3.0",
                "rollout_percentage": Decimal("10.00"),
            },
            "Country is one of US, CA · iOS ≥ 4.3.0 · 10% of users",
        ),
        (
            {
                "rules": [
                    {"attribute": "app_version", "operator": "semver_lt", "values": ["5.0"]},
                    {"attribute": "age", "operator": "gte", "values": [18]},
                    {"attribute": "email", "operator": "contains", "values": ["@corp.com"]},
                    {"attribute": "country", "operator": "not_in", "values": list("ABCDEFG")},
                ],
                "max_app_version": "6.1.0",
                "allow_list": ["u-1"],
                "deny_list": ["u-2", "u-3"],
                "rollout_percentage": Decimal("12.50"),
            },
            "App version below version 5.0 · Age at least 18 · Email contains @corp.com · "
            "Country is not one of A, B, C, D, E and 2 more · App version ≤ 6.1.0 · "
            "always 1 user · never 2 users · 12.5% of users",
        ),
        (
            {"platforms": ["android", "web"], "min_app_version": "4.0", "max_app_version": "5"},
            "Android, Web 4.0 to 5 · 100% of users",
        ),
    ],
    ids=["everyone", "the issue's example", "every part", "a version range"],
)
def test_who_gets_a_state_is_said_in_one_line(given: dict[str, Any], said: str) -> None:
    assert targeting_words(state(**given)) == said


def test_every_operator_has_words_and_values_read_without_json() -> None:
    assert set(OPERATOR_WORDS) == set(Operator)
    assert variants_words([{"name": "blue", "weight": 50}, {"name": "green", "weight": 50}]) == (
        "blue 50 · green 50"
    )
    assert variants_words([]) == "none"
    assert value_words({"message": "Down tonight", "sizes": [1, 2], "on": True}) == (
        "message: Down tonight, sizes: (1, 2), on: true"
    )
    assert value_words(None) == "none"
