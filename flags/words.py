"""A flag's state said in words, as staff read it on screen: "Country is one of US, CA ·
iOS ≥ 4.3.0 · 10% of users". One place for the screens (the flag's page, its environment
cards, the rule builder's operator names); the JSON stays the API's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flags.engine import Operator

OPERATOR_WORDS: dict[Operator, str] = {
    Operator.IN: "is one of",
    Operator.NOT_IN: "is not one of",
    Operator.EQ: "equals",
    Operator.NEQ: "does not equal",
    Operator.SEMVER_GTE: "at least version",
    Operator.SEMVER_LT: "below version",
    Operator.GTE: "at least",
    Operator.LT: "less than",
    Operator.CONTAINS: "contains",
}
"""Each engine operator as a rule reads it, in the order the rule builder offers them."""
PLATFORM_NAMES = {"ios": "iOS", "android": "Android", "web": "Web"}
ATTRIBUTE_NAMES = {"app_version": "App version", "appVersion": "App version", "user_id": "User"}
SHOWN_VALUES = 5
"""A rule's values listed before "and N more"."""
SEPARATOR = " · "


def attribute_words(name: str) -> str:
    """`country` reads Country, `app_version` App version, `deviceModel` DeviceModel."""
    if name in ATTRIBUTE_NAMES:
        return ATTRIBUTE_NAMES[name]
    spaced = name.replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def value_words(value: Any) -> str:
    """A JSON value without JSON's punctuation: keys as "key: value", lists with commas."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{key}: {nested_words(item)}" for key, item in value.items())
        return inner or "nothing"
    if isinstance(value, list | tuple):
        return ", ".join(nested_words(item) for item in value) or "nothing"
    return str(value)


def nested_words(value: Any) -> str:
    """`value_words` of a value inside another: a list or mapping in brackets."""
    said = value_words(value)
    return f"({said})" if isinstance(value, Mapping | list | tuple) else said


def _values(values: Iterable[Any], shown_values: int | None) -> str:
    values = list(values)
    shown = ", ".join(value_words(v) for v in values[:shown_values])
    more = len(values) - len(values[:shown_values])
    return f"{shown} and {more} more" if more > 0 else shown


def rule_words(rule: Mapping[str, Any], shown_values: int | None = SHOWN_VALUES) -> str:
    """One attribute rule: "Country is one of US, CA"; its values past `shown_values` as
    "and N more" (None: every value, as a change between two versions needs)."""
    try:
        operator = OPERATOR_WORDS[Operator(rule.get("operator"))]
    except ValueError:
        operator = str(rule.get("operator"))
    attribute = attribute_words(str(rule.get("attribute", "")))
    return f"{attribute} {operator} {_values(rule.get('values') or (), shown_values)}"


def rules_words(
    rules: Iterable[Mapping[str, Any]] | None, shown_values: int | None = SHOWN_VALUES
) -> str:
    return SEPARATOR.join(rule_words(rule, shown_values) for rule in rules or ()) or "none"


def _percent(value: Any) -> str:
    return f"{Decimal(str(value or 0)).normalize():f}%"


def platform_words(state: Any) -> str | None:
    """Platforms and app versions: "iOS, Android ≥ 4.2.0"; None when any app gets it."""
    platforms = ", ".join(PLATFORM_NAMES.get(p, p) for p in state.platforms or ())
    low, high = state.min_app_version, state.max_app_version
    versions = (
        f"{low} to {high}" if low and high else f"≥ {low}" if low else f"≤ {high}" if high else ""
    )
    if not versions:
        return platforms or None
    return f"{platforms or 'App version'} {versions}"


def _users(count: int) -> str:
    return f"{count:,} user{'' if count == 1 else 's'}"


def targeting_words(state: Any) -> str:
    """Who gets a state (anything with `FlagState`'s columns): rules, platforms and versions,
    allow- and deny-lists, then the rollout, as the flag's page says them."""
    parts = [rule_words(rule) for rule in state.rules or ()]
    if platforms := platform_words(state):
        parts.append(platforms)
    if state.allow_list:
        parts.append(f"always {_users(len(state.allow_list))}")
    if state.deny_list:
        parts.append(f"never {_users(len(state.deny_list))}")
    parts.append(f"{_percent(state.rollout_percentage)} of users")
    return SEPARATOR.join(parts)


def prerequisite_words(prerequisite: Mapping[str, Any]) -> str:
    """One flag a state requires: "wallet gives new", "cards is on"."""
    if prerequisite.get("variant"):
        return f"{prerequisite.get('flag')} gives {prerequisite['variant']}"
    return f"{prerequisite.get('flag')} is on"


def prerequisites_words(prerequisites: Iterable[Mapping[str, Any]] | None) -> str:
    """The flags a state requires: "wallet gives new · cards is on"."""
    return SEPARATOR.join(map(prerequisite_words, prerequisites or ())) or "none"


def variant_words(variant: Mapping[str, Any], payloads: bool = False) -> str:
    """A variant and its weight: "blue 50"; with `payloads`, its payload too ("blue 50
    (hex: #00f)"), as a change between two versions needs."""
    text = f"{variant.get('name')} {variant.get('weight')}"
    if payloads and variant.get("payload") is not None:
        text += f" ({value_words(variant['payload'])})"
    return text


def variants_words(variants: Iterable[Mapping[str, Any]] | None, payloads: bool = False) -> str:
    """The variants and their weights: "blue 50 · green 50" (`variant_words`)."""
    return SEPARATOR.join(variant_words(v, payloads) for v in variants or ()) or "none"
