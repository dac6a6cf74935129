"""Copying a flag's state from one environment to another ("copy staging to production"):
the form, the change it makes, and the changes in words for the page that confirms it.

The copy is a row action of the flag (`FeatureFlagAdmin.copy`), so the runner checks its
permission, asks a second person where the flag's review rules say so, and audits it; the
JSON API's action door takes it too. Its page shows each field that would change, before →
after; the form carries a digest of those changes (`seen`), and the copy goes ahead only
while the states still differ exactly as shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form, HiddenField, SelectField, TextAreaField, ValidationError, validators

from admin_views.shared import shown_changes
from admin_views.shared.actions import ActionContext, ActionRefusedError, ActionSpec
from admin_views.shared.flag_wording import FLAG_WORDING
from admin_views.shared.shown_changes import ShownChange
from admin_views.shared.staff_form import StaffForm
from audit import trail
from audit.snapshot import changes, snapshot
from auth.middleware import actor
from flags import references
from flags.environments import (
    Difference,
    copy_into,
    definition,
    differences,
    fingerprint,
    state_of,
)
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState, FlagState


class CopyForm(StaffForm):
    """Which environment's state to copy onto which; `seen` is the digest of the changes
    the staff member confirmed (the page always sends it; a caller that saw no page, such
    as the JSON API, copies the states as they are)."""

    seen = HiddenField(validators=[validators.Optional()])
    reason = TextAreaField(
        "Reason",
        validators=[validators.Optional(), validators.Length(max=500)],
        description="Needed when the copy waits for a second staff member's approval: they "
        "read it. Kept in the audit trail.",
    )

    def validate_target(self, field: SelectField) -> None:
        if field.data == self.source.data:
            raise ValidationError("Pick two different environments.")


async def copy_form(view: Any) -> type[Form]:
    """The form with the environments to pick from, in their order."""
    async with view.session_maker() as db:
        choices = [(e.key, e.name) for e in await environments(db)]
    return type(
        "CopyForm",
        (CopyForm,),
        {
            "source": SelectField("From", choices=choices, validators=[validators.InputRequired()]),
            "target": SelectField("To", choices=choices, validators=[validators.InputRequired()]),
        },
    )


async def environments(db: AsyncSession) -> list[FlagEnvironment]:
    return list(
        await db.scalars(
            sa.select(FlagEnvironment).order_by(FlagEnvironment.position, FlagEnvironment.key)
        )
    )


@dataclass(frozen=True)
class Copy:
    """One copy as asked: the two environments and the flag's states in them."""

    flag: FeatureFlag
    source_environment: FlagEnvironment
    target_environment: FlagEnvironment
    source: FlagState
    target: FlagState

    @property
    def changes(self) -> list[Difference]:
        return differences(self.source, self.target)


async def asked_copy(db: AsyncSession, flag: FeatureFlag, source: str, target: str) -> Copy:
    """The copy of `flag`'s state from `source` to `target` (environment keys), read in
    `db`; ActionRefusedError naming what is missing."""
    found = {e.key: e for e in await environments(db)}
    for key in (source, target):
        if key not in found:
            raise ActionRefusedError(f"There is no environment {key[:40]!r}.")
    stored = {
        state.environment_id: state
        for state in await db.scalars(
            sa.select(FlagEnvironmentState).where(FlagEnvironmentState.flag_id == flag.id)
        )
    }
    states = {key: state_of(flag, found[key], stored) for key in (source, target)}
    for key, state in states.items():
        if state is None:
            raise ActionRefusedError(f"{flag} has no state in {found[key]} yet.")
    return Copy(flag, found[source], found[target], states[source], states[target])


