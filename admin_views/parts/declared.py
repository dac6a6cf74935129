"""What a screen derives from its model's columns: labels, formatters, form validators,
search-as-you-type lookups, default filters and sort. A view's own declarations win."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqladmin import ModelView
from sqlalchemy.orm import RelationshipDirection
from wtforms import Form, validators

from admin_views.shared import filters, money
from admin_views.shared.formatting import column_formatter
from admin_views.shared.labels import humanize
from admin_views.shared.staff_form import StaffForm
from models.base import FixedPoint

EMAIL = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"


def by_name(options: dict[Any, Any]) -> dict[str, Any]:
    """Options declared by column attribute or by name, keyed by name."""
    return {key if isinstance(key, str) else key.key: value for key, value in options.items()}


class DeclaredFields(ModelView):
    form_base_class: ClassVar[type[Form]] = StaffForm

    def __init__(self) -> None:
        mapper = sa.inspect(self.model)
        self.column_labels = {
            **{key: humanize(key) for key in mapper.attrs.keys()},  # noqa: SIM118 - a view
            **by_name(type(self).column_labels),
        }
        formatters = {
            column.key: formatter
            for column in mapper.columns
            if (formatter := column_formatter(column)) is not None
        }
        self.column_formatters = {**formatters, **by_name(self.column_formatters)}
        self.column_formatters_detail = {**formatters, **by_name(self.column_formatters_detail)}
        self.form_args = self.bounds_and_formats() | by_name(self.form_args)
        self.form_ajax_refs = self.lookups() | self.form_ajax_refs
        self.column_filters = self.column_filters or filters.from_columns(self.model)
        super().__init__()
        if not self.column_default_sort and hasattr(self.model, "created_at"):
            self.column_default_sort = [(self.model.created_at, True)]

    def lookups(self) -> dict[str, dict[str, Any]]:
        """Search-as-you-type for every form field pointing at a table that grows with the
        business (its model declares `lookup_by`), so no form lists all its rows."""
        named = {name if isinstance(name, str) else name.key for name in self.form_columns}
        found = {}
        for relation in sa.inspect(self.model).relationships:
            fields = getattr(relation.mapper.class_, "lookup_by", None)
            in_form = not named or relation.key in named
            if fields and in_form and relation.direction is RelationshipDirection.MANYTOONE:
                found[relation.key] = {"fields": fields, "order_by": fields[0]}
        return found

    def bounds_and_formats(self) -> dict[str, dict[str, Any]]:
        """NumberRange for every field a CHECK constraint bounds; money with two places,
        typed as an amount (admin_views/shared/money.py); an email's shape checked."""
        args: dict[str, dict[str, Any]] = {}
        for constraint in self.model.__table__.constraints:
            low, high = constraint.info.get("minimum"), constraint.info.get("maximum")
            if low is None and high is None:
                continue
            for field in constraint.info["fields"]:
                args.setdefault(field, {"validators": []})["validators"].append(
                    validators.NumberRange(min=low, max=high, message=constraint.info["message"])
                )
        for column in self.model.__table__.columns:
            if getattr(column.type, "scale", None) == 2:
                args.setdefault(column.key, {})["places"] = 2
            if isinstance(column.type, FixedPoint) and column.type.scale == 2:  # money
                checks = args[column.key].setdefault("validators", [])
                checks[:0] = money.COLUMN_CHECKS
            if column.key.endswith("email"):
                args.setdefault(column.key, {}).setdefault("validators", []).append(
                    validators.Regexp(
                        EMAIL, message="Enter an email address, e.g. name@example.com."
                    )
                )
        return args
