"""Approval requests (four eyes) as the staff API shows them, and the bodies that decide them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.bodies import text
from api.schemas import Closed, one_of
from models.approvals import ApprovalStatus

Status = one_of(ApprovalStatus)


class ApprovalBody(Closed):
    id: uuid.UUID
    status: Status = Field(  # type: ignore[valid-type]
        description="pending until decided; approved (an export waiting for its download), "
        "executed, failed, rejected, expired or withdrawn after."
    )
    table: str = Field(description="The table the change is on.")
    action: str = Field(description="The change: a row action's name, edit, create or export.")
    action_label: str = Field(description="The change as staff read it, e.g. Adjust balance.")
    record_label: str = Field(description="The rows it changes, by their labels.")
    rule: str = Field(description="Why a second person is needed.")
    preview: str = Field(description="Its effect in words; empty when the rule says it all.")
    reason: str = Field(description="Why the staff member who asked wants it.")
    maker: str = Field(description="The email of the staff member who asked.")
    checker: str | None = Field(description="The email of the staff member who decided.")
    created_at: datetime
    expires_at: datetime = Field(description="A pending request expires then.")
    decided_at: datetime | None
    decision_reason: str | None = Field(description="The note given with the decision.")
    executed_at: datetime | None
    outcome: str | None = Field(description="What running it did, or why it could not run.")
    url: str = Field(description="The request's page in the admin.")


class ApprovalList(Closed):
    approval_requests: list[ApprovalBody] = Field(description="Newest first.")


class Decided(Closed):
    approval_request: ApprovalBody = Field(description="The request as it stands now.")
    made: list[str] = Field(
        description="References of money an approved change moved (e.g. ADJ-…), in order."
    )


class ApprovalsQuery(BaseModel):
    status: Status | None = Field(  # type: ignore[valid-type]
        None, description="Only requests in this state; all of them when left out."
    )
    limit: int = Field(50, ge=1, le=200, description="At most this many, newest first.")


class ApprovalPath(BaseModel):
    id: uuid.UUID = Field(description="The approval request's id.")


class Approval(BaseModel):
    note: text(500) | None = Field(
        None, description="Optional; kept on the request and in the audit trail."
    )


class Rejection(BaseModel):
    note: text(500) = Field(description="Why, for the staff member who asked: 5 to 500 characters.")
