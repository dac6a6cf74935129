"""Staff sign-in for the admin screens, against `admin_users` and bcrypt."""

from __future__ import annotations

import secrets
import uuid

from sqladmin.authentication import AuthenticationBackend
from sqlalchemy import select
from starlette.requests import Request

from auth.passwords import hash_password, hash_rounds, verify_password
from core.database import Database
from core.settings import Settings
from models.base import utcnow
from models.people import AdminUser

SESSION_COOKIE = "swipesavvy_admin"
SESSION_MAX_AGE_S = 12 * 60 * 60
SESSION_KEY = "admin_user_id"


class StaffAuthBackend(AuthenticationBackend):
    """Email and password sign-in; the signed cookie names the staff account."""

    def __init__(self, settings: Settings, database: Database) -> None:
        super().__init__(
            secret_key=str(settings.secret_key),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE_S,
            same_site="lax",
            https_only=settings.is_production,
        )
        self._settings = settings
        self._database = database
        self._decoy_hash: str | None = None

    async def _decoy(self) -> str:
        """A hash to check unknown emails against, so they cost the same bcrypt work."""
        if self._decoy_hash is None:
            self._decoy_hash = await hash_password(
                secrets.token_urlsafe(16), self._settings.bcrypt_rounds
            )
        return self._decoy_hash

    async def login(self, request: Request) -> bool:
        form = await request.form()
        email = str(form.get("username", "")).strip().lower()
        password = str(form.get("password", ""))
        async with self._database.session() as session:
            admin = await session.scalar(select(AdminUser).where(AdminUser.email == email))
            stored_hash = admin.password_hash if admin else await self._decoy()
            password_ok = await verify_password(password, stored_hash)
            if admin is None or not password_ok or not admin.is_active:
                return False
            if hash_rounds(stored_hash) != self._settings.bcrypt_rounds:
                admin.password_hash = await hash_password(password, self._settings.bcrypt_rounds)
            admin.last_login_at = utcnow()
            admin.last_login_ip = request.client.host if request.client else None
            await session.commit()
        request.session.clear()
        request.session[SESSION_KEY] = str(admin.id)
        return True

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        admin_id = request.session.get(SESSION_KEY)
        if not admin_id:
            return False
        async with self._database.session() as session:
            admin = await session.get(AdminUser, uuid.UUID(admin_id))
        if admin is None or not admin.is_active:
            request.session.clear()
            return False
        request.state.staff = admin
        return True

    async def get_user_id(self, request: Request) -> str | None:
        return request.session.get(SESSION_KEY)
