"""The audit entry a screen writes for each change and export, in the change's own
transaction."""

from __future__ import annotations

from typing import Any

from sqladmin import ModelView
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from audit import trail
from auth.middleware import actor


class Audited(ModelView):
    @classmethod
    def resource(cls) -> str:
        """The name permissions and the audit trail use for this view: its table."""
        return cls.model.__tablename__

    async def audit(
        self,
        db: AsyncSession,
        request: Request,
        verb: str,
        pk: Any,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await trail.append(
            db,
            actor(request),
            trail.Entry(verb, self.resource(), None if pk is None else str(pk), before, after),
        )
