"""Restoring a row as one of its changes left it ("Restore this version", from its history):
a new change, never a rewrite of the old ones.

The restore is a row action (`Restorable.restore`), so the runner checks its permission and
CSRF token and audits it (`action:restore`, naming the change it restores); a second person
is asked where the view's edit rule (`edit_four_eyes`) would ask for an edit to the same
values, and never for only what `never_delayed` allows alone (turning a flag off). The row
is read back as the change left it from the audit trail (`audit.versions`), goes through
the view's own edit hook (`on_model_change`: its rules and messages, its revision), and its
page shows each field that would change, now → restored, before it is confirmed; the form
carries a digest of those changes, and the restore goes ahead only while they still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqladmin import ModelView
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form, HiddenField, TextAreaField, ValidationError, validators

from admin_views.shared import shown_changes
from admin_views.shared.actions import ActionContext, ActionRefusedError, ActionSpec, row_action
from admin_views.shared.form_errors import FieldErrorsError
from admin_views.shared.four_eyes import Guard, Needed
from admin_views.shared.history import RESTORE, version_name
from admin_views.shared.staff_form import StaffForm
from admin_views.shared.wording import words_of
from audit.versions import as_left_by, previous
from flags.environments import fingerprint
from models.ops import AuditLog


class RestoreForm(StaffForm):
    """Which change's version to restore (its number in the trail), the digest of the
    changes the staff member confirmed, and a reason where a second person reads it."""

    entry = HiddenField(validators=[validators.InputRequired()])
    seen = HiddenField(validators=[validators.Optional()])
    reason = TextAreaField(
        "Reason",
        validators=[validators.Optional(), validators.Length(max=500)],
        description="Needed when the restore waits for a second staff member's approval: "
        "they read it. Kept in the audit trail.",
    )

    def validate_entry(self, field: HiddenField) -> None:
        if not str(field.data or "").isdigit() or len(str(field.data)) > 18:
            raise ValidationError("Pick a change from the history.")


@dataclass(frozen=True)
class Restoring:
    """A restore as asked: the change whose version it restores, the row's values as that
    change left them, and what restoring them would change (field, now, restored)."""

    entry: AuditLog
    values: dict[str, Any]
    changes: list[shown_changes.Difference]

    @property
    def version(self) -> str:
        return version_name(self.entry)


async def restoring(view: Any, db: AsyncSession, row: Any, entry: Any) -> Restoring:
    """The restore of `row` to the version change `entry` (its number in the trail) left,
    the version before the current one when none is named; refused (ActionRefusedError)
    for a change that is not the row's."""
    text = str(entry or "")
    if not text:  # none named (a page opened from elsewhere): the version before this one
        text = str(await previous(db, row, view.resource()) or "")
    found = None
    if text.isdigit() and len(text) <= 18:
        found = await as_left_by(db, row, view.resource(), int(text), view.form_column_keys())
    if found is None and not text:
        raise ActionRefusedError(f"{row} has no earlier version in its history.")
    if found is None:
        raise ActionRefusedError(f"Change #{text[:18]} is not in the history of {row}.")
    left, values = found
    changes = [(name, getattr(row, name), value) for name, value in values.items()]
    return Restoring(left, values, [c for c in changes if c[1] != c[2]])


async def _reviewed(
    view: Any, db: AsyncSession, rows: Any, params: dict[str, Any]
) -> Needed | None:
    """A restore waits for a second person where an edit to the same values would."""
    if not params.get("entry") or len(rows) != 1:
        return None
    asked = await restoring(view, db, rows[0], params["entry"])
    changed = {name: new for name, _, new in asked.changes}
    if not changed or (view.never_delayed and changed == view.never_delayed):
        return None
    needed = await view.needs_approval(db, rows[0], dict(asked.values))
    if needed is None:
        return None
    return Needed(needed.rule, shown_changes.in_words(view, asked.changes, words_of(view)))


restore_review = Guard(_reviewed, reads_form=True)


async def page(
    view: Any,
    request: Request,
    spec: ActionSpec,
    raw: str,
    row: Any,
    form: Form | None,
    destination: str,
    status_code: int,
) -> Response:
    """The restore's own page: the version, each field that would change (now → as that
    version had it), and the form that confirms exactly those changes."""
    submitted = form is not None and form.entry.data
    entry = form.entry.data if submitted else request.query_params.get("entry")
    problem, asked, needed = None, None, None
    async with view.session_maker() as db:
        try:
            asked = await restoring(view, db, row, entry)
            if spec.four_eyes is not None:
                picked = {"entry": str(asked.entry.sequence)}
                needed = await spec.four_eyes(view, db, [row], picked)
        except ActionRefusedError as refused:
            problem = str(refused)
    if form is not None and asked is not None:
        form.entry.data = str(asked.entry.sequence)
        if not (submitted and form.seen.data):
            form.seen.data = fingerprint(asked.changes)
    return await view.templates.TemplateResponse(
        request,
        "staff/restore.html",
        {
            "title": f"{spec.label}: {row}",
            "record": str(row),
            "spec": spec,
            "pks": raw,
            "form": form,
            "entry": asked.entry if asked else None,
            "version": asked.version if asked else "",
            "changes": shown_changes.shown(view, asked.changes, words_of(view)) if asked else [],
            "problem": problem,
            "needed": needed,
            "destination": destination,
            "model_view": view,
        },
        status_code=status_code,
    )


class Restorable(ModelView):
    """A view whose rows can be restored as one of their changes left them; its history
    panel (`history`) links each change to this action. Never reviewed: for views whose
    edits no second person reviews (see `ReviewedRestorable`)."""

    @row_action(
        RESTORE, "Restore this version", form=RestoreForm, one_row=True, in_bar=False, page=page
    )
    async def restore(self, db: AsyncSession, row: Any, context: ActionContext) -> dict[str, Any]:
        return await restored(self, db, row, context)

    async def restore_said(self, db: AsyncSession, row: Any) -> dict[str, Any]:
        """What else a restore's audit entry says about the row (its environment)."""
        return {}


class ReviewedRestorable(Restorable):
    """`Restorable` for a view whose edits a second person may review (`edit_four_eyes`):
    a restore waits where an edit to the same values would."""

    @row_action(
        RESTORE,
        "Restore this version",
        form=RestoreForm,
        one_row=True,
        four_eyes=restore_review,
        in_bar=False,
        page=page,
    )
    async def restore(self, db: AsyncSession, row: Any, context: ActionContext) -> dict[str, Any]:
        return await restored(self, db, row, context)


async def restored(view: Any, db: AsyncSession, row: Any, context: ActionContext) -> dict:
    """The action's change: `row` as the change asked for left it, through the view's edit
    hook; what its audit entry says besides the fields."""
    asked = await restoring(view, db, row, context.params.get("entry"))
    if not asked.changes:
        raise ActionRefusedError(
            f"{row} is already as {asked.version} left it: there is nothing to restore."
        )
    seen = context.params.get("seen")
    if seen and fingerprint(asked.changes) != seen:
        raise ActionRefusedError(f"{row} changed since the changes were shown: look at them again.")
    data = dict(asked.values)
    try:
        await view.on_model_change(data, row, False, context.request)
    except FieldErrorsError as refused:
        raise ActionRefusedError(
            f"{asked.version} cannot be restored: {' '.join(refused.errors.values())}"
        ) from None
    for name, value in data.items():
        setattr(row, name, value)
    said = {"restored_from": asked.entry.sequence, "restored_version": asked.version}
    return said | await view.restore_said(db, row)
