"""SQLAdmin's authorization hook, answered by the staff member's role."""

from __future__ import annotations

from typing import Any

from sqladmin.authorization import AuthorizationBackend
from starlette.requests import Request

from auth.middleware import current_staff
from auth.permissions import allows, resource_for, verb_for


class StaffAuthorization(AuthorizationBackend):
    """Every screen, form, export, action and lookup asks here, through the base view.

    Pure and cheap: the role's permissions were loaded with the session.
    """

    def has_permission(
        self, request: Request, identity: str, action: str, obj: Any | None = None
    ) -> bool:
        staff = current_staff(request)
        if staff is None:
            return False
        return allows(staff.permissions, resource_for(identity), verb_for(action))
