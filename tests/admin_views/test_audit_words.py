"""The audit trail in words: each entry a sentence naming its record, the actor and the
record linked only for staff who may open them, changes as a table, raw columns exported."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.shared.audit_words import Phrase, action_label, action_phrase
from core.settings import Settings
from models import AIModel, AuditLog
from models.base import utcnow
from tests import rows, staff
from tests.admin_views.anchors import anchors
from tests.admin_views.screens import act, token
from tests.admin_views.test_money_actions import submitted
from tests.clients import client_for
from tests.ledger.conftest import make_ledger

SENTENCE = re.compile(r'<span class="staff-audit-sentence">(.*?)</span>', re.DOTALL)
MODEL_FORM = {
    "name": "copy-writer",
    "provider": "anthropic",
    "version": "2026-11",
    "purpose": "copywriting",
    "status": "testing",
    "config": "{}",
    "metrics": "{}",
}


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def sentences(page: str) -> list[str]:
    return [" ".join(text_of(found).split()) for found in SENTENCE.findall(page)]


def link(slug: str, pk: object, label: str) -> str:
    return f'<a href="http://testserver/admin/{slug}/details/{pk}">{html.escape(label)}</a>'


@dataclass
class Trail:
    boss: staff.Account
    flag_id: uuid.UUID
    wallet_id: uuid.UUID
    deleted_id: uuid.UUID
    agent: staff.Account


@pytest.fixture
async def trail(client: httpx.AsyncClient, db: AsyncSession) -> Trail:
    """A superadmin's session that signs in, flips a flag, moves money, creates, edits and
    deletes a model, exports merchants and acts on a colleague's account."""
    boss = await staff.make_staff(db, "superadmin", full_name="Bea Boss")
    agent = await staff.make_staff(
        db, "support", full_name="Sam Staff", locked_until=utcnow(), lockout_count=3
    )
    flag = await rows.insert(db, "feature_flags", rows.flag_row(key="p2p-transfers"))
    retired = await rows.insert(db, "ai_models", rows.ai_model_row(name="old-model"))
    await db.commit()
    ledger = await make_ledger(db)
    await staff.signed_in(client, boss)
    csrf = {"csrf_token": await token(client)}

    assert (await act(client, "feature-flags", "disable", [flag["id"]])).status_code == 303
    adjusted = await submitted(
        client,
        "wallets",
        "adjust",
        ledger.wallet_id,
        direction="credit",
        amount="12.50",
        reason="Goodwill for outage",
    )
    assert adjusted.status_code == 303
    assert (await client.post("/admin/ai-models/create", data=MODEL_FORM | csrf)).status_code == 302
    model_id = await db.scalar(sa.select(AIModel.id).where(AIModel.name == "copy-writer"))
    edited = await client.post(
        f"/admin/ai-models/edit/{model_id}", data=MODEL_FORM | csrf | {"status": "active"}
    )
    assert edited.status_code == 302
    assert (await client.get("/admin/ai-models/export/csv")).status_code == 200
    assert (await act(client, "admin-users", "sign-out-everywhere", [agent.id])).status_code == 303
    assert (await act(client, "admin-users", "reset-lockout", [agent.id])).status_code == 303
    deleted = await client.request(
        "DELETE",
        f"/admin/ai-models/delete?pks={retired['id']}",
        headers={"X-CSRF-Token": csrf["csrf_token"]},
    )
    assert deleted.status_code == 200
    return Trail(boss, flag["id"], ledger.wallet_id, retired["id"], agent)


async def test_each_entry_reads_as_a_sentence(client: httpx.AsyncClient, trail: Trail) -> None:
    page = await client.get("/admin/audit-logs/list", params={"pageSize": "100"})

    assert page.status_code == 200
    assert sentences(page.text)[::-1] == [
        "Signed in",
        "Disabled feature flag p2p-transfers",
        "Adjusted balance of USD wallet of Ada Lovelace by +12.50 USD",
        "Created AI model copy-writer 2026-11",
        "Updated AI model copy-writer 2026-11",
        "Exported AI models as CSV",
        "Signed staff account Sam Staff out everywhere",
        "Reset lockout of staff account Sam Staff",
        f"Deleted AI model {trail.deleted_id}",
    ]
    table = page.text[page.text.index("<tbody>") : page.text.index("</tbody>")]
    assert "action:" not in table
    assert "feature_flags" not in table


async def test_the_actor_and_the_record_link_to_their_pages(
    client: httpx.AsyncClient, trail: Trail
) -> None:
    page = (await client.get("/admin/audit-logs/list", params={"pageSize": "100"})).text

    assert link("feature-flags", trail.flag_id, "p2p-transfers") in page
    assert link("wallets", trail.wallet_id, "USD wallet of Ada Lovelace") in page
    assert link("admin-users", trail.agent.id, "Sam Staff") in page
    assert page.count(link("admin-users", trail.boss.id, "Bea Boss")) == 9


