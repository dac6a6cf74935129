"""Driving the staff screens from tests: list rows, forms, actions, as a browser would."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditLog

ROW_ID = re.compile(r'<input type="hidden" value="([0-9a-f-]{36})">')
TOTAL = re.compile(r"of ([\d,]+) items")
"""A list's total as its footer says it: 2,544 past a thousand."""
BIG_TABLES = frozenset(
    {
        "users",
        "wallets",
        "wallet_transactions",
        "payment_methods",
        "merchants",
        "support_tickets",
        "ticket_messages",
        "ai_campaigns",
    }
)
"""Tables that grow with the business: no form lists their rows, every filter has an index."""


async def listing(client: httpx.AsyncClient, slug: str, **params: str) -> tuple[int, list[str]]:
    """(total rows, ids on the first page of 100) of a list page with these parameters."""
    response = await client.get(f"/admin/{slug}/list", params={"pageSize": "100", **params})
    assert response.status_code == 200, response.text[:500]
    total = TOTAL.search(response.text)
    return (int(total[1].replace(",", "")) if total else 0), ROW_ID.findall(response.text)


async def token(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/account")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found
    return found[1]


async def act(
    client: httpx.AsyncClient, slug: str, name: str, pks: list[Any], **params: str
) -> httpx.Response:
    data = {"pks": ",".join(str(pk) for pk in pks), "csrf_token": await token(client)}
    if params:
        data |= {"action_form": "1", **params}
    return await client.post(f"/admin/{slug}/action/{name}", data=data)


async def save(
    client: httpx.AsyncClient, slug: str, form: dict[str, Any], pk: Any | None = None
) -> httpx.Response:
    url = f"/admin/{slug}/edit/{pk}" if pk else f"/admin/{slug}/create"
    return await client.post(url, data={**form, "csrf_token": await token(client)})


def field_error(page: str, message: str) -> bool:
    """Whether `message` is shown under a field, as the form macro renders errors."""
    return f'<div class="invalid-feedback">{escape(message)}</div>' in page


async def count(db: AsyncSession, model: type[Any], *where: Any) -> int:
    await db.commit()  # end the snapshot without expiring loaded rows
    return int(await db.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


async def audit_for(db: AsyncSession, action: str, entity_id: Any) -> list[AuditLog]:
    await db.commit()  # end the snapshot without expiring loaded rows
    return list(
        await db.scalars(
            sa.select(AuditLog)
            .where(AuditLog.action == action, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.sequence)
        )
    )


def dashed(value: Any) -> str:
    return str(uuid.UUID(str(value)))