async def copy_state(
    _view: Any, db: AsyncSession, flag: FeatureFlag, context: ActionContext
) -> dict[str, Any]:
    """The row action's change: the target state takes the source's, as confirmed. A
    target that is a state row of its own gets its own audit entry; the flag's entry (the
    runner's) names both environments either way."""
    params = context.params
    copy = await asked_copy(db, flag, params["source"], params["target"])
    found = copy.changes
    if not found:
        raise ActionRefusedError(
            f"{flag} is the same in {copy.source_environment} and {copy.target_environment}: "
            "there is nothing to copy."
        )
    if params.get("seen") and fingerprint(found) != params["seen"]:
        raise ActionRefusedError(
            f"{flag} changed in {copy.source_environment} or {copy.target_environment} since "
            "the changes were shown: look at them again."
        )
    said = {
        "copied_from": copy.source_environment.key,
        "environment": copy.target_environment.key,
    }
    target = copy.target_environment.key
    wrong = await db.run_sync(
        lambda sync: references.problems(sync, flag.key, target, definition(copy.source))
    )
    if wrong:
        raise ActionRefusedError(f"{flag} cannot be copied: {' '.join(wrong.values())}")
    before = snapshot(copy.target)
    copy_into(copy.source, copy.target)
    if copy.target is not flag:
        await db.flush()
        was, now = changes(before, snapshot(copy.target))
        await trail.append(
            db,
            actor(context.request),
            trail.Entry("update", copy.target.__tablename__, str(copy.target.id), was, now | said),
        )
    return said


def picked(request: Request, form: Any, options: list[FlagEnvironment]) -> tuple[str, str]:
    """The environments to copy from and to: as the form came back, else as the page's
    pickers asked (its query), else the last environment and the one before it (staging
    to production, as the migration orders them)."""
    if form is not None and form.source.data and form.target.data:
        return str(form.source.data), str(form.target.data)
    keys = [e.key for e in options]
    target = request.query_params.get("target") or (keys[-1] if keys else "")
    others = [key for key in keys if key != target]
    source = request.query_params.get("source") or (others[-1] if others else target)
    return source, target


async def page(
    view: Any,
    request: Request,
    spec: ActionSpec,
    raw: str,
    flag: FeatureFlag,
    form: Any,
    _destination: str,
    status_code: int,
) -> Response:
    """The copy's own page: the two environments, each field that would change (before →
    after), and the form that confirms exactly those changes. It leads back to the flag's
    page, wherever the copy was opened from."""
    problem = None
    found: list[Difference] = []
    needed = None
    async with view.session_maker() as db:
        options = await environments(db)
        source, target = picked(request, form, options)
        current = await db.get(FeatureFlag, flag.id)
        try:
            if source == target:
                raise ActionRefusedError("Pick two different environments.")
            copy = await asked_copy(db, current, source, target)
            found = copy.changes
            if spec.four_eyes is not None:
                needed = await spec.four_eyes(
                    view, db, [current], {"source": source, "target": target}
                )
        except ActionRefusedError as refused:
            problem = str(refused)
    submitted = form is not None and form.source.data is not None
    if form is not None:
        form.source.data, form.target.data = source, target
        if not (submitted and form.seen.data):
            form.seen.data = fingerprint(found)
    names = {e.key: e.name for e in options}
    # Back to the flag's page, whichever page came before: the pickers reload this one.
    destination = str(request.url_for("admin:details", identity=view.identity, pk=str(flag.id)))
    return await view.templates.TemplateResponse(
        request,
        "staff/flag_copy.html",
        {
            "title": f"{spec.label.rstrip('…')}: {flag}",
            "record": str(flag),
            "spec": spec,
            "pks": raw,
            "form": form,
            "options": options,
            "source": source,
            "target": target,
            "source_name": names.get(source, source),
            "target_name": names.get(target, target),
            "changes": shown(view, found),
            "problem": problem,
            "needed": needed,
            "destination": destination,
            "model_view": view,
        },
        status_code=status_code,
    )


def shown(view: Any, found: list[Difference]) -> list[ShownChange]:
    return shown_changes.shown(view, found, FLAG_WORDING)


def in_words(view: Any, found: list[Difference]) -> str:
    return shown_changes.in_words(view, found, FLAG_WORDING)
