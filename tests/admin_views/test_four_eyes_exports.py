"""Four eyes on big exports of personal data: more than 10,000 rows ask a second person.

The list's Export link answers such an export with a page asking the reason, whose form
makes an approval request instead of streaming; once another staff member approves it, the
one who asked downloads it once from the request's page, with the filters that were
approved. A second download, and anyone else's, are refused. Smaller exports, and exports
of tables without personal data, stream at once as before. Every step follows the links and
forms as the pages render them.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views.parts.exporting import EXPORT_APPROVAL_ROWS
from models import AuditLog, Base
from models.approvals import ApprovalRequest
from tests import rows, staff
from tests.admin_views.screens import field_error
from tests.admin_views.test_record_actions import offered, parse

REASON = "Quarterly KYC review for the regulator"


@pytest.fixture
async def maker(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    """The staff member who exports: a signed-in superadmin over an empty database."""
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def checker(app: Starlette, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """Another superadmin, signed in on a client of their own."""
    account = await staff.make_staff(db, "superadmin")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield await staff.signed_in(other, account)


async def customers(db: AsyncSession, count: int, **state: Any) -> None:
    """`count` customers in one bulk insert."""
    users = Base.metadata.tables["users"]
    await db.execute(sa.insert(users), [rows.user_row(**state) for _ in range(count)])
    await db.commit()


async def export_link(client: httpx.AsyncClient, slug: str, kind: str, **filters: str) -> str:
    """The list's Export link for `kind`, as the list renders it with these filters."""
    page = await client.get(f"/admin/{slug}/list", params=filters)
    assert page.status_code == 200, page.text[:300]
    return next(
        link.href for link in parse(page.text).links if link.attrs.get("data-export") == kind
    )


def reason_form(page: str) -> dict[str, Any]:
    return next(form for form in parse(page).forms if "reason" in form["textareas"])


def exported_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def requests_made(db: AsyncSession) -> list[ApprovalRequest]:
    await db.commit()
    return list(await db.scalars(sa.select(ApprovalRequest)))


async def exports_audited(db: AsyncSession) -> list[AuditLog]:
    await db.commit()
    return list(
        await db.scalars(
            sa.select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.sequence)
        )
    )


async def download_form(client: httpx.AsyncClient, page_url: str) -> dict[str, Any] | None:
    page = await client.get(page_url)
    assert page.status_code == 200, page.text[:300]
    return next((f for f in parse(page.text).forms if f["action"].endswith("/download")), None)


async def approve(client: httpx.AsyncClient, page_url: str) -> httpx.Response:
    """Follow the request page's Approve button and submit its form."""
    button = offered((await client.get(page_url)).text)["Approve"]
    opened = await client.get(button.href)
    form = next(f for f in parse(opened.text).forms if "/action/" in f["action"])
    return await client.post(form["action"], data=form["fields"] | {"note": "Regulator asked"})


async def test_small_exports_and_tables_without_personal_data_stream_at_once(
    client: httpx.AsyncClient, db: AsyncSession, maker: staff.Account
) -> None:
    await customers(db, 3)
    merchants = Base.metadata.tables["merchants"]
    await db.execute(
        sa.insert(merchants), [rows.merchant_row() for _ in range(EXPORT_APPROVAL_ROWS + 1)]
    )
    await db.commit()

    small = await client.get(await export_link(client, "users", "csv"))
    not_personal = await client.get(await export_link(client, "merchants", "json"))

    assert small.status_code == 200
    assert small.headers["content-type"].startswith("text/csv")
    assert len(exported_rows(small.text)) == 3
    assert not_personal.status_code == 200
    assert not_personal.headers["content-type"] == "application/json"
    assert len(not_personal.json()) == EXPORT_APPROVAL_ROWS + 1
    assert await requests_made(db) == []
    assert len(await exports_audited(db)) == 2


