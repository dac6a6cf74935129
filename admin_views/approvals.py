"""Four eyes: the approval requests that guarded changes make, and their Approve / Reject.

Staff see the requests they asked and those about tables they may view; those who may
approve also see a badge counting the requests waiting for them. Approving runs the change
in the same transaction that marks the request executed (admin_views/shared/four_eyes.py);
when the change's rules refuse it at that moment, the request is marked failed with the
reason.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import TextAreaField, validators

from admin_views import sqladmin_door as door
from admin_views.base import ReadOnlyView, StaffView
from admin_views.parts.exporting import EXPORT, listed_as
from admin_views.parts.row_actions import Outcome, RecordAction, Refused
from admin_views.shared import four_eyes
from admin_views.shared.actions import ActionContext, ActionRefusedError, ActionSpec, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, DistinctValuesFilter
from admin_views.shared.labels import humanize
from admin_views.shared.navigation import may_view
from admin_views.shared.staff_form import StaffForm
from auth.middleware import current_staff
from auth.permissions import allows
from auth.sessions import Staff
from models.approvals import ApprovalRequest, ApprovalStatus
from models.base import utcnow
from models.people import AdminUser

MENU = ""
"""Listed on its own in the sidebar, with its badge."""


class ApprovalForm(StaffForm):
    note = TextAreaField(
        "Note",
        validators=[validators.Optional(), validators.Length(max=500)],
        description="Optional; kept on the request and in the audit trail.",
    )


class RejectionForm(StaffForm):
    note = TextAreaField(
        "Reason",
        validators=[validators.InputRequired(), validators.Length(min=5, max=500)],
        description="Shown to the staff member who asked.",
    )


def _pending(request: ApprovalRequest) -> bool:
    return request.status == ApprovalStatus.PENDING


async def _facts(
    _view: ApprovalRequestAdmin, db: AsyncSession, approval: ApprovalRequest
) -> list[tuple[str, str]]:
    """What the checker reads before deciding."""
    facts = [
        ("Change", approval.action_label),
        ("Record", approval.record_label),
        ("Effect", approval.preview),
        ("Why a second person", approval.rule),
        ("Asked by", await four_eyes.maker_email(db, approval)),
        ("Reason given", approval.reason),
    ]
    return [(label, value) for label, value in facts if value]


class ApprovalRequestAdmin(ReadOnlyView, model=ApprovalRequest):
    default_access = {
        "admin": ("*",),
        "operations": ("view", "action:withdraw"),
        "support": ("view", "action:withdraw"),
        "marketing": ("view", "action:withdraw"),
        "analyst": ("view",),
    }
    name = "Approval request"
    name_plural = "Approvals"
    icon = "fa-solid fa-user-check"
    can_export = False
    column_list = [
        ApprovalRequest.created_at,
        ApprovalRequest.action_label,
        ApprovalRequest.record_label,
        ApprovalRequest.rule,
        ApprovalRequest.maker,
        ApprovalRequest.status,
        ApprovalRequest.checker,
        ApprovalRequest.expires_at,
    ]
    column_details_list = [
        ApprovalRequest.action_label,
        ApprovalRequest.record_label,
        ApprovalRequest.preview,
        ApprovalRequest.rule,
        ApprovalRequest.reason,
        ApprovalRequest.maker,
        ApprovalRequest.created_at,
        ApprovalRequest.expires_at,
        ApprovalRequest.status,
        ApprovalRequest.checker,
        ApprovalRequest.decided_at,
        ApprovalRequest.decision_reason,
        ApprovalRequest.executed_at,
        ApprovalRequest.outcome,
    ]
    column_labels = {
        ApprovalRequest.action_label: "Change",
        ApprovalRequest.record_label: "Record",
        ApprovalRequest.preview: "Effect",
        ApprovalRequest.rule: "Why a second person",
        ApprovalRequest.reason: "Reason given",
        ApprovalRequest.maker: "Asked by",
        ApprovalRequest.checker: "Decided by",
        ApprovalRequest.decided_at: "Decided",
        ApprovalRequest.decision_reason: "Decision note",
        ApprovalRequest.executed_at: "Ran",
        ApprovalRequest.created_at: "Asked",
        ApprovalRequest.expires_at: "Expires",
    }
    column_searchable_list = [ApprovalRequest.record_label, ApprovalRequest.reason]
    column_sortable_list = [ApprovalRequest.created_at, ApprovalRequest.expires_at]
    column_filters = [
        ChoiceFilter(ApprovalRequest.status),
        DistinctValuesFilter(ApprovalRequest.table_name, "Table", label=humanize),
        DateRangeFilter(ApprovalRequest.created_at, "Asked"),
    ]
    detail_groups = {
        "The change": [
            ApprovalRequest.action_label,
            ApprovalRequest.record_label,
            ApprovalRequest.preview,
            ApprovalRequest.rule,
        ],
        "Asked": [
            ApprovalRequest.maker,
            ApprovalRequest.reason,
            ApprovalRequest.created_at,
            ApprovalRequest.expires_at,
        ],
        "Decision": [
            ApprovalRequest.status,
            ApprovalRequest.checker,
            ApprovalRequest.decided_at,
            ApprovalRequest.decision_reason,
            ApprovalRequest.executed_at,
            ApprovalRequest.outcome,
        ],
    }

    detail_panels = ["staff/panels/export_download.html"]

    def list_query(self, request: Request) -> sa.Select:
        return _visible(self, super().list_query(request), request)

    def details_query(self, request: Request) -> sa.Select:
        return _visible(self, super().details_query(request), request)

    async def get_detail_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop == "record_label" and request is not None:
            url = _record_link(self, request, obj)
            if url:
                return obj.record_label, Markup('<a href="{}">{}</a>').format(url, obj.record_label)
        return await super().get_detail_value(obj, prop, request)

    def menu_badge(self, request: Request) -> int:
        """Requests waiting for this staff member's approval."""
        staff = current_staff(request)
        return 0 if staff is None else four_eyes.waiting_for(staff)

    async def list(self, request: Request) -> Any:
        async with self.session_maker() as db, db.begin():
            await four_eyes.expire_overdue(db)
        return await super().list(request)

    def record_actions(self, request: Request, obj: Any) -> list[RecordAction]:
        """Approve and Reject for those who may decide this request; Withdraw for the one
        who asked it."""
        staff = current_staff(request)
        offered = super().record_actions(request, obj)
        if staff is None:
            return []
        deciding = four_eyes.may_approve(staff, obj)
        return [
            action
            for action in offered
            if (action.name == "withdraw" and obj.maker_id == staff.id)
            or (action.name in ("approve", "reject") and deciding)
        ]

    def refused_as(self, staff: Staff, spec: ActionSpec, rows: list[Any]) -> Refused:
        """Deciding a request one may not decide (one's own, say), or withdrawing someone
        else's, is a matter of who asks, not of the request's state."""
        approval = rows[0]
        deciding = spec.name in ("approve", "reject") and not four_eyes.may_approve(staff, approval)
        if deciding or (spec.name == "withdraw" and approval.maker_id != staff.id):
            return Refused.FORBIDDEN
        return super().refused_as(staff, spec, rows)

    def export_download_url(self, request: Request, approval: ApprovalRequest) -> str | None:
        """Where the staff member who asked an approved export downloads it; None for
        anyone else, and before approval or after the download."""
        staff = current_staff(request)
        ready = (
            approval.action == EXPORT
            and approval.status == ApprovalStatus.APPROVED
            and staff is not None
            and approval.maker_id == staff.id
        )
        if not ready:
            return None
        url = request.url_for(f"admin:view-{self.identity}-download", pk=str(approval.id))
        return str(url)

    @expose("/{pk}/download", methods=["POST"])
    async def download(self, request: Request) -> Response:
        """An approved export, streamed once to the staff member who asked for it, with
        the filters that were approved; audited with both staff members."""
        staff = current_staff(request)
        pk = request.path_params["pk"]
        async with self.session_maker(expire_on_commit=False) as db:
            stmt = sa.select(ApprovalRequest).where(self.row_condition(pk))
            approval = (await db.execute(stmt)).scalars().first()
        if approval is None or approval.action != EXPORT:
            raise HTTPException(404)
        if staff is None or approval.maker_id != staff.id:
            raise HTTPException(
                403, "Only the staff member who asked for this export can download it."
            )
        export_type = str(approval.params.get("format"))
        listed = listed_as(request, str(approval.params.get("query") or ""))
        try:
            target = _target(self, approval)
            if not allows(staff.permissions, approval.table_name, EXPORT):
                raise four_eyes.ApprovalRefusedError(
                    f"Your role may no longer export {target.name_plural.lower()}."
                )
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                handed = await _hand_over(db, approval.id, staff)
                checker = await db.scalar(
                    sa.select(AdminUser.email).where(AdminUser.id == handed.checker_id)
                )
                approved = four_eyes.actor_details(handed, staff.email) | {"approved_by": checker}
                await target.audit_export(db, listed, export_type, approved)
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title="Export: nothing was downloaded")
            return RedirectResponse(four_eyes.page_url(request, approval.id), status_code=303)
        return target.export_stream(listed, export_type)

    async def act(
        self,
        request: Request,
        staff: Staff,
        spec: ActionSpec,
        rows: list[Any],
        params: dict[str, Any],
        asked: dict[str, list[str]],
    ) -> Outcome:
        """A change refused by its own rules at the moment it is approved marks the request
        failed, with the reason, for both to read."""
        try:
            return await super().act(request, staff, spec, rows, params, asked)
        except four_eyes.ApprovalRefusedError:
            raise
        except ActionRefusedError as refused:
            if spec.name != "approve":
                raise
            async with self.session_maker() as db, db.begin():
                failed = await four_eyes.claim(
                    db, rows[0].id, staff, ApprovalStatus.FAILED, params.get("note") or None
                )
                failed.outcome = f"Could not run: {refused}"
                await self.audit(
                    db,
                    request,
                    "action:approve",
                    failed.id,
                    {"status": ApprovalStatus.PENDING},
                    {"status": ApprovalStatus.FAILED, "outcome": failed.outcome},
                )
            raise ActionRefusedError(
                f"Approved, but the change could not run: {refused} The request is marked failed."
            ) from None

    @row_action(
        "approve",
        "Approve",
        form=ApprovalForm,
        one_row=True,
        facts=_facts,
        when=_pending,
    )
    async def approve(
        self, db: AsyncSession, approval: ApprovalRequest, context: ActionContext
    ) -> dict[str, Any]:
        target = _target(self, approval)
        note = context.params.get("note") or None
        waits_for_maker = approval.action == "export"
        claimed = await four_eyes.claim(
            db,
            approval.id,
            context.staff,
            ApprovalStatus.APPROVED if waits_for_maker else ApprovalStatus.EXECUTED,
            note,
        )
        if waits_for_maker:
            claimed.outcome = "Approved: the export is ready for the staff member who asked."
            return {"outcome": claimed.outcome}
        approved = four_eyes.actor_details(claimed, await four_eyes.maker_email(db, claimed))
        if approval.action in ("edit", "create"):
            made = await target.apply_approved_edit(db, context.request, claimed, approved)
        else:
            made = await target.apply_approved(
                db, context.request, context.staff, claimed, approved
            )
        claimed.outcome = f"Done. Made {', '.join(made)}." if made else "Done."
        return {"outcome": claimed.outcome} | ({"transaction": made[0]} if made else {})

    @row_action(
        "reject",
        "Reject",
        form=RejectionForm,
        one_row=True,
        facts=_facts,
        when=_pending,
    )
    async def reject(
        self, db: AsyncSession, approval: ApprovalRequest, context: ActionContext
    ) -> None:
        await four_eyes.claim(
            db, approval.id, context.staff, ApprovalStatus.REJECTED, context.params["note"]
        )

    @row_action(
        "withdraw",
        "Withdraw",
        confirm="Withdraw {record}? Nothing will change.",
        one_row=True,
        when=_pending,
    )
    async def withdraw(
        self, db: AsyncSession, approval: ApprovalRequest, context: ActionContext
    ) -> None:
        await four_eyes.withdraw(db, approval.id, context.staff)


