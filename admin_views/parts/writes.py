"""Create, edit and delete: each change and its audit entry commit or roll back together.
A refusal by the database is shown on the form's fields; a delete that other rows block is
explained; rows that are deactivated rather than deleted (`SoftDelete`) never are."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.shared.form_errors import FieldErrorsError, delete_blockers, explain, stash
from audit.snapshot import changes, masked_fields, snapshot
from models.base import SoftDelete


class DeleteBlockedError(Exception):
    """Other rows still point at the one to delete; the message names them."""


class AuditedWrites(Audited):
    lowercase_fields: ClassVar[tuple[str, ...]] = ()
    """Text fields stored in lower case (emails), whatever case staff type."""

    def __init__(self) -> None:
        super().__init__()
        if self.soft_delete:
            self.can_delete = False

    @property
    def soft_delete(self) -> bool:
        """Rows that are deactivated, through an action that asks why, never deleted
        (customers, merchants)."""
        return issubclass(self.model, SoftDelete)

    def refuse(self, request: Request, errors: dict[str, str]) -> FieldErrorsError:
        """A save refused by a rule of the screen: raise the result to show `errors`."""
        stash(request, errors)
        return FieldErrorsError(errors)

    def refused_by_database(self, request: Request, error: IntegrityError) -> FieldErrorsError:
        errors = explain(error, self.model, self.name) or {
            "__all__": "The database refused this change."
        }
        return self.refuse(request, errors)

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        for field in self.lowercase_fields:
            if isinstance(data.get(field), str):
                data[field] = data[field].strip().lower()
        if not is_created:
            for field in masked_fields(model):
                if data.get(field) in (None, "", {}, []):
                    data.pop(field, None)

    async def insert_model(self, request: Request, data: dict) -> Any:
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                obj = self.model()
                await self.on_model_change(data, obj, True, request)
                obj = await door.set_form_values(self, db, obj, data)
                db.add(obj)
                await db.flush()
                await self.audit(db, request, "create", obj.id, None, snapshot(obj))
        except IntegrityError as error:
            raise self.refused_by_database(request, error) from None
        door.keep_after_change(
            self, request, await self.after_model_change(data, obj, True, request)
        )
        return obj

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        stmt = door.row_statement(self, pk)
        for relation in door.form_relations(self):
            stmt = stmt.options(selectinload(relation))
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                obj = (await db.execute(stmt)).scalars().first()
                if obj is None:
                    raise HTTPException(status_code=404)
                before = snapshot(obj)
                await self.on_model_change(data, obj, False, request)
                obj = await door.set_form_values(self, db, obj, data)
                await db.flush()
                changed_before, changed_after = changes(before, snapshot(obj))
                if changed_after:
                    await self.audit(db, request, "update", pk, changed_before, changed_after)
        except IntegrityError as error:
            raise self.refused_by_database(request, error) from None
        door.keep_after_change(
            self, request, await self.after_model_change(data, obj, False, request)
        )
        return obj

    async def delete_model(self, request: Request, pk: Any) -> None:
        """Delete a row; one others still need stays, with why."""
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = (await db.execute(door.row_statement(self, pk))).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            await self.on_model_delete(obj, request)
            blockers = await delete_blockers(db, self.model, obj.id)
            if blockers:
                # SQLAdmin shows the message of any error from a delete above the list.
                raise DeleteBlockedError(
                    f"{self.name} {obj} cannot be deleted: it is still referred to by "
                    f"{', '.join(blockers)}. Remove or reassign those first."
                )
            await db.delete(obj)
            await db.flush()
            await self.audit(db, request, "delete", pk, before, None)
        await self.after_model_delete(obj, request)