async def test_ten_thousand_customers_stream_and_one_more_asks_a_reason_first(
    client: httpx.AsyncClient, db: AsyncSession, maker: staff.Account
) -> None:
    await customers(db, EXPORT_APPROVAL_ROWS)
    await customers(db, 1, status="suspended")

    at_the_limit = await client.get(await export_link(client, "users", "csv", status="active"))
    over = await client.get(await export_link(client, "users", "csv"))

    assert at_the_limit.status_code == 200
    assert len(exported_rows(at_the_limit.text)) == EXPORT_APPROVAL_ROWS
    assert over.status_code == 200
    assert over.headers["content-type"].startswith("text/html")
    assert "more than 10,000 rows of personal data needs a second person" in over.text
    assert "10,001 rows of customers with no filters." in over.text
    assert reason_form(over.text)["fields"]["csrf_token"]
    assert await requests_made(db) == []
    assert len(await exports_audited(db)) == 1, "only the export that streamed"


async def test_a_big_export_is_approved_then_downloaded_once_by_the_maker(
    client: httpx.AsyncClient, db: AsyncSession, maker: staff.Account, checker: httpx.AsyncClient
) -> None:
    await customers(db, EXPORT_APPROVAL_ROWS + 1)
    await customers(db, 5, status="suspended")
    link = await export_link(client, "users", "csv", status="active")
    reason_page = await client.get(link)
    form = reason_form(reason_page.text)

    no_reason = await client.post(form["action"], data=form["fields"] | {"reason": ""})
    nothing_yet = await requests_made(db)
    asked = await client.post(form["action"], data=form["fields"] | {"reason": REASON})
    page_url = asked.headers["location"]
    pending_page = await client.get(page_url)
    before_approval = await download_form(client, page_url)
    approved = await approve(checker, page_url)
    checker_sees = await download_form(checker, page_url)
    download = await download_form(client, page_url)
    assert download is not None, "the maker is offered the download once approved"
    by_checker = await checker.post(
        download["action"], data={"csrf_token": await staff.csrf_token(checker)}
    )
    first = await client.post(download["action"], data=download["fields"])
    second = await client.post(download["action"], data=download["fields"])
    second_page = await client.get(second.headers["location"])

    assert field_error(no_reason.text, "This field is required.")
    assert no_reason.status_code == 400
    assert nothing_yet == []
    assert asked.status_code == 303
    assert "/admin/approval-requests/details/" in page_url
    assert "Export: sent for approval" in pending_page.text
    assert before_approval is None
    assert approved.status_code == 303
    assert checker_sees is None
    assert by_checker.status_code == 403
    assert "Only the staff member who asked for this export" in by_checker.text
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/csv")
    exported = exported_rows(first.text)
    assert len(exported) == EXPORT_APPROVAL_ROWS + 1
    assert {row["Status"] for row in exported} == {"active"}, "the approved filters"
    assert second.status_code == 303
    assert "downloaded already: it downloads once" in second_page.text
    [request] = await requests_made(db)
    assert (request.action, request.status, request.maker_id) == ("export", "executed", maker.id)
    assert request.params == {"format": "csv", "query": "status=active"}
    assert (request.record_ids, request.record_label) == ([], "Customers: 10,001 rows")
    assert request.preview == "10,001 rows of customers with these filters: Status active"
    assert request.reason == REASON
    [entry] = await exports_audited(db)
    assert entry.actor_id == maker.id
    assert entry.after["query"] == {"status": "active"}
    assert entry.after["approval_request"] == str(request.id)
    assert entry.after["requested_by"] == maker.email != entry.after["approved_by"]


async def test_an_export_request_is_refused_to_a_role_that_may_not_export(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    viewer = await rows.insert(db, "roles", rows.role_row(permissions=["users:view"]))
    await db.commit()
    account = await staff.make_staff(db, viewer["name"])
    await staff.signed_in(client, account)
    await customers(db, EXPORT_APPROVAL_ROWS + 1)

    opened = await client.get("/admin/users/export/csv")
    posted = await client.post(
        "/admin/users/export/csv",
        data={"csrf_token": await staff.csrf_token(client), "reason": REASON},
    )
    forged = await client.post(
        f"/admin/approval-requests/{uuid.uuid4()}/download",
        data={"csrf_token": await staff.csrf_token(client)},
    )

    assert opened.status_code == 403
    assert posted.status_code == 403
    assert forged.status_code == 403, "approval requests are not open to this role at all"
    assert await requests_made(db) == []
    assert await exports_audited(db) == []