def _visible(view: StaffView, stmt: sa.Select, request: Request) -> sa.Select:
    """The requests staff asked, and those about tables they may view: what waits on a
    record is part of it (a support agent sees that a refund waits for approval), while a
    request about a table the role may not view never shows."""
    staff = current_staff(request)
    if staff is None:
        return stmt.where(sa.false())
    tables = [
        screen.resource()
        for screen in door.admin_of(view).views
        if isinstance(screen, StaffView) and allows(staff.permissions, screen.resource(), "view")
    ]
    return stmt.where(
        sa.or_(ApprovalRequest.maker_id == staff.id, ApprovalRequest.table_name.in_(tables))
    )


def _record_link(view: StaffView, request: Request, approval: ApprovalRequest) -> str:
    """The changed record's page, for one record the staff member may open; else ""."""
    if len(approval.record_ids) != 1 or not may_view(request, approval.table_name):
        return ""
    pk = approval.record_ids[0]
    page = door.admin_of(view).record_pages.get(approval.table_name)
    if page:
        return str(request.url_for(page, pk=pk))
    identity = approval.table_name.replace("_", "-")
    return str(request.url_for("admin:details", identity=identity, pk=pk))


def _target(view: StaffView, approval: ApprovalRequest) -> StaffView:
    for candidate in door.admin_of(view).views:
        if isinstance(candidate, StaffView) and candidate.resource() == approval.table_name:
            return candidate
    raise ActionRefusedError(f"There is no screen for {approval.table_name} any more.")


async def _hand_over(db: AsyncSession, approval_id: Any, maker: Staff) -> ApprovalRequest:
    """Approved -> executed for the export's maker, in the caller's transaction, as
    `four_eyes.claim` moves pending requests: of two downloads at once one wins, and the
    other, like any later one, finds it no longer approved."""
    handed = await four_eyes.moved(
        db,
        approval_id,
        ApprovalStatus.APPROVED,
        ApprovalRequest.maker_id == maker.id,
        status=ApprovalStatus.EXECUTED,
        executed_at=utcnow(),
        outcome="Downloaded by the staff member who asked.",
    )
    approval = await db.get(ApprovalRequest, approval_id, populate_existing=True)
    if approval is None:
        raise four_eyes.ApprovalRefusedError("There is no such approval request.")
    if not handed:
        if approval.status == ApprovalStatus.EXECUTED:
            raise four_eyes.ApprovalRefusedError(
                "This export was downloaded already: it downloads once. Ask again for a new one."
            )
        raise four_eyes.ApprovalRefusedError(
            f"This export is {approval.status}, not approved: there is nothing to download."
        )
    return approval
