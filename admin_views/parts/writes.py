"""Create, edit and delete: each change and its audit entry commit or roll back together.
A refusal by the database is shown on the form's fields; a delete that other rows block is
explained; rows that are deactivated rather than deleted (`SoftDelete`) never are.

Four eyes on the forms: a view's `edit_four_eyes` rule says which saves need a second staff
member. Such a save is tried, so the form's, the view's and the database's rules answer as
for any save, then rolled back and kept as an approval request (the form as submitted, and
the row as it was). Approving it runs the same body, `write`, on that form, unless the row
changed since in a field the form sets.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqladmin.flash import Flash
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import RelationshipDirection, selectinload
from starlette.datastructures import MultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from wtforms import Form, PasswordField, TextAreaField, validators

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.parts.row_actions import NotRunError, Refused, as_asked, pairs
from admin_views.shared import four_eyes
from admin_views.shared.actions import ActionRefusedError
from admin_views.shared.form_errors import FieldErrorsError, delete_blockers, explain, stash
from admin_views.shared.labels import humanize
from admin_views.shared.wording import Wording, words_of
from audit.snapshot import changes, declared_secret, masked_fields, snapshot
from audit.versions import typed
from auth.middleware import actor, current_staff
from auth.permissions import allows
from auth.sessions import Staff
from core import personal_data
from models.approvals import ApprovalRequest
from models.base import SoftDelete

REASON = "change_reason"
"""The form field a guarded view's form gets for the maker's reason."""
MIN_REASON = 5
"""Characters a reason needs, as the approval request's CHECK asks."""

EditRule = Callable[[Any, AsyncSession, Any, dict[str, Any]], Awaitable[four_eyes.Needed | None]]
"""(view, session, the row before the save (None on create), the form's data) -> Needed
when the save needs a second person, else None."""


class DeleteBlockedError(Exception):
    """Other rows still point at the one to delete; the message names them."""