async def test_links_only_to_what_the_reader_may_open(
    db: AsyncSession, settings: Settings, trail: Trail
) -> None:
    await rows.insert(
        db,
        "roles",
        rows.role_row(name="auditor", permissions=["audit_logs:view", "feature_flags:view"]),
    )
    await db.commit()
    auditor = await staff.make_staff(db, "auditor")
    async with client_for(settings) as reader:
        await staff.signed_in(reader, auditor)
        page = (await reader.get("/admin/audit-logs/list", params={"pageSize": "100"})).text

    assert link("feature-flags", trail.flag_id, "p2p-transfers") in page
    assert "Adjusted balance of USD wallet of Ada Lovelace by +12.50 USD" in sentences(page)
    assert "/admin/wallets/details/" not in page
    assert "/admin/admin-users/details/" not in page
    assert "Bea Boss" in page


async def test_an_entry_page_titles_the_change_and_tables_the_fields(
    client: httpx.AsyncClient, db: AsyncSession, trail: Trail
) -> None:
    update = await db.scalar(
        sa.select(AuditLog).where(AuditLog.action == "update", AuditLog.entity_type == "ai_models")
    )

    page = (await client.get(f"/admin/audit-logs/details/{update.id}")).text

    title = re.search(r'<h2 class="page-title" id="audit-sentence">(.*?)</h2>', page, re.DOTALL)
    assert title
    assert " ".join(text_of(title[1]).split()) == "Updated AI model copy-writer 2026-11"
    changes = re.search(r'<div class="card mb-3" id="audit-changes">(.*?)</table>', page, re.DOTALL)
    assert changes
    cells = [
        " ".join(text_of(cell).split())
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", changes[1], re.DOTALL)
    ]
    assert cells[4:] == ["Status", "testing", "→", "active"]
    assert "{&#34;status&#34;" not in page
    assert '{"status"' not in page


async def test_the_export_keeps_the_raw_columns(client: httpx.AsyncClient, trail: Trail) -> None:
    exported = await client.get("/admin/audit-logs/export/csv")

    assert exported.status_code == 200
    entries = list(csv.DictReader(io.StringIO(exported.text)))
    disable = next(e for e in entries if e["Action"] == "action:disable")
    assert (disable["Table"], disable["Row"]) == ("feature_flags", str(trail.flag_id))
    assert disable["Actor"] == trail.boss.email
    assert '"enabled": false' in disable["After"]


@pytest.mark.parametrize(
    ("label", "phrase"),
    [
        ("Adjust balance", Phrase("Adjusted balance of")),
        ("Disable (kill switch)", Phrase("Disabled")),
        ("Freeze", Phrase("Froze")),
        ("Reset lockout", Phrase("Reset lockout of")),
        ("Sign out everywhere", Phrase("Signed", after=" out everywhere")),
        ("Assign to me", Phrase("Assigned", after=" to themselves")),
        ("Assign to…", Phrase("Assigned")),
        ("Set status…", Phrase("Set status of")),
        ("Reply", Phrase("Replied")),
        ("Stop", Phrase("Stopped")),
        ("Open", Phrase("Opened")),
    ],
)
def test_an_action_label_reads_in_the_past_tense(label: str, phrase: Phrase) -> None:
    assert action_phrase(label) == phrase


async def test_the_action_filter_names_actions_in_words_and_narrows_the_list(
    client: httpx.AsyncClient, trail: Trail
) -> None:
    page = (await client.get("/admin/audit-logs/list")).text
    offered = {anchor.text.strip(): anchor.href for anchor in anchors(page) if anchor.href}

    assert {"Adjust", "Disable", "Created", "Signed in", "Exported"} <= offered.keys()
    assert not [text for text in offered if text.startswith("action:")]
    narrowed = (await client.get(html.unescape(offered["Adjust"]))).text
    assert sentences(narrowed) == ["Adjusted balance of USD wallet of Ada Lovelace by +12.50 USD"]


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("action:adjust_balance", "Adjust balance"),
        ("create", "Created"),
        ("schedule", "Updated on schedule"),
        ("login.success", "Signed in"),
        ("password.change", "Changed the password"),
        ("two_factor.enable", "Turned on two-factor sign-in"),
        ("flags.create_key", "Created a flag client key"),
        ("something.new", "Something new"),
    ],
)
def test_each_stored_action_has_a_label(action: str, label: str) -> None:
    assert action_label(action) == label


async def test_a_staff_accounts_recent_entries_read_in_words(
    client: httpx.AsyncClient, trail: Trail
) -> None:
    page = (await client.get(f"/admin/admin-users/details/{trail.boss.id}")).text
    panel = page[page.index('data-related="Recent audit entries"') :]
    panel = panel[: panel.index("</table>")]

    assert "Adjust" in panel
    assert "Feature flags" in panel
    assert "action:" not in panel
    assert "feature_flags" not in panel
