"""Row actions (`@row_action`, admin_views/shared/actions.py): which ones a record's page
offers in its state, the action's own page (its form or a confirmation), and the run:
every selected row checked, changed and audited in one transaction, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqladmin.flash import Flash
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import Form

from admin_views import sqladmin_door as door
from admin_views.parts.audited import Audited
from admin_views.parts.record_page import RecordPage
from admin_views.shared.actions import (
    ActionContext,
    ActionRefusedError,
    ActionSpec,
    AlreadyDoneError,
)
from admin_views.shared.navigation import back_to
from audit.snapshot import changes, snapshot
from auth.middleware import current_staff


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
        """The actions this staff member may take on `obj` in its current state, in the
        order declared; a confirmation names the record."""
        allowed = door.usable_actions(self, request)
        offered = []
        for name, spec in self.action_specs.items():
            if name not in allowed or not spec.applies_to(obj):
                continue
            url = f"{door.action_url(self, request, name)}?pks={obj.id}"
            asks = spec.form is not None or spec.reason
            confirm = None if asks else spec.confirmation(str(obj))
            offered.append(RecordAction(spec.name, spec.label, url, confirm))
        return offered

    async def run_row_action(self, request: Request, spec: ActionSpec) -> Response:
        """GET answers with the action's page (its form, or a confirmation); POST runs it
        once the form, if any, comes back valid."""
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
        form_class = await spec.form_class(self)
        submitted = form_data is not None and "action_form" in form_data
        if form_class is not None or form_data is None:
            form = form_class(form_data if submitted else None) if form_class else None
            if not submitted or (form is not None and not form.validate()):
                return await self.action_page(
                    request, spec, raw, rows, form, destination, 400 if submitted else 200
                )
            params = form.data if form is not None else {}
        context = ActionContext(request=request, staff=staff, params=params)
        made: list[str] = []
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
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
                    reason = {"reason": params["reason"]} if spec.reason else {}
                    await self.audit(
                        db,
                        request,
                        f"action:{spec.name}",
                        pk,
                        changed_before,
                        changed_after | (details or {}) | reason,
                    )
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        except AlreadyDoneError as done:
            Flash.info(request, str(done), title=f"{spec.label}: already done")
            return RedirectResponse(destination, status_code=303)
        what = str(rows[0]) if len(rows) == 1 else f"{len(pks)} {self.name_plural.lower()}"
        made_note = f" Made {', '.join(made)}." if made else ""
        Flash.success(request, f"{spec.label}: done for {what}.{made_note}", title=spec.label)
        return RedirectResponse(destination, status_code=303)

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
    ) -> Response:
        one = rows[0] if len(rows) == 1 else None
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
                "title": f"{spec.label}: {record}",
            },
            status_code=status_code,
        )
