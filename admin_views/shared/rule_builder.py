"""A flag state's targeting rules, variants and default value edited as forms, not JSON.

Each field renders rows (staff/widgets/rule_builder.html) whose inputs post ordinary form
values named as WTForms' FieldList names them (`rules-0-attribute`, `variants-2-weight`),
and reads them back into exactly the JSON the engine compiles (`flags.definition`), so what
the form saves is what the API would. static/rule_builder.js adds and removes rows, turns
typed values into tags, keeps the weights' running total and checks JSON as it is typed;
without it the form still works: one blank row to add a rule or variant, a rule removed by
clearing its attribute and values, a tag by unticking it. What is wrong with the values is
said by `flags.definition` (`problems`, `read_json`), the one place the API reads too.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from wtforms import Field, TextAreaField
from wtforms.utils import unset_value

from admin_views.shared.staff_form import storable_text
from flags.definition import NOT_JSON, WEIGHTS, read_json
from flags.engine import Operator
from flags.words import OPERATOR_WORDS, value_words

TEMPLATE = "staff/widgets/rule_builder.html"
# WTForms renders widgets synchronously, while SQLAdmin's environment is async-only: the
# rows get a plain environment over the same templates.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=True
)
# What the script says of a document that does not parse (then the browser's own words), so
# the box as typed and a refused save say it alike.
_TEMPLATES.globals["not_json"] = NOT_JSON
SUGGESTED_ATTRIBUTES = ("country", "platform", "app_version", "language", "user_id", "email")
"""Offered as the attribute is typed; any other name the app sends works too."""
NUMBERED = frozenset({Operator.GTE, Operator.LT})
"""Operators whose values are numbers: a typed value that reads as one is stored as one."""
WHOLE = re.compile(r"-?\d+")
DECIMAL = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
Row = dict[str, list[str]]


def _macro(name: str) -> Any:
    return getattr(_TEMPLATES.get_template(TEMPLATE).module, name)


def posted_rows(formdata: Any, name: str) -> list[Row]:
    """The rows posted for field `name`, in their numbers' order: each row's inputs by the
    part after `name-N-`."""
    rows: dict[int, Row] = {}
    prefix = f"{name}-"
    for key in formdata:
        if not key.startswith(prefix):
            continue
        number, _, part = key.removeprefix(prefix).partition("-")
        if number.isdigit() and part:
            rows.setdefault(int(number), {})[part] = formdata.getlist(key)
    return [rows[number] for number in sorted(rows)]


def _first(row: Row, part: str) -> str:
    return str((row.get(part) or [""])[0])


def _invalid(kwargs: dict[str, Any]) -> bool:
    return "is-invalid" in str(kwargs.get("class_", ""))


class RowsField(Field):
    """A list edited as rows of inputs named `name-N-part`; posting no row is an empty
    list (every row removed), not "unchanged"."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, [*(validators or ()), storable_text], **kwargs)
        self.rows: list[Row] = []

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.rows = posted_rows(formdata, self.name) if formdata is not None else []
        super().process(formdata, data, extra_filters)


def _value_from_tag(text: str) -> Any:
    """A kept tag posts its value as JSON (so 18 stays a number, "18" a string); one
    tampered with is read as the text it is."""
    try:
        return read_json(text) if text.strip() else text
    except ValueError:
        return text


def _typed(operator: str, value: Any) -> Any:
    """A value as its operator compares it: text that reads as a number is one for the
    numeric operators; anything else stays as typed, for `problems` to judge."""
    if operator not in NUMBERED or not isinstance(value, str):
        return value
    text = value.strip()
    if WHOLE.fullmatch(text):
        return int(text)
    if not DECIMAL.fullmatch(text):
        return value
    number = float(text)
    return number if math.isfinite(number) else value


class RulesWidget:
    def __call__(self, field: RulesField, **kwargs: Any) -> Markup:
        return _macro("rules_builder")(field, _invalid(kwargs))


class RulesField(RowsField):
    """Attribute rules: [{"attribute", "operator", "values"}], a row each; values as tags,
    each kept tag ticked (`name-N-value`, its JSON) and new ones typed (`name-N-new`,
    several split at commas)."""

    widget = RulesWidget()

    def process_formdata(self, _valuelist: list[Any]) -> None:
        rules = []
        for row in self.rows:
            attribute = _first(row, "attribute").strip()
            operator = _first(row, "operator") or Operator.IN.value
            values = [_value_from_tag(text) for text in row.get("value", [])]
            values += [
                text.strip()
                for typed in row.get("new", [])
                for text in str(typed).split(",")
                if text.strip()
            ]
            if not attribute and not values:
                continue  # a blank row, or one cleared to remove it
            kept: list[Any] = []
            for value in (_typed(operator, v) for v in values):
                if value not in kept:
                    kept.append(value)
            rules.append({"attribute": attribute, "operator": operator, "values": kept})
        self.data = rules

    def submitted(self) -> list[tuple[str, str]]:
        """The rules as the rows post them (every value a kept tag), for a door that fills
        the form in without a page (`sqladmin_door.as_submitted`)."""
        posted = []
        for n, rule in enumerate(r for r in self.data or () if isinstance(r, dict)):
            posted += [
                (f"{self.name}-{n}-attribute", str(rule.get("attribute", ""))),
                (f"{self.name}-{n}-operator", str(rule.get("operator", ""))),
            ]
            posted += [(f"{self.name}-{n}-value", self.tag(v)[0]) for v in rule.get("values", ())]
        return posted

    def shown_rules(self) -> list[dict[str, Any]]:
        """The rules as rows, and a blank one to add a rule with (the script drops it)."""
        rules = [r for r in self.data or () if isinstance(r, dict)]
        return [*rules, {"attribute": "", "operator": Operator.IN.value, "values": []}]

    @staticmethod
    def operators() -> list[tuple[str, str]]:
        return [(op.value, words) for op, words in OPERATOR_WORDS.items()]

    @staticmethod
    def attributes() -> tuple[str, ...]:
        return SUGGESTED_ATTRIBUTES

    @staticmethod
    def tag(value: Any) -> tuple[str, str]:
        """(what the tag posts, what it shows) for one value."""
        return json.dumps(value, ensure_ascii=False), value_words(value)


