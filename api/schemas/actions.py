"""A row action run through the staff API: the rows, the action's form, and its outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.bodies import text
from api.schemas import Closed
from api.schemas.approvals import ApprovalBody

MOST_ROWS = 1_000
Value = text(1_000) | int | float | bool


class ActionPath(BaseModel):
    table: str = Field(
        max_length=64,
        pattern="^[a-z][a-z_]*$",
        description="The table, by its name: users, wallets, wallet_transactions, …",
    )
    action: str = Field(
        max_length=64,
        pattern="^[a-z][a-z-]*$",
        description="The action, as the permission `<table>:action:<action>` names it.",
    )


class ActionRequest(BaseModel):
    ids: list[text(64)] = Field(
        min_length=1, max_length=MOST_ROWS, description="The rows to act on, by id."
    )
    params: dict[text(64), Value | list[Value] | None] = Field(
        default_factory=dict,
        description="The action's form, field by field, as its page asks it (e.g. direction, "
        "amount and reason for adjust): each value is read as the form's text would be.",
    )
    idempotency_key: str | None = Field(
        None,
        pattern="^[0-9a-f]{32}$",
        description="For actions that move money: send the same key again to retry, and the "
        "money moves once. A fresh one is used when left out.",
    )


class ActionDone(Closed):
    done: Literal[True]
    made: list[str] = Field(
        description="References of money the action moved (e.g. ADJ-…), in order."
    )


class ActionAsked(Closed):
    approval_request: ApprovalBody = Field(
        description="The request made instead: nothing changes until another staff member "
        "approves it."
    )
