"""The base of every staff form: text is refused on its field if it cannot be stored.

Control characters (NUL above all, which PostgreSQL cannot hold in text or JSON) arrive
from pasted data or scripts; each text or JSON field answers with a message instead of the
database answering with an error. Tabs and line breaks are ordinary text.
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import Field, Form, StringField, ValidationError
from wtforms.meta import DefaultMeta

UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _texts(value: Any) -> list[str]:
    """Every string in a value, including the keys and items of JSON documents."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_texts(key), *_texts(item))]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def storable_text(_form: Form, field: Field) -> None:
    if any(UNSTORABLE.search(text) for text in _texts(field.data)):
        raise ValidationError(
            "Remove the control characters (such as NUL) from this text: they cannot be stored."
        )


class StaffMeta(DefaultMeta):
    def bind_field(self, form: Form, unbound_field: Any, options: dict[str, Any]) -> Field:
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [*field.validators, storable_text]
        return field


class StaffForm(Form):
    Meta = StaffMeta
