"""A sign-in costs the same bcrypt work whatever the account's state and its stored cost, so
its timing does not tell which emails exist: an unknown email, a disabled or locked account
and a wrong password each pay the current cost; a cheaper stored hash is topped up to it,
and a good sign-in rehashes the password at the current cost.

Timing on a loaded machine is noise, so the tests count the bcrypt work instead: the cost
of every hash computed during one attempt, read from the hashes bcrypt is handed."""

from __future__ import annotations

from datetime import timedelta

import bcrypt
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import auth.passwords
from core.settings import Settings
from models import AdminUser
from models.base import utcnow
from tests import staff
from tests.clients import client_for
from tests.databases import TEST_BCRYPT_ROUNDS
from tests.staff import PASSWORD

CURRENT = TEST_BCRYPT_ROUNDS + 2
"""The cost the app is set to; accounts are made at TEST_BCRYPT_ROUNDS, a cheaper one."""
WRONG = "not the password at all"


def cost_of(hashed: bytes) -> int:
    return int(hashed.split(b"$")[2])


def total(costs: list[int]) -> int:
    """Work in rounds of bcrypt's key schedule: cost n is 2**n of them."""
    return sum(2**cost for cost in costs)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cost of every bcrypt hash computed, in order, from here on."""
    costs: list[int] = []
    checkpw, hashpw = bcrypt.checkpw, bcrypt.hashpw

    def checking(password: bytes, hashed: bytes) -> bool:
        costs.append(cost_of(hashed))
        return checkpw(password, hashed)

    def hashing(password: bytes, salt: bytes) -> bytes:
        costs.append(cost_of(salt))
        return hashpw(password, salt)

    monkeypatch.setattr(auth.passwords.bcrypt, "checkpw", checking)
    monkeypatch.setattr(auth.passwords.bcrypt, "hashpw", hashing)
    return costs


async def attempt(
    client: httpx.AsyncClient, work: list[int], email: str, password: str
) -> list[int]:
    """The costs computed during one sign-in attempt through the form."""
    work.clear()
    await staff.sign_in(client, email, password)
    return list(work)


async def accounts(db: AsyncSession) -> dict[str, str]:
    """An email for each state a sign-in can meet, all hashed at the cheaper cost."""
    active = await staff.make_staff(db, "support")
    disabled = await staff.make_staff(db, "support", is_active=False)
    locked = await staff.make_staff(
        db, "support", locked_until=utcnow() + timedelta(hours=1), lockout_count=1
    )
    return {
        "unknown email": "nobody.here@example.com",
        "wrong password": active.email,
        "disabled account": disabled.email,
        "locked account": locked.email,
    }


async def test_every_refused_sign_in_pays_the_current_cost(
    db: AsyncSession, settings: Settings, work: list[int]
) -> None:
    emails = await accounts(db)
    async with client_for(settings, bcrypt_rounds=CURRENT) as client:
        await attempt(client, work, "warm.up@example.com", WRONG)  # makes the decoy hash
        paid = {state: await attempt(client, work, email, WRONG) for state, email in emails.items()}
        paid["disabled, right password"] = await attempt(
            client, work, emails["disabled account"], PASSWORD
        )
        paid["locked, right password"] = await attempt(
            client, work, emails["locked account"], PASSWORD
        )

    assert paid["unknown email"] == [CURRENT]
    for state, costs in paid.items():
        assert max(costs) == CURRENT, (state, costs)
        # The cheaper stored hash is checked too: 1/4 more work at two rounds below.
        assert 2**CURRENT <= total(costs) <= 2**CURRENT * 5 // 4, (state, costs)


async def test_a_cheap_hash_is_rehashed_at_the_current_cost_by_a_good_sign_in(
    db: AsyncSession, settings: Settings, work: list[int]
) -> None:
    account = await staff.make_staff(db, "support")
    async with client_for(settings, bcrypt_rounds=CURRENT) as client:
        signed_in = await staff.sign_in(client, account.email)
        after = await attempt(client, work, account.email, WRONG)

    assert signed_in.status_code == 302
    await db.commit()
    stored = await db.scalar(sa.select(AdminUser.password_hash).where(AdminUser.id == account.id))
    assert auth.passwords.hash_rounds(stored) == CURRENT
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert after == [CURRENT]  # nothing to top up any more


async def test_a_costlier_hash_is_rehashed_down_to_the_current_cost(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    costly = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(CURRENT + 1)).decode()
    await db.execute(
        sa.update(AdminUser).where(AdminUser.id == account.id).values(password_hash=costly)
    )
    await db.commit()
    async with client_for(settings, bcrypt_rounds=CURRENT) as client:
        assert (await staff.sign_in(client, account.email)).status_code == 302

    await db.commit()
    stored = await db.scalar(sa.select(AdminUser.password_hash).where(AdminUser.id == account.id))
    assert auth.passwords.hash_rounds(stored) == CURRENT


async def test_the_api_sign_in_pays_the_same(
    db: AsyncSession, settings: Settings, work: list[int]
) -> None:
    emails = await accounts(db)
    async with client_for(settings, bcrypt_rounds=CURRENT) as api:

        async def via_api(email: str) -> list[int]:
            work.clear()
            await api.post("/api/v1/admin/auth/login", json={"email": email, "password": WRONG})
            return list(work)

        await via_api("warm.up@example.com")
        paid = {state: await via_api(email) for state, email in emails.items()}

    assert {state: max(costs) for state, costs in paid.items()} == dict.fromkeys(paid, CURRENT)
