"""Turning a database refusal into messages on the form's fields, and explaining blocked deletes.

The database has the last word on every rule (unique emails, CHECK constraints); when a save
breaks one, the form comes back with the constraint's own message on the field it guards.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from wtforms import Form

from admin_views.shared.labels import humanize
from core.db_errors import ViolationKind, violation
from models import Base

STATE_KEY = "staff_field_errors"
SUMMARY = "Nothing was saved: please correct the fields marked below."


class FieldErrorsError(Exception):
    """A save was refused; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(SUMMARY)
        self.errors = errors


def _form_field(model: type[Any], column: str) -> str:
    """The form field for a column: the relationship when the column is its foreign key."""
    for relationship in sa.inspect(model).relationships:
        if any(local.key == column for local in relationship.local_columns):
            return relationship.key
    return column


def explain(error: DBAPIError, model: type[Any], noun: str) -> dict[str, str] | None:
    """Messages per field for a refused save, or None when it was no constraint of ours."""
    found = violation(error)
    if found is None:
        return None
    table: sa.Table = model.__table__
    if found.kind is ViolationKind.CHECK:
        constraint = next((c for c in table.constraints if c.name == found.constraint), None)
        if constraint is None or "fields" not in constraint.info:
            return {"__all__": "A value is not allowed here."}
        return {
            _form_field(model, f): constraint.info["message"] for f in constraint.info["fields"]
        }
    if found.kind is ViolationKind.UNIQUE:
        columns = found.columns or _unique_columns(table, found.constraint)
        label = " and ".join(humanize(c) for c in columns) or "This value"
        return {
            _form_field(model, c): f"{label} is already used by another {noun.lower()}."
            for c in columns or ("__all__",)
        }
    if found.kind is ViolationKind.NOT_NULL:
        return {_form_field(model, c): f"{humanize(c)} is required." for c in found.columns}
    if found.kind is ViolationKind.FOREIGN_KEY:
        return {"__all__": "A related row no longer exists; reload the form and pick again."}
    return {"__all__": "A value is longer than this field allows."}


def _unique_columns(table: sa.Table, name: str | None) -> tuple[str, ...]:
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and constraint.name == name:
            return tuple(column.key for column in constraint.columns)
    for index in table.indexes:
        if index.unique and index.name == name:
            return tuple(column.key for column in index.columns)
    return ()


def stash(request: Request, errors: dict[str, str]) -> None:
    setattr(request.state, STATE_KEY, errors)


def apply_to_form(form: Form, request: Request) -> str:
    """Put stashed messages on the form's fields (a template global; renders nothing)."""
    errors: dict[str, str] = getattr(request.state, STATE_KEY, {})
    for name, message in errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
    return ""


def general_errors(request: Request, form: Form) -> list[str]:
    """Messages that belong to no field on this form."""
    errors: dict[str, str] = getattr(request.state, STATE_KEY, {})
    return [message for name, message in errors.items() if name not in form]


async def delete_blockers(db: AsyncSession, model: type[Any], pk: Any) -> list[str]:
    """What still refers to a row and stops its deletion: `12 transactions`, ..."""
    target: sa.Table = model.__table__
    found = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is not target or key.ondelete in ("CASCADE", "SET NULL"):
                continue
            count = await db.scalar(
                sa.select(sa.func.count()).select_from(table).where(key.parent == pk)
            )
            if count:
                found.append(f"{count:,} {humanize(table.name).lower()}")
    return found
