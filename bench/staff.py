"""A superadmin the benchmarks sign in as: made on first use, a fresh password each run."""

from __future__ import annotations

import secrets

import bcrypt
import sqlalchemy as sa

from core.database import Database
from models.people import AdminUser, Role


async def bench_staff(database: Database, email: str, full_name: str) -> str:
    """Create or re-key the account (bcrypt at 4 rounds: signing in is not what is timed)."""
    password = secrets.token_urlsafe(16)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    async with database.session() as db, db.begin():
        role = await db.scalar(sa.select(Role.id).where(Role.name == "superadmin"))
        found = await db.scalar(sa.select(AdminUser).where(AdminUser.email == email))
        if found is None:
            db.add(
                AdminUser(
                    email=email,
                    full_name=full_name,
                    password_hash=hashed,
                    role_id=role,
                    is_active=True,
                )
            )
        else:
            found.password_hash = hashed
    return password