@dataclass(frozen=True)
class Written:
    """A saved row, with every column before the save (None on create) and after it."""

    obj: Any
    was: dict[str, Any] | None
    now: dict[str, Any]

    @property
    def changed(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(before, after) of the columns that changed; (None, every column) on create."""
        return (None, self.now) if self.was is None else changes(self.was, self.now)


@dataclass(frozen=True)
class Saved:
    """What a door's save did: the row as written, or the request it made for a second
    person instead (the row then as it would have been)."""

    obj: Any
    approval: ApprovalRequest | None = None


class AuditedWrites(Audited):
    lowercase_fields: ClassVar[tuple[str, ...]] = ()
    """Text fields stored in lower case (emails), whatever case staff type."""
    edit_four_eyes: ClassVar[EditRule | None] = None
    """Which creates and edits through the form need a second staff member (a rule, declared
    beside the screen): such a save makes an approval request instead of changing the row,
    and the form asks a reason for it."""
    never_delayed: ClassVar[dict[str, Any]] = {}
    """Form fields a save may change, to these values and nothing else, without waiting for
    a second person whatever `edit_four_eyes` says: `{"enabled": False}`, a kill switch."""

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
        return self.refuse(request, self.database_refusal(error))

    def database_refusal(self, error: IntegrityError) -> dict[str, str]:
        return explain(error, self.model, self.name) or {
            "__all__": "The database refused this change."
        }

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        form = await super().scaffold_form(rules)
        if self.edit_four_eyes is None:
            return form
        reason = TextAreaField(
            "Reason for the change",
            validators=[validators.Optional(), validators.Length(max=500)],
            description="Needed when the change waits for a second staff member's approval: "
            "they read it. Kept in the audit trail.",
        )
        # WTForms orders fields by creation: last, after any field a view adds itself.
        reason.creation_counter = sys.maxsize
        return type(form.__name__, (form,), {REASON: reason})

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
        return await self.save(request, None, data)

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        return await self.save(request, pk, data)

    async def save(self, request: Request, pk: str | None, data: dict) -> Any:
        """Create (no `pk`) or edit a row from the form's `data`, with its audit entry; a
        save that `edit_four_eyes` guards makes an approval request instead."""
        reason = str(data.pop(REASON, None) or "").strip()
        try:
            async with self.session_maker(expire_on_commit=False) as db:
                written, asked = await self.try_save(db, request, pk, data, reason)
                if asked is not None:
                    async with db.begin():
                        staff = self.staff(request)
                        approval = await four_eyes.ask(db, actor(request), staff, asked)
        except IntegrityError as error:
            raise self.refused_by_database(request, error) from None
        if asked is not None:
            self.sent_for_approval(request, approval)
            return written.obj
        answer = await self.after_model_change(data, written.obj, pk is None, request)
        door.keep_after_change(self, request, answer)
        return written.obj

    async def save_for(
        self,
        request: Request,
        staff: Staff,
        pk: str | None,
        values: dict[str, Any],
        reason: str = "",
    ) -> Saved:
        """Create (no `pk`) or edit a row for `staff`, the form's fields set to `values`
        (Python values by field name; the row's own, or the defaults, for the rest), by the
        screen's rules but without its pages: the door for callers that speak no HTML (the
        JSON API). The form is filled in, submitted as a browser would and validated as on
        the screen, then saved by `try_save`: the view's rules, the database's, four eyes
        and the audit entry. Raises NotRunError, or FieldErrorsError with the message of
        each field at fault, having written nothing."""
        created = pk is None
        verb = "create" if created else "edit"
        allowed = self.can_create if created else self.can_edit
        if not allowed or not allows(staff.permissions, self.resource(), verb):
            raise NotRunError(
                Refused.FORBIDDEN,
                f"Your role may not {verb} {self.name_plural.lower()}: it needs "
                f"{self.resource()}:{verb}.",
            )
        with nullcontext() if pk is None else door.building_edit_form(pk):
            form_class = await self.edit_form(created)
        current: dict[str, Any] = {}
        if pk is not None:
            async with self.session_maker() as db:
                row = await self.row_to_edit(db, pk)
            if row is None:
                raise NotRunError(Refused.NOT_FOUND, f"There is no such {self.name.lower()}.")
            current = {
                field.name: getattr(row, field.name)
                for field in form_class()
                if hasattr(row, field.name)
            }
        submitted = MultiDict(door.as_submitted(form_class(data=current | values)))
        form = form_class(submitted)
        if not form.validate():
            raise FieldErrorsError(
                {name: " ".join(map(str, errors)) for name, errors in form.errors.items()}
            )
        data = door.form_values(form, self.model)
        data.pop(REASON, None)
        try:
            async with self.session_maker(expire_on_commit=False) as db:
                written, asked = await self.try_save(
                    db, request, pk, data, reason.strip(), as_asked(submitted)
                )
                if asked is not None:
                    async with db.begin():
                        approval = await four_eyes.ask(db, actor(request, staff), staff, asked)
                    return Saved(written.obj, approval)
        except IntegrityError as error:
            raise FieldErrorsError(self.database_refusal(error)) from None
        except HTTPException:
            raise NotRunError(Refused.NOT_FOUND, f"There is no such {self.name.lower()}.") from None
        await self.after_model_change(data, written.obj, created, request)
        return Saved(written.obj)

    async def try_save(
        self,
        db: AsyncSession,
        request: Request,
        pk: str | None,
        data: dict,
        reason: str,
        submitted: dict[str, list[str]] | None = None,
    ) -> tuple[Written, four_eyes.Asked | None]:
        """The save in a transaction of its own: committed with its audit entry, or, when it
        needs a second person, rolled back and returned with what to ask them (`submitted`:
        the form as sent, when the request's own body is not it)."""
        created = pk is None
        async with db.begin():
            obj = self.model() if created else await self.row_to_edit(db, pk)
            if obj is None:
                raise HTTPException(status_code=404)
            needed = await self.needs_approval(db, None if created else obj, data)
            written = await self.write(db, request, obj, data, created)
            if needed is None or not self.waits(written):
                await self.record(db, request, written, {"reason": reason} if reason else {})
                return written, None
            asked = await self.asked(db, request, written, data, needed, reason, submitted)
            await db.rollback()  # the tried save: none of it stays
        return written, asked

    async def write(
        self, db: AsyncSession, request: Request, obj: Any, data: dict, created: bool
    ) -> Written:
        """The one body of every create and edit through the form (the screen's save and an
        approved request's): the view's rules, the values set, flushed. No audit entry."""
        was = None if created else snapshot(obj)
        await self.on_model_change(data, obj, created, request)
        obj = await door.set_form_values(self, db, obj, data)
        if created:
            db.add(obj)
        await db.flush()
        # Read back as stored (25 typed is 25.00), so the after compares with the before.
        await db.refresh(obj, attribute_names=[c.key for c in sa.inspect(self.model).column_attrs])
        return Written(obj, was, snapshot(obj))

    async def record(
        self, db: AsyncSession, request: Request, written: Written, extra: dict[str, Any]
    ) -> None:
        """The audit entry of a save (`extra`: the reason, the approval it ran for); an
        edit that changed nothing writes none."""
        before, after = written.changed
        if before is None:
            await self.audit(db, request, "create", written.obj.id, None, after | extra)
        elif after:
            await self.audit(db, request, "update", written.obj.id, before, after | extra)

    async def row_to_edit(self, db: AsyncSession, pk: str) -> Any | None:
        stmt = door.row_statement(self, pk)
        for relation in door.form_relations(self):
            stmt = stmt.options(selectinload(relation))
        return (await db.execute(stmt)).scalars().first()

    async def edit_form(self, created: bool) -> type[Form]:
        """The create or edit form, as SQLAdmin builds it for the screen."""
        return await self.scaffold_form(door.form_rules(self, created=created))

    def staff(self, request: Request) -> Any:
        staff = current_staff(request)
        if staff is None:
            raise HTTPException(status_code=403)
        return staff

    # -- Four eyes -------------------------------------------------------------------------

    async def needs_approval(
        self, db: AsyncSession, before: Any | None, data: dict[str, Any]
    ) -> four_eyes.Needed | None:
        if self.edit_four_eyes is None:
            return None
        # A rule declared on the class is called as a method: the view comes first.
        return await self.edit_four_eyes(db, before, dict(data))

    def form_column_keys(self) -> dict[str, str]:
        """Each column the form sets, to the form field that sets it (a foreign key to its
        relation's field)."""
        mapper = sa.inspect(self.model)
        found: dict[str, str] = {}
        for name in self.get_form_columns():
            if name in mapper.relationships:
                for column in mapper.relationships[name].local_columns:
                    found[column.key] = name
            elif name in mapper.columns:
                found[mapper.columns[name].key] = name
        return found

    def waits(self, written: Written) -> bool:
        """Whether a guarded save is one for a second person: it sets some field of the form
        to a new value, and more than `never_delayed` allows alone."""
        _, after = written.changed
        fields = {name: after[key] for key, name in self.form_column_keys().items() if key in after}
        if not fields:
            return False
        return written.was is None or not self.never_delayed or fields != self.never_delayed

    async def asked(
        self,
        db: AsyncSession,
        request: Request,
        written: Written,
        data: dict[str, Any],
        needed: four_eyes.Needed,
        reason: str,
        submitted: dict[str, list[str]] | None = None,
    ) -> four_eyes.Asked:
        """A tried save as an approval request keeps it: the form's values as submitted,
        the row's values before, what the view made of a password (its hash, in a secret
        column), never the password itself."""
        if len(reason) < MIN_REASON:
            raise self.refuse(
                request,
                {
                    REASON: f"{needed.rule} Say why, in at least {MIN_REASON} characters, "
                    "for the staff member who approves it."
                },
            )
        created = written.was is None
        fields = {field.name: field for field in (await self.edit_form(created))()}
        sent = as_asked(await request.form()) if submitted is None else submitted
        submitted = {
            name: values
            for name, values in sent.items()
            if (field := fields.get(_posted_for(name, fields))) is not None
            and name != REASON
            and not isinstance(field, PasswordField)
        }
        before = {} if written.was is None else written.was
        return four_eyes.Asked(
            table=self.resource(),
            action="create" if created else "edit",
            action_label=f"{'New' if created else 'Edit'} {_in_sentence(self.name)}",
            permission=f"{self.resource()}:{'create' if created else 'edit'}",
            records=[(str(written.obj.id), personal_data.label(written.obj))],
            params={
                "form": submitted,
                "before": {key: before[key] for key in self.form_column_keys() if key in before},
                "secrets": {key: data[key] for key in declared_secret(self.model) if data.get(key)},
            },
            needed=four_eyes.Needed(needed.rule, needed.preview or await self.preview(db, written)),
            reason=reason,
        )

    def sent_for_approval(self, request: Request, approval: ApprovalRequest) -> None:
        """Answer the save with the request's page, as the row-action runner does."""
        Flash.info(
            request,
            f"{approval.rule} Nothing changes until another staff member approves it.",
            title=f"{approval.action_label}: sent for approval",
        )
        door.keep_after_change(
            self,
            request,
            RedirectResponse(four_eyes.page_url(request, approval.id), status_code=303),
        )

    async def preview(self, db: AsyncSession, written: Written) -> str:
        """The save in words, field by field, as the record's history will say it once
        approved ("role: support → admin"); on create, the values given."""
        before, after = written.changed
        labels = door.column_labels(self)
        wording = words_of(self)
        said = []
        for key, name in self.form_column_keys().items():
            if key not in after:
                continue
            label = _in_sentence(str(labels.get(name) or humanize(name)))
            new = after[key]
            if before is None:
                if new not in (None, "", [], {}):
                    said.append(f"{label}: {await self.in_words(db, key, new, wording)}")
            elif (related := self.related_row(key)) is not None:
                old = await _label(db, related, before[key])
                said.append(f"{label}: {old} → {await _label(db, related, new)}")
            else:
                old, now = (typed(self.model, key, value) for value in (before[key], new))
                said.append(f"{label}: {wording.change(key, old, now).in_line()}")
        return "; ".join(said)

    async def in_words(self, db: AsyncSession, key: str, value: Any, wording: Wording) -> str:
        """A column's value as staff read it: a row it points at by its label."""
        related = self.related_row(key)
        if related is not None:
            return await _label(db, related, value)
        return wording.value(key, typed(self.model, key, value))

    def related_row(self, key: str) -> type | None:
        """The model a many-to-one column `key` points at, if it is one."""
        for relation in sa.inspect(self.model).relationships:
            columns = {column.key for column in relation.local_columns}
            if relation.direction is RelationshipDirection.MANYTOONE and key in columns:
                return relation.mapper.class_
        return None

    async def apply_approved_edit(
        self,
        db: AsyncSession,
        request: Request,
        approval: ApprovalRequest,
        approved: dict[str, Any],
    ) -> list[str]:
        """An approved create or edit, in the caller's transaction (the one that marked it
        executed): the form as submitted validated again, the row refused when it changed
        since in a field the form sets (the whole form is applied, so approving never undoes
        a change made meanwhile), then `write` and the audit entry naming both people."""
        created = approval.action == "create"
        asked = approval.params
        form = (await self.edit_form(created))(MultiDict(pairs(asked.get("form", {}))))
        if not form.validate():
            raise ActionRefusedError(
                "The change no longer passes the form's rules: "
                + " ".join(
                    f"{form[name].label.text}: {' '.join(map(str, errors))}"
                    for name, errors in form.errors.items()
                )
            )
        data = door.form_values(form, self.model) | asked.get("secrets", {})
        data.pop(REASON, None)
        [pk] = approval.record_ids
        if created:
            obj = self.model(id=uuid.UUID(pk))
        else:
            obj = await self.row_to_edit(db, pk)
            if obj is None:
                raise ActionRefusedError(f"{approval.record_label} no longer exists.")
            self.refuse_if_changed(obj, asked.get("before", {}))
        try:
            written = await self.write(db, request, obj, data, created)
        except FieldErrorsError as refused:
            raise ActionRefusedError(" ".join(refused.errors.values())) from None
        except IntegrityError as error:
            raise ActionRefusedError(" ".join(self.database_refusal(error).values())) from None
        await self.record(db, request, written, {"reason": approval.reason} | approved)
        return []

    def refuse_if_changed(self, obj: Any, before: dict[str, Any]) -> None:
        now = snapshot(obj)
        moved = [key for key, was in before.items() if now.get(key) != was]
        if moved:
            labels, fields = door.column_labels(self), self.form_column_keys()
            names = ", ".join(
                _in_sentence(str(labels.get(fields.get(key, key)) or humanize(key)))
                for key in moved
            )
            raise ActionRefusedError(
                f"{obj} was changed since the request ({names}); ask again if the change "
                "is still wanted."
            )

    async def delete_for(self, request: Request, staff: Staff, pk: str) -> None:
        """Delete a row for `staff` by the screen's rules (`delete_model`: the view's own
        refusal, the rows that still need it, the audit entry), without its pages: the door
        for callers that speak no HTML. Raises NotRunError, having deleted nothing."""
        if not self.can_delete or not allows(staff.permissions, self.resource(), "delete"):
            raise NotRunError(
                Refused.FORBIDDEN,
                f"Your role may not delete {self.name_plural.lower()}: it needs "
                f"{self.resource()}:delete.",
            )
        try:
            await self.delete_model(request, pk)
        except HTTPException:
            raise NotRunError(Refused.NOT_FOUND, f"There is no such {self.name.lower()}.") from None
        except (ActionRefusedError, DeleteBlockedError) as refused:
            raise NotRunError(Refused.CONFLICT, str(refused)) from None

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


def _in_sentence(label: str) -> str:
    # screens.py imports the base views, which import this module: imported when used.
    from admin_views.shared.screens import inside_sentence

    return inside_sentence(label)


async def _label(db: AsyncSession, model: type, value: Any) -> str:
    if value is None or value == "":
        return "none"
    row = await db.get(model, uuid.UUID(str(value)))
    return str(row) if row is not None else str(value)


def _posted_for(name: str, fields: dict[str, Any]) -> str:
    """The field a posted value belongs to: its own name, or, for a field posted as rows
    of inputs (`rules-0-attribute`, as WTForms' FieldList names them), the name before
    the row's number."""
    if name in fields:
        return name
    field, _, _ = name.partition("-")
    return field
