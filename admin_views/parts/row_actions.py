"""Row actions (`@row_action`, admin_views/shared/actions.py): which ones a record's page
offers in its state, the action's own page (its form or a confirmation), and the run:
every selected row checked, changed and audited in one transaction, or none."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import Form

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.parts.record_page import RecordPage
from admin_views.shared import four_eyes
from admin_views.shared.actions import (
    ActionContext,
    ActionRefusedError,
    ActionSpec,
    AlreadyDoneError,
)
from admin_views.shared.navigation import back_to
from audit.snapshot import changes, snapshot
from auth.middleware import actor, current_staff
from auth.permissions import ACTION_PREFIX, allows
from auth.sessions import Staff
from core import personal_data
from models.approvals import ApprovalRequest


@dataclass(frozen=True)
class Outcome:
    """What an action did: the references of money it moved, or the request it made for a
    second person instead."""

    made: list[str] = field(default_factory=list)
    approval: ApprovalRequest | None = None


class Refused(StrEnum):
    """Why a door's call ran nothing, as the door answers it (a status, an error code)."""

    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    CONFLICT = "conflict"
    """The rows' state, or the action's own rules, stand in the way."""
    ALREADY_DONE = "already_done"


class NotRunError(Exception):
    """A call of `RowActions.run_for` that ran nothing and wrote nothing; the message says
    why, for people."""

    def __init__(self, refused: Refused, message: str) -> None:
        super().__init__(message)
        self.refused = refused


def as_asked(form_data: Any) -> dict[str, list[str]]:
    """A submitted form as it can be kept and submitted again (strings only; the CSRF
    token and the selection left out)."""
    if not form_data:
        return {}
    return {
        name: [value for value in form_data.getlist(name) if isinstance(value, str)]
        for name in form_data
        if name not in ("csrf_token", "pks", "next")
    }


def pairs(asked: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in asked.items() for value in values]


@dataclass(frozen=True)
class RecordAction:
    """An action as the record's page offers it."""

    name: str
    label: str
    url: str
    confirm: str | None
    """Asked in a dialog before the POST; None when the action has its own page."""


