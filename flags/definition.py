"""A flag as staff define it (JSON rules, variants, versions) checked and compiled.

`problems` says, per field, what is wrong with a definition (a flag's or a segment's);
`compile_flag` turns a valid flag, in one environment's state, into the engine's `Flag`,
with the segments and prerequisite flags it names already compiled. The admin forms use the
first, the snapshot the second.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flags.engine import (
    PLATFORMS,
    Flag,
    Operator,
    Prerequisite,
    Rule,
    Segment,
    Variant,
    parse_version,
)

KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
MAX_LIST = 10_000
"""Allow- and deny-lists beyond this belong in an attribute rule, not in the flag."""
WEIGHTS = 100
"""What a flag's variant weights add up to: each weight reads as a percentage of users."""
NOT_JSON = "This is not JSON"
"""How a payload or default value that does not parse is refused (the screens add where)."""


def _rules(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        return ["Rules must be a JSON list of {attribute, operator, values}."]
    wrong = []
    operators = {op.value for op in Operator}
    for n, rule in enumerate(raw, start=1):
        if not isinstance(rule, dict) or set(rule) != {"attribute", "operator", "values"}:
            wrong.append(f"rule {n} needs exactly attribute, operator and values")
            continue
        if not isinstance(rule["attribute"], str) or not rule["attribute"]:
            wrong.append(f"rule {n}: attribute must be a name")
        if rule["operator"] not in operators:
            wrong.append(f"rule {n}: operator must be one of {', '.join(sorted(operators))}")
        values = rule["values"]
        if not isinstance(values, list) or not values:
            wrong.append(f"rule {n}: values must be a non-empty list")
        elif rule["operator"] in ("semver_gte", "semver_lt"):
            try:
                parse_version(str(values[0]))
            except ValueError:
                wrong.append(f"rule {n}: {values[0]!r} is not a version")
        elif rule["operator"] in ("gte", "lt") and not _number(values[0]):
            wrong.append(f"rule {n}: {values[0]!r} is not a number")
    return wrong


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _variants(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        return ["Variants must be a JSON list of {name, weight, payload}."]
    wrong, names = [], set()
    for n, variant in enumerate(raw, start=1):
        if (
            not isinstance(variant, dict)
            or not {"name", "weight"} <= set(variant)
            or not set(variant) <= {"name", "weight", "payload"}
        ):
            wrong.append(f"variant {n} needs a name, a weight and optionally a payload")
            continue
        if not isinstance(variant["name"], str) or not variant["name"] or variant["name"] in names:
            wrong.append(f"variant {n}: the name must be given and unique")
        names.add(variant["name"])
        weight = variant["weight"]
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            wrong.append(f"variant {n}: weight must be a whole number, 0 or more")
    if not wrong and raw and (total := sum(v["weight"] for v in raw)) != WEIGHTS:
        wrong.append(f"the weights must add up to {WEIGHTS} (they add up to {total})")
    return wrong


def read_json(text: str) -> Any:
    """The JSON document typed as `text` (blank is none); a ValueError saying why it is
    none. NaN and infinities are refused: JSON has no such numbers."""
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ValueError(f"{NOT_JSON}: {error.msg.lower()} at {where}.") from None
    except ValueError as error:
        raise ValueError(f"{NOT_JSON}: {error}.") from None


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON knows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _prerequisites(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        return ["Prerequisites must be a JSON list of {flag, variant}."]
    wrong = []
    for n, required in enumerate(raw, start=1):
        if (
            not isinstance(required, dict)
            or not isinstance(required.get("flag"), str)
            or not set(required) <= {"flag", "variant"}
            or not isinstance(required.get("variant", ""), str | None)
        ):
            wrong.append(f"prerequisite {n} needs a flag's key and optionally a variant name")
    return wrong


def problems(data: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a flag definition, per field; empty when it is valid."""
    found: dict[str, str] = {}
    key = data.get("key")
    if key is not None and not KEY.match(str(key)):
        found["key"] = "Use 1 to 100 lower-case letters, digits, dots, dashes or underscores."
    unknown = set(data.get("platforms") or []) - PLATFORMS
    if unknown:
        found["platforms"] = f"Unknown platform: {', '.join(sorted(unknown))} (ios, android, web)."
    versions = {}
    for name in ("min_app_version", "max_app_version"):
        text = data.get(name)
        if text:
            try:
                versions[name] = parse_version(str(text))
            except ValueError:
                found[name] = f"{text!r} is not a version like 4.2.0."
    if len(versions) == 2 and versions["max_app_version"] < versions["min_app_version"]:
        found["max_app_version"] = "The highest version is below the lowest."
    for name in ("allow_list", "deny_list"):
        if len(data.get(name) or []) > MAX_LIST:
            found[name] = f"At most {MAX_LIST:,} user ids; use an attribute rule for more."
    if rules := _rules(data.get("rules")):
        found["rules"] = "; ".join(rules).capitalize() + "."
    if variants := _variants(data.get("variants")):
        found["variants"] = "; ".join(variants).capitalize() + "."
    if required := _prerequisites(data.get("prerequisites")):
        found["prerequisites"] = "; ".join(required).capitalize() + "."
    return found


def compile_rules(raw: Any) -> tuple[Rule, ...]:
    return tuple(
        Rule(r["attribute"], Operator(r["operator"]), tuple(r["values"])) for r in raw or ()
    )


def compile_segment(row: Any) -> Segment:
    """The engine's view of a saved, valid segment."""
    return Segment(
        key=row.key,
        allow=frozenset(row.allow_list or ()),
        deny=frozenset(row.deny_list or ()),
        rules=compile_rules(row.rules),
    )


def compile_flag(
    row: Any,
    state: Any | None = None,
    segments: Mapping[str, Segment] | None = None,
    flags: Mapping[str, Flag] | None = None,
) -> Flag:
    """The engine's view of a saved, valid flag: its key and type from the flag's `row`,
    the rest from its `state` in one environment (anything with `FlagState`'s columns; the
    row itself, its production state, when none is given). `segments` are every segment by
    key, `flags` the environment's flags compiled so far, which must hold its
    prerequisites; one it names that is not there raises ValueError."""
    state = row if state is None else state
    segments, flags = segments or {}, flags or {}
    return Flag(
        key=row.key,
        enabled=state.enabled,
        rollout_percentage=Decimal(state.rollout_percentage),
        platforms=frozenset(state.platforms or ()),
        min_version=parse_version(state.min_app_version) if state.min_app_version else None,
        max_version=parse_version(state.max_app_version) if state.max_app_version else None,
        allow=frozenset(state.allow_list or ()),
        deny=frozenset(state.deny_list or ()),
        rules=compile_rules(state.rules),
        variants=tuple(
            Variant(v["name"], int(v["weight"]), v.get("payload")) for v in state.variants or ()
        ),
        default_value=state.default_value,
        starts_at=state.starts_at,
        ends_at=state.ends_at,
        revision=state.revision,
        flag_type=row.flag_type,
        included=tuple(_named(segments, key, "segment") for key in state.included_segments or ()),
        excluded=tuple(_named(segments, key, "segment") for key in state.excluded_segments or ()),
        prerequisites=tuple(
            Prerequisite(p["flag"], p.get("variant"), _named(flags, p["flag"], "prerequisite"))
            for p in state.prerequisites or ()
        ),
    )


def _named(found: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return found[key]
    except KeyError:
        raise ValueError(f"{what} {key!r} is not there") from None
