"""One search box for everything, through its doors: the JSON API (session or bearer) and the
full results page, on both databases.

Every searched table holds a row with the word "Quuxling", so a role's answer must name
exactly the tables that role's list pages open, checked for each of the seven roles.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from admin_views.shared import find_anything
from api.schemas.search import SearchAnswer
from app import create_app
from core.database import Database
from core.settings import Settings
from tests import rows, staff
from tests.admin_views.screens import ROW_ID
from tests.databases import reset_database

SEARCH = "/api/v1/admin/search"
PAGE = "/admin/search"
WORD = "Quuxling"
ROLES = ("superadmin", "admin", "operations", "support", "marketing", "analyst", "viewer")
ANN = rows.named_id("ann")
WALLET = rows.named_id("wallet")
CARD = rows.named_id("card")
TICKET = rows.named_id("ticket")
TXN = rows.named_id("txn")
MERCHANT = rows.named_id("merchant")
FLAG = rows.named_id("flag")
CAMPAIGN = rows.named_id("campaign")
STAFFER = rows.named_id("staffer")
RANKED = {rank: rows.named_id(f"ranked-{rank}") for rank in ("exact", "prefix", "substring")}
CAPPED = [rows.named_id(f"capped-{n}") for n in range(find_anything.CAP + 2)]
SLUG = {table: table.replace("_", "-") for table in find_anything.GROUPS}


@pytest.fixture(scope="module")
async def world(
    database: Database, migration_data: dict[str, list[dict[str, Any]]]
) -> AsyncIterator[Database]:
    """One row named "Quuxling" in each searched table, and rows to rank and to cap."""
    await reset_database(database, migration_data)
    async with database.session() as db, db.begin():
        await rows.insert(
            db,
            "users",
            rows.user_row(
                id=ANN, email="ann.quux@example.com", phone="+15550102030", last_name=WORD
            ),
        )
        await rows.insert(db, "wallets", rows.wallet_row(ANN, id=WALLET))
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(
                WALLET, id=TXN, reference="TXN-20261128-QUUX1234", description=f"{WORD} refund"
            ),
        )
        await rows.insert(
            db,
            "payment_methods",
            rows.payment_method_row(ANN, id=CARD, last_four="7391", holder_name=f"Ann {WORD}"),
        )
        await rows.insert(
            db,
            "support_tickets",
            rows.ticket_row(ANN, id=TICKET, reference="TCK-QUUX5678", subject=f"{WORD} card"),
        )
        await rows.insert(db, "merchants", rows.merchant_row(id=MERCHANT, name=f"{WORD} Coffee"))
        await rows.insert(
            db, "feature_flags", rows.flag_row(id=FLAG, key="quuxling-beta", name=f"{WORD} beta")
        )
        await rows.insert(db, "ai_campaigns", rows.campaign_row(id=CAMPAIGN, name=f"{WORD} winter"))
        await rows.insert(
            db,
            "admin_users",
            await rows.admin_row(db, id=STAFFER, full_name=f"{WORD} Staffer"),
        )
        # The newest row matches least well: closeness, not the list's date order, ranks.
        for age, (closeness, pk) in enumerate(RANKED.items()):
            last_name = {"exact": "Rankle", "prefix": "Ranklesworth", "substring": "McRankle"}
            await rows.insert(
                db,
                "users",
                rows.user_row(
                    id=pk,
                    last_name=last_name[closeness],
                    created_at=rows.NOW - timedelta(days=3 - age),
                ),
            )
        for pk in CAPPED:
            await rows.insert(db, "users", rows.user_row(id=pk, first_name="Cappy"))
    yield database
    await reset_database(database, migration_data)


@pytest.fixture(scope="module")
async def app_for_module(settings: Settings, world: Database) -> AsyncIterator[Any]:
    app = create_app(settings)
    yield app
    await app.state.database.dispose()


async def client_as(app: Any, database: Database, role: str) -> httpx.AsyncClient:
    async with database.session() as db:
        account = await staff.make_staff(db, role)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await staff.signed_in(client, account)
    return client


@pytest.fixture(scope="module")
async def boss(app_for_module: Any, world: Database) -> AsyncIterator[httpx.AsyncClient]:
    client = await client_as(app_for_module, world, "superadmin")
    yield client
    await client.aclose()


async def findings(client: httpx.AsyncClient, term: str, **headers: str) -> dict[str, Any]:
    response = await client.get(SEARCH, params={"q": term}, headers=headers)
    assert response.status_code == 200, response.text
    SearchAnswer.model_validate(response.json())  # the answer is as documented
    return response.json()


def group(answer: dict[str, Any], table: str) -> dict[str, Any]:
    found = [g for g in answer["groups"] if g["table"] == table]
    assert found, f"no {table} group in {[g['table'] for g in answer['groups']]}"
    return found[0]


def hit_ids(found: dict[str, Any]) -> list[str]:
    return [hit["url"].rsplit("/", 1)[-1] for hit in found["hits"]]


@pytest.mark.parametrize(
    ("term", "kind", "table", "pk"),
    [
        ("ann.quux@example.com", "email", "users", ANN),
        ("ANN.QUUX@example.com", "email", "users", ANN),
        ("+1 (555) 010-2030", "phone", "users", ANN),
        (str(WALLET), "uuid", "wallets", WALLET),
        (str(ANN).replace("-", ""), "uuid", "users", ANN),
        ("TXN-20261128-QUUX1234", "reference", "wallet_transactions", TXN),
        ("tck-quux5678", "reference", "support_tickets", TICKET),
        ("7391", "last_four", "payment_methods", CARD),
        ("quuxling coff", "text", "merchants", MERCHANT),
        ("Quuxling wint", "text", "ai_campaigns", CAMPAIGN),
        ("quuxling-beta", "text", "feature_flags", FLAG),
        ("Quuxling Staffer", "text", "admin_users", STAFFER),
    ],
)
async def test_each_kind_finds_its_record(
    boss: httpx.AsyncClient, term: str, kind: str, table: str, pk: uuid.UUID
) -> None:
    answer = await findings(boss, term)
    assert answer["kind"] == kind
    found = group(answer, table)
    assert hit_ids(found) == [str(pk)]
    record = await boss.get(found["hits"][0]["url"])
    assert record.status_code == 200
    # The record's own page (the customer page for a customer) names it.
    assert html.escape(found["hits"][0]["label"].split(" · ")[0]) in record.text


async def test_an_email_finds_the_customer_and_what_is_theirs_only(
    boss: httpx.AsyncClient,
) -> None:
    answer = await findings(boss, "ann.quux@example.com")
    # Looked for where tables declare emails (the customer's own and through their user),
    # never as a substring of a flag's or a campaign's text.
    assert {g["table"]: hit_ids(g) for g in answer["groups"]} == {
        "users": [str(ANN)],
        "wallets": [str(WALLET)],
        "support_tickets": [str(TICKET)],
        "payment_methods": [str(CARD)],
    }


async def test_four_digits_are_a_cards_last_four_only(boss: httpx.AsyncClient) -> None:
    # The transaction's reference holds 1234, yet four digits name a card, not a substring.
    answer = await findings(boss, "1234")
    assert answer["kind"] == "last_four"
    assert answer["groups"] == []
    answer = await findings(boss, "7391")
    assert {g["table"]: hit_ids(g) for g in answer["groups"]} == {"payment_methods": [str(CARD)]}
    assert group(answer, "payment_methods")["hits"][0]["label"] == "Visa •••• 7391"


async def test_free_text_reaches_rows_through_their_customer(boss: httpx.AsyncClient) -> None:
    # Part of an email is text: the card, the wallet and the ticket are found through
    # their customer's email, as their lists' own searches find them.
    answer = await findings(boss, "ann.quux@exam")
    assert answer["kind"] == "text"
    for table, pk in (("payment_methods", CARD), ("wallets", WALLET), ("support_tickets", TICKET)):
        assert hit_ids(group(answer, table)) == [str(pk)]
        listed = await boss.get(group(answer, table)["see_all"])
        assert set(ROW_ID.findall(listed.text)) == {str(pk)}


async def test_a_hit_carries_its_label_and_status_badge(boss: httpx.AsyncClient) -> None:
    answer = await findings(boss, "ann.quux@example.com")
    customer = group(answer, "users")["hits"][0]
    assert customer["label"] == f"Ada {WORD} · ann.quux@example.com"
    assert (customer["badge"], customer["colour"]) == ("active", "green")
    wallet = group(await findings(boss, str(WALLET)), "wallets")["hits"][0]
    assert wallet["label"] == f"USD wallet of Ada {WORD}"  # the label's user loaded eagerly
    flag = group(await findings(boss, "quuxling-beta"), "feature_flags")["hits"][0]
    assert flag["badge"] == "on"


async def test_groups_come_in_order_capped_best_match_first(boss: httpx.AsyncClient) -> None:
    answer = await findings(boss, WORD)
    order = list(find_anything.GROUPS)
    tables = [g["table"] for g in answer["groups"]]
    assert tables == sorted(tables, key=order.index)
    assert set(tables) == set(find_anything.GROUPS)

    capped = group(await findings(boss, "Cappy"), "users")
    assert len(capped["hits"]) == find_anything.CAP
    assert capped["more"] is True
    assert set(hit_ids(capped)) <= {str(pk) for pk in CAPPED}

    ranked = group(await findings(boss, "rankle"), "users")
    assert hit_ids(ranked) == [str(RANKED[c]) for c in ("exact", "prefix", "substring")]
    assert ranked["more"] is False


async def test_see_all_opens_the_list_filtered(boss: httpx.AsyncClient) -> None:
    page = await boss.get(PAGE, params={"q": "Cappy"})
    assert page.status_code == 200
    links = re.findall(
        r'data-table="([a-z_]+)".*?class="find-see-all" href="([^"]+)"|'
        r'data-table="([a-z_]+)".*?href="([^"]+)" class="find-see-all"',
        page.text,
        re.S,
    )
    see_all = {m[0] or m[2]: html.unescape(m[1] or m[3]) for m in links}
    assert "users" in see_all, page.text[:2000]
    listed = await boss.get(see_all["users"])
    assert listed.status_code == 200
    assert set(ROW_ID.findall(listed.text)) == {str(pk) for pk in CAPPED}


async def test_the_full_page_lists_hits_with_links(boss: httpx.AsyncClient) -> None:
    page = await boss.get(PAGE, params={"q": "TCK-QUUX5678"})
    assert page.status_code == 200
    assert f"/admin/support-tickets/details/{TICKET}" in page.text
    assert f"TCK-QUUX5678 · {WORD} card" in html.unescape(page.text)


@pytest.mark.parametrize("role", ROLES)
async def test_a_role_sees_only_the_tables_it_may_view(
    app_for_module: Any, world: Database, role: str
) -> None:
    client = await client_as(app_for_module, world, role)
    try:
        # Independently of the search: which lists does this role's session open?
        opens = {
            table
            for table, slug in SLUG.items()
            if (await client.get(f"/admin/{slug}/list")).status_code == 200
        }
        answer = await client.get(SEARCH, params={"q": WORD})
        assert answer.status_code == 200
        assert {g["table"] for g in answer.json()["groups"]} == opens
        page = await client.get(PAGE, params={"q": WORD})
        assert page.status_code == 200
        shown = set(re.findall(r'class="card find-group" data-table="([a-z_]+)"', page.text))
        assert shown == opens
        hidden_labels = {
            "merchants": f"{WORD} Coffee",
            "admin_users": f"{WORD} Staffer",
            "feature_flags": f"{WORD} beta",
            "ai_campaigns": f"{WORD} winter",
            "support_tickets": "TCK-QUUX5678",
            "wallet_transactions": "TXN-20261128-QUUX1234",
        }
        for table, label in hidden_labels.items():
            if table not in opens:
                assert label not in answer.text
                assert label not in html.unescape(page.text)
    finally:
        await client.aclose()


async def test_the_json_door_takes_a_bearer_token(app_for_module: Any, world: Database) -> None:
    async with world.session() as db:
        account = await staff.make_staff(db, "support")
    transport = httpx.ASGITransport(app=app_for_module)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        login = await client.post(
            "/api/v1/admin/auth/login", json={"email": account.email, "password": staff.PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        answer = await findings(client, "ann.quux@example.com", Authorization=f"Bearer {token}")
        assert hit_ids(group(answer, "users")) == [str(ANN)]
        assert not any(g["table"] == "merchants" for g in answer["groups"])
        anonymous = await client.get(SEARCH, params={"q": "ann.quux@example.com"})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"] == "not_authenticated"
        forged = await client.get(
            SEARCH, params={"q": WORD}, headers={"Authorization": "Bearer not-a-token"}
        )
        assert forged.status_code == 401


@pytest.mark.parametrize(
    ("term", "message"),
    [
        (None, "Type something"),
        ("", "Type something"),
        ("   ", "Type something"),
        ("x" * 10_000, "at most 200 characters"),
        ("ann\x00quux", "Control characters"),
        ("!!! -- ...", "letters or digits"),
    ],
)
async def test_bad_input_is_answered_with_a_message(
    boss: httpx.AsyncClient, term: str | None, message: str
) -> None:
    params = {} if term is None else {"q": term}
    answer = await boss.get(SEARCH, params=params)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_query"
    assert message in answer.json()["message"]
    if term:
        page = await boss.get(PAGE, params=params)
        assert page.status_code == 400
        assert message in page.text


async def test_a_slow_table_is_reported_still_searching(
    boss: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_anything._hits

    async def slow_for_users(request: Any, view: Any, term: str, kind: Any) -> Any:
        if view.resource() == "users":
            await find_anything.asyncio.sleep(30)
        return await real(request, view, term, kind)

    monkeypatch.setattr(find_anything, "_hits", slow_for_users)
    monkeypatch.setattr(find_anything, "BOUND_S", 0.5)
    answer = await findings(boss, WORD)
    users = group(answer, "users")
    assert users["searching"] is True
    assert users["hits"] == []
    assert hit_ids(group(answer, "merchants")) == [str(MERCHANT)]