class VariantsWidget:
    def __call__(self, field: VariantsField, **kwargs: Any) -> Markup:
        return _macro("variants_builder")(field, _invalid(kwargs))


class VariantsField(RowsField):
    """Weighted variants: [{"name", "weight", "payload"}], a row each, the payload a JSON
    box (blank: none). With `fixed_names` (a state outside production) the names are the
    flag's: shown, posted, not edited, and no row is added or removed."""

    widget = VariantsWidget()

    def __init__(
        self, label: str | None = None, *, fixed_names: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.fixed_names = fixed_names
        self.payload_texts: dict[int, str] = {}
        """Payloads as typed where they are no JSON, by row, shown back as typed."""
        self.payload_errors: dict[int, str] = {}

    def process_formdata(self, _valuelist: list[Any]) -> None:
        variants: list[dict[str, Any]] = []
        wrong = []
        for row in self.rows:
            name, weight = _first(row, "name").strip(), _first(row, "weight").strip()
            payload = _first(row, "payload")
            if not (name or weight or payload.strip()):
                continue  # a blank row
            variant: dict[str, Any] = {
                "name": name,
                "weight": int(weight) if WHOLE.fullmatch(weight) else weight,
            }
            if payload.strip():
                try:
                    variant["payload"] = read_json(payload)
                except ValueError as error:
                    # Kept as typed, so the control-character check reads it too.
                    variant["payload"] = payload
                    self.payload_texts[len(variants)] = payload
                    self.payload_errors[len(variants)] = str(error)
                    wrong.append(f"Variant {len(variants) + 1} ({name or 'unnamed'}): {error}")
            variants.append(variant)
        self.data = variants
        if wrong:
            raise ValueError(" ".join(wrong))

    def submitted(self) -> list[tuple[str, str]]:
        """The variants as the rows post them (`RulesField.submitted`)."""
        posted = []
        for n, variant in enumerate(v for v in self.data or () if isinstance(v, dict)):
            posted += [
                (f"{self.name}-{n}-name", str(variant.get("name", ""))),
                (f"{self.name}-{n}-weight", str(variant.get("weight", ""))),
                (f"{self.name}-{n}-payload", self.payload_text(n, variant)),
            ]
        return posted

    def shown_variants(self) -> list[dict[str, Any]]:
        """The variants as rows, and a blank one to add a variant with unless the names
        are fixed (the script drops it)."""
        variants = [v for v in self.data or () if isinstance(v, dict)]
        return variants if self.fixed_names else [*variants, {"name": "", "weight": ""}]

    def payload_text(self, number: int, variant: dict[str, Any]) -> str:
        if number in self.payload_texts:
            return self.payload_texts[number]
        return _json_text(variant["payload"]) if "payload" in variant else ""

    def total(self) -> int | None:
        """The weights' sum, None while one is no whole number."""
        weights = [v.get("weight") for v in self.data or () if isinstance(v, dict)]
        if not all(isinstance(w, int) for w in weights):
            return None
        return sum(weights)  # type: ignore[arg-type]

    @staticmethod
    def weights() -> int:
        return WEIGHTS


def _json_text(value: Any) -> str:
    """A document as staff edit it: objects and lists indented, a scalar on its line."""
    indent = 2 if isinstance(value, dict | list) and value else None
    return json.dumps(value, ensure_ascii=False, indent=indent)


class JSONBoxWidget:
    def __call__(self, field: JSONBoxField, **kwargs: Any) -> Markup:
        # A refused save's message is under the box already, as under every field.
        return _macro("json_box")(field.name, field.id, field.text(), "", _invalid(kwargs))


class JSONBoxField(TextAreaField):
    """A JSON document typed in a box that says, as it is typed, whether it is JSON; blank
    is none. Refused on save with `flags.definition`'s message when it is not."""

    widget = JSONBoxWidget()

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]) if valuelist else ""
        try:
            self.data = read_json(text)
        except ValueError:
            self.data = text  # as typed, for the control-character check
            raise

    def submitted(self) -> list[tuple[str, str]]:
        """The box as it posts (`RulesField.submitted`)."""
        return [(self.name, self.text())]

    def text(self) -> str:
        """The box's text: as typed when posted, else the document indented."""
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else _json_text(self.data)


STATE_FIELDS = {"rules": RulesField, "variants": VariantsField, "default_value": JSONBoxField}
"""The builder's field for each of a state's documents, as a view's `form_overrides`."""
