"""Which columns each screen shows. Secrets never reach a list, a record page, an export
or a form; reverse relationships (a wallet's every transaction) are panels, never loaded
whole; ids and timestamps are never typed in a form. A value a row marks secret (a secret
setting's) shows masked, is blank in the edit form, and stays as it is when left blank.
Personal data shows masked to staff whose role may not see it, and is left out of the forms
that would show it to them (`core.personal_data`)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import sqlalchemy as sa
from sqladmin import ModelView
from sqlalchemy.orm import RelationshipDirection
from starlette.requests import Request
from wtforms import Form

from admin_views import sqladmin_door as door
from audit import trail
from audit.snapshot import masked_fields
from core import personal_data

READ_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
"""Set by the database or the app, never typed in a form."""


class ShownColumns(ModelView):
    @classmethod
    def secret_columns(cls) -> frozenset[str]:
        """Columns whose model declares `info={"secret": True}`."""
        return frozenset(
            column.key for column in sa.inspect(cls.model).columns if column.info.get("secret")
        )

    def to_many(self) -> frozenset[str]:
        return frozenset(
            rel.key
            for rel in sa.inspect(self.model).relationships
            if rel.direction in (RelationshipDirection.ONETOMANY, RelationshipDirection.MANYTOMANY)
        )

    def get_list_columns(self) -> list[str]:
        return self.shown(super().get_list_columns())

    def get_details_columns(self) -> list[str]:
        if self.column_details_list or self.column_details_exclude_list:
            return self.shown(super().get_details_columns())
        return self.shown(self.in_table_order())

    def get_export_columns(self) -> list[str]:
        return self.shown(super().get_export_columns())

    def get_form_columns(self) -> list[str]:
        hidden = self.secret_columns() | READ_ONLY_COLUMNS | self.to_many()
        return [name for name in super().get_form_columns() if name not in hidden]

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        """The edit form leaves out personal fields the staff member may not see, so they
        are neither shown nor saved; the create form asks for them."""
        form = await super().scaffold_form(rules)
        if not door.editing() or personal_data.revealed():
            return form
        personal = personal_data.columns_of(self.model)
        left_out = {name: None for name in personal if hasattr(form, name)}
        return type(form.__name__, (form,), left_out) if left_out else form

    def in_table_order(self) -> list[str]:
        """Every column in table order, a foreign key shown as the row it points to."""
        mapper = sa.inspect(self.model)
        shown_as = {
            local.key: rel.key
            for rel in mapper.relationships
            if rel.direction is RelationshipDirection.MANYTOONE
            for local in rel.local_columns
        }
        names: list[str] = []
        for column in mapper.columns:
            name = shown_as.get(column.key, column.key)
            if name not in names:
                names.append(name)
        return names

    def shown(self, names: list[str]) -> list[str]:
        hidden = self.secret_columns() | self.to_many()
        return [name for name in names if name not in hidden]

    async def get_prop_value(self, obj: Any, prop: str) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK
        return personal_data.shown_in(obj, prop, await super().get_prop_value(obj, prop))

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK, trail.MASK
        return await self._personal(obj, prop, super().get_list_value(obj, prop, request))

    async def get_detail_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK, trail.MASK
        return await self._personal(obj, prop, super().get_detail_value(obj, prop, request))

    @staticmethod
    async def _personal(obj: Any, prop: str, pair: Awaitable[tuple[Any, Any]]) -> tuple[Any, Any]:
        """(value, formatted), the value already as shown (`get_prop_value`); a formatter
        reads the row itself, so what it made of personal data gives way to the mask."""
        value, formatted = await pair
        return (value, value) if personal_data.hidden_in(obj, prop) else (value, formatted)

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        data = await super().get_form_data_for_edit(obj)
        return {key: None if key in masked_fields(obj) else value for key, value in data.items()}
