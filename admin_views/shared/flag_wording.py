"""A flag's and a segment's values, and the changes between them, as staff read them: in
their history, and on the pages that confirm a copy between environments or a restore.
Rules, variants and default values read as the flag's page says them (flags/words.py);
a change to a long one names the rules, variants or prerequisites that differ, each whole
(`admin_views/shared/wording.py`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from admin_views.shared.formatting import exact
from admin_views.shared.wording import Item, Wording, exactly
from flags import words as flag_words

DOCUMENT_WORDS = {
    "rules": lambda rules: flag_words.rules_words(rules, shown_values=None),
    "variants": lambda variants: flag_words.variants_words(variants, payloads=True),
    "default_value": flag_words.value_words,
    "prerequisites": flag_words.prerequisites_words,
}
"""A state's JSON documents in a change's words, as the flag's page says them, every rule
value and payload included."""
DOCUMENT_ITEMS = {
    "rules": (exactly, lambda rule: flag_words.rule_words(rule, shown_values=None)),
    "variants": (
        lambda variant: str(variant.get("name")),
        lambda variant: flag_words.variant_words(variant, payloads=True),
    ),
    "prerequisites": (lambda required: str(required.get("flag")), flag_words.prerequisite_words),
}
"""A document's items for a change to name: what each one is (a variant by its name, a
prerequisite by its flag, a rule by itself), and its words."""


class FlagWording(Wording):
    def value(self, name: str, value: Any) -> str:
        if value is None or value == "" or value == [] or value == {}:
            return "none"
        if isinstance(value, bool):
            return ("on" if value else "off") if name == "enabled" else ("yes" if value else "no")
        if isinstance(value, Decimal):
            return f"{value.normalize():f}%"
        if isinstance(value, datetime):
            return exact(value)
        if name in DOCUMENT_WORDS:
            return DOCUMENT_WORDS[name](value)
        return super().value(name, value)

    def item(self, value: Any) -> str:
        return flag_words.nested_words(value)

    def items(self, name: str, value: Any) -> list[Item] | None:
        if name in DOCUMENT_ITEMS and isinstance(value, list):
            key, said = DOCUMENT_ITEMS[name]
            return [Item(key(item), item, said(item)) for item in value]
        return super().items(name, value)


FLAG_WORDING = FlagWording()