class RowActions(RecordPage, Audited):
    def __init__(self) -> None:
        super().__init__()
        self.action_specs: dict[str, ActionSpec] = {
            spec.name: spec
            for klass in reversed(type(self).__mro__)
            for member in vars(klass).values()
            if isinstance(spec := getattr(member, "spec", None), ActionSpec)
        }

    def record_actions(self, request: Request, obj: Any) -> list[RecordAction]:
        """The actions of the bar this staff member may take on `obj` in its current state,
        in the order declared; a confirmation names the record."""
        allowed = door.usable_actions(self, request)
        offered = []
        for name, spec in self.action_specs.items():
            if name not in allowed or not spec.in_bar or not spec.applies_to(obj):
                continue
            url = f"{door.action_url(self, request, name)}?pks={obj.id}"
            confirm = None if spec.has_own_page else spec.confirmation(str(obj))
            offered.append(RecordAction(spec.name, spec.label, url, confirm))
        return offered

    async def run_row_action(self, request: Request, spec: ActionSpec) -> Response:
        """The screens' door: GET answers with the action's page (its form, or a
        confirmation); POST runs it once the form, if any, comes back valid."""
        form_data = await request.form() if request.method == "POST" else None
        asked = form_data or {}
        raw = str(asked.get("pks") or request.query_params.get("pks") or "")
        pks = list(dict.fromkeys(pk for pk in raw.split(",") if pk))
        destination = back_to(
            request,
            str(request.url_for("admin:list", identity=self.identity)),
            str(asked.get("next") or ""),
        )
        staff = current_staff(request)
        if not pks or staff is None:
            Flash.warning(request, "Select at least one row first.", title=spec.label)
            return RedirectResponse(destination, status_code=303)
        if spec.one_row and len(pks) > 1:
            Flash.warning(
                request,
                f"{spec.label} applies to one {self.name.lower()} at a time; nothing was changed.",
                title=spec.label,
            )
            return RedirectResponse(destination, status_code=303)
        rows = await self.selected_rows(pks)
        refusal = self.refusal(spec, pks, rows)
        if refusal is not None:
            Flash.error(request, refusal, title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        params: dict[str, Any] = {}
        needed = await self.needed_up_front(spec, rows)
        form_class = await spec.form_class(self, reason=needed is not None)
        submitted = form_data is not None and "action_form" in form_data
        if form_class is not None or form_data is None:
            form = form_class(form_data if submitted else None) if form_class else None
            if not submitted or (form is not None and not form.validate()):
                status_code = 400 if submitted else 200
                return await self.action_page(
                    request, spec, raw, rows, form, destination, status_code, needed
                )
            params = form.data if form is not None else {}
        try:
            outcome = await self.act(request, staff, spec, rows, params, as_asked(form_data))
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        except AlreadyDoneError as done:
            Flash.info(request, str(done), title=f"{spec.label}: already done")
            return RedirectResponse(destination, status_code=303)
        if outcome.approval is not None:
            Flash.info(
                request,
                f"{outcome.approval.rule} Nothing changes until another staff member approves it.",
                title=f"{spec.label}: sent for approval",
            )
            return RedirectResponse(four_eyes.page_url(request, outcome.approval.id), 303)
        what = str(rows[0]) if len(rows) == 1 else f"{len(pks)} {self.name_plural.lower()}"
        made_note = f" Made {', '.join(outcome.made)}." if outcome.made else ""
        Flash.success(request, f"{spec.label}: done for {what}.{made_note}", title=spec.label)
        return RedirectResponse(destination, status_code=303)

    async def run_for(
        self,
        request: Request,
        staff: Staff,
        name: str,
        pks: Sequence[str],
        values: MultiDict,
        key: str | None = None,
    ) -> Outcome:
        """Run the action `name` on the rows `pks` for `staff`, its form filled in with
        `values` (strings, as a form submits them), by the screens' rules but without their
        pages: the door for callers that speak no HTML (the JSON API). `key` is the
        submission's idempotency key where the form takes one; a fresh one when None.
        Raises NotRunError, having written nothing."""
        spec = self.action_specs.get(name)
        if spec is None:
            raise NotRunError(Refused.NOT_FOUND, f"{self.name_plural} have no action {name!r}.")
        permission = f"{self.resource()}:{ACTION_PREFIX}{name}"
        if not allows(staff.permissions, *permission.split(":", 1)):
            raise NotRunError(
                Refused.FORBIDDEN,
                f"Your role may not use {spec.label} on {self.name_plural.lower()}: it needs "
                f"{permission}.",
            )
        pks = list(dict.fromkeys(pks))
        if not pks:
            raise NotRunError(Refused.INVALID, "Select at least one row first.")
        if spec.one_row and len(pks) > 1:
            raise NotRunError(
                Refused.INVALID,
                f"{spec.label} applies to one {self.name.lower()} at a time; nothing was changed.",
            )
        rows = await self.selected_rows(pks)
        refusal = self.refusal(spec, pks, rows)
        if refusal is not None:
            missing = len(rows) < len(pks)
            raise NotRunError(Refused.NOT_FOUND if missing else Refused.CONFLICT, refusal)
        needed = await self.needed_up_front(spec, rows)
        form_class = await spec.form_class(self, reason=needed is not None)
        if form_class is not None and hasattr(form_class, "idempotency_key"):
            # One call is one submission: the key a form's page would have carried.
            key = key or values.get("idempotency_key") or uuid.uuid4().hex
            kept = [(n, value) for n, value in values.multi_items() if n != "idempotency_key"]
            values = MultiDict([*kept, ("idempotency_key", key)])
        params = filled_in(spec, form_class, values)
        try:
            return await self.act(request, staff, spec, rows, params, as_asked(values))
        except AlreadyDoneError as done:
            raise NotRunError(Refused.ALREADY_DONE, str(done)) from None
        except ActionRefusedError as refused:
            raise NotRunError(self.refused_as(staff, spec, rows), str(refused)) from None

    def refused_as(self, staff: Staff, spec: ActionSpec, rows: list[Any]) -> Refused:
        """How a door reads the action's own refusal: the rows' state or the rules of the
        moment stand in the way, unless the view knows the refusal is about who asks."""
        return Refused.CONFLICT

    async def act(
        self,
        request: Request,
        staff: Staff,
        spec: ActionSpec,
        rows: list[Any],
        params: dict[str, Any],
        asked: dict[str, list[str]],
    ) -> Outcome:
        """Every door's way to run an action on `rows` with the form's `params` (`asked`:
        the form as submitted): at once, or, where its guard says so, as a request for a
        second person. Raises ActionRefusedError or AlreadyDoneError."""
        if spec.four_eyes is not None:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                needed = await spec.four_eyes(self, db, rows, params)
                if needed is not None:
                    if len(str(params.get("reason") or "").strip()) < 5:
                        raise ActionRefusedError(
                            f"{needed.rule} Say why, in a reason of at least 5 characters, "
                            "for the staff member who approves it."
                        )
                    approval = await four_eyes.ask(
                        db,
                        actor(request),
                        staff,
                        four_eyes.Asked(
                            table=self.resource(),
                            action=spec.name,
                            action_label=spec.label,
                            permission=f"{self.resource()}:{ACTION_PREFIX}{spec.name}",
                            records=[(str(row.id), personal_data.label(row)) for row in rows],
                            params=asked,
                            needed=needed,
                            reason=str(params.get("reason") or ""),
                        ),
                    )
                    return Outcome(approval=approval)
        made = await self.perform(request, staff, spec, [str(row.id) for row in rows], params)
        return Outcome(made=made)

    async def perform(
        self,
        request: Request,
        staff: Staff,
        spec: ActionSpec,
        pks: list[str],
        params: dict[str, Any],
    ) -> list[str]:
        """Every row checked, changed and audited in one transaction, or none; the
        references of money moved."""
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            return await self.apply(db, request, staff, spec, pks, params)

    async def apply(
        self,
        db: AsyncSession,
        request: Request,
        staff: Staff,
        spec: ActionSpec,
        pks: list[str],
        params: dict[str, Any],
        approved: dict[str, Any] | None = None,
    ) -> list[str]:
        """`perform` in the caller's transaction; `approved` says on each audit entry which
        approval request this runs for and who asked."""
        context = ActionContext(request=request, staff=staff, params=params)
        made: list[str] = []
        for pk in pks:
            obj = (await db.execute(door.row_statement(self, pk))).scalars().first()
            if obj is None:
                raise ActionRefusedError(f"{self.name} {pk} no longer exists.")
            if not spec.applies_to(obj):
                raise ActionRefusedError(spec.refusal(obj))
            before = snapshot(obj)
            details = await spec.change(self, db, obj, context)
            if details and "transaction" in details:
                made.append(details["transaction"])
            await db.flush()
            changed_before, changed_after = changes(before, snapshot(obj))
            reason = {"reason": params["reason"]} if "reason" in params else {}
            await self.audit(
                db,
                request,
                f"action:{spec.name}",
                pk,
                changed_before,
                changed_after | (details or {}) | reason | (approved or {}),
            )
        return made

    async def apply_approved(
        self,
        db: AsyncSession,
        request: Request,
        checker: Staff,
        approval: ApprovalRequest,
        approved: dict[str, Any],
    ) -> list[str]:
        """An approved request's action, as it was asked, in the caller's transaction (the
        one that marked it executed): its rules checked again now, and the request's id as
        the idempotency key, so money moves once however the approval arrives."""
        spec = self.action_specs.get(approval.action)
        if spec is None:
            raise ActionRefusedError(f"{self.name_plural} no longer offer {approval.action}.")
        params: dict[str, Any] = {}
        form_class = await spec.form_class(self, reason=True)
        if form_class is not None:
            form = form_class(MultiDict(pairs(approval.params)))
            if not form.validate():
                raise ActionRefusedError(
                    f"The request's {', '.join(form.errors)} no longer pass the form's rules."
                )
            params = form.data
            if "idempotency_key" in params:
                params["idempotency_key"] = approval.id.hex
        return await self.apply(
            db, request, checker, spec, list(approval.record_ids), params, approved
        )

    async def needed_up_front(self, spec: ActionSpec, rows: list[Any]) -> four_eyes.Needed | None:
        """Whether a second person is needed, when the action's guard can tell from the
        rows alone (before the form is filled in)."""
        if spec.four_eyes is None or spec.four_eyes.reads_form:
            return None
        async with self.session_maker() as db:
            return await spec.four_eyes(self, db, rows, {})

    async def selected_rows(self, pks: list[str]) -> list[Any]:
        """The selected rows in one query, read for the action's page and its state check;
        a malformed or unknown id is left out (and so refused)."""
        conditions = []
        for pk in pks:
            try:
                conditions.append(self.row_condition(pk))
            except HTTPException:
                continue
        if not conditions:
            return []
        stmt = self.with_shown_rows(sa.select(self.model).where(sa.or_(*conditions)))
        async with self.session_maker(expire_on_commit=False) as db:
            found = {str(obj.id): obj for obj in (await db.execute(stmt)).scalars().unique()}
        return [found[pk] for pk in pks if pk in found]

    def refusal(self, spec: ActionSpec, pks: list[str], rows: list[Any]) -> str | None:
        if len(rows) < len(pks):
            missing = len(pks) - len(rows)
            noun = self.name.lower() if missing == 1 else self.name_plural.lower()
            return f"{missing} selected {noun} no longer exist."
        refused = [spec.refusal(obj) for obj in rows if not spec.applies_to(obj)]
        return " ".join(refused) if refused else None

    async def action_page(
        self,
        request: Request,
        spec: ActionSpec,
        raw: str,
        rows: list[Any],
        form: Form | None,
        destination: str,
        status_code: int,
        needed: four_eyes.Needed | None = None,
    ) -> Response:
        one = rows[0] if len(rows) == 1 else None
        if spec.page is not None and one is not None:
            return await spec.page(self, request, spec, raw, one, form, destination, status_code)
        record = str(one) if one is not None else f"{len(rows)} {self.name_plural.lower()}"
        facts = []
        if spec.facts is not None and one is not None:
            async with self.session_maker() as db:
                facts = await spec.facts(self, db, one)
        return await self.templates.TemplateResponse(
            request,
            "staff/action_form.html",
            {
                "form": form,
                "spec": spec,
                "pks": raw,
                "record": record,
                "confirm": spec.confirmation(record if one is not None else f"these {record}"),
                "facts": facts,
                "currency": getattr(one, "currency", None),
                "model_view": self,
                "destination": destination,
                "needed": needed,
                "title": f"{spec.label}: {record}",
            },
            status_code=status_code,
        )


def filled_in(spec: ActionSpec, form_class: type[Form] | None, values: MultiDict) -> dict[str, Any]:
    """The action's form filled in with `values` and validated: its data, or NotRunError
    naming each field at fault (a field it does not have included)."""
    if form_class is None:
        if values:
            raise NotRunError(Refused.INVALID, f"{spec.label} takes no parameters.")
        return {}
    form = form_class(values)
    unknown = [name for name in values if name not in form]
    if unknown:
        taken = [name for name in form.data if name != "idempotency_key"]
        raise NotRunError(
            Refused.INVALID,
            f"{spec.label} has no {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(taken) or 'nothing'}.",
        )
    if not form.validate():
        raise NotRunError(
            Refused.INVALID,
            " ".join(
                f"{form[name].label.text}: {' '.join(map(str, errors))}"
                for name, errors in form.errors.items()
            ),
        )
    return form.data
