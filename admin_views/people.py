"""Screens for customers and staff: users, admin_users, roles, admin_sessions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from wtforms import Form, PasswordField, ValidationError, validators
from wtforms.fields import Field

from admin_views import sqladmin_door as door
from admin_views.base import ReadOnlyView, StaffView
from admin_views.shared.actions import ActionContext, ActionRefusedError, row_action
from admin_views.shared.audit_words import action_label
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, RelatedFilter, YesNoFilter
from admin_views.shared.four_eyes import BULK_ROWS, Needed, always, more_rows_than
from admin_views.shared.labels import humanize
from admin_views.shared.permission_field import PermissionGridField, render
from admin_views.shared.permission_grid import UnknownPermissionsError, grid, settle, summary
from admin_views.shared.related import Related
from admin_views.shared.screens import Screen, screens
from admin_views.shared.search import Exact
from auth import sessions
from auth.middleware import current_staff
from auth.passwords import WeakPasswordError, check_password_policy, hash_password
from auth.permissions import allows
from models.base import utcnow
from models.ops import AuditLog
from models.payments import PaymentMethod, Wallet
from models.people import AdminSession, AdminUser, Role, User, UserStatus
from models.support import SupportTicket

MENU = "People"


class UserAdmin(StaffView, model=User):
    """App customers: never removed, deactivated (with a reason) instead."""

    name = "Customer"
    name_plural = "Customers"

    default_access = {
        "admin": ("*",),
        "operations": ("*",),
        "support": ("view", "action:suspend"),
        "analyst": ("view", "export"),
    }
    icon = "fa-solid fa-user"
    personal_data = True
    column_list = [
        User.email,
        User.first_name,
        User.last_name,
        User.status,
        User.kyc_status,
        User.country,
        User.last_active_at,
        User.created_at,
    ]
    column_searchable_list = [User.email, User.first_name, User.last_name, User.phone]
    search_exact = {Exact.EMAIL: [User.email], Exact.PHONE: [User.phone], Exact.UUID: [User.id]}
    column_sortable_list = [User.email, User.last_name, User.last_active_at, User.created_at]
    column_filters = [
        ChoiceFilter(User.status),
        ChoiceFilter(User.kyc_status),
        YesNoFilter(User.email_verified),
        DateRangeFilter(User.created_at, "Signed up"),
        DateRangeFilter(User.last_active_at),
    ]
    form_columns = [
        User.email,
        User.phone,
        User.first_name,
        User.last_name,
        User.date_of_birth,
        User.country,
        User.kyc_status,
        User.email_verified,
    ]
    lowercase_fields = ("email",)
    related = [
        Related("Wallets", Wallet.user_id, (Wallet.currency, Wallet.balance, Wallet.status)),
        Related(
            "Payment methods",
            PaymentMethod.user_id,
            (
                PaymentMethod.kind,
                PaymentMethod.brand,
                PaymentMethod.last_four,
                PaymentMethod.status,
            ),
        ),
        Related(
            "Support tickets",
            SupportTicket.user_id,
            (
                SupportTicket.reference,
                SupportTicket.subject,
                SupportTicket.status,
                SupportTicket.created_at,
            ),
        ),
    ]

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].strip().upper()
        await super().on_model_change(data, model, is_created, request)

    @row_action(
        "suspend",
        "Suspend",
        confirm="Suspend {record}? They cannot pay until reactivated.",
        when=lambda user: user.status == UserStatus.ACTIVE,
        reason=True,
        four_eyes=more_rows_than(BULK_ROWS),
    )
    async def suspend(self, _db: AsyncSession, user: User, _context: ActionContext) -> None:
        user.status = UserStatus.SUSPENDED

    @row_action("reactivate", "Reactivate", when=lambda user: user.status != UserStatus.ACTIVE)
    async def reactivate(self, _db: AsyncSession, user: User, _context: ActionContext) -> None:
        user.status = UserStatus.ACTIVE
        user.deactivated_at = None

    @row_action(
        "deactivate",
        "Deactivate",
        confirm="Deactivate {record}? The account stays on record and can be reactivated.",
        when=lambda user: user.status != UserStatus.DEACTIVATED,
        reason=True,
        four_eyes=more_rows_than(BULK_ROWS),
    )
    async def deactivate(self, _db: AsyncSession, user: User, _context: ActionContext) -> None:
        user.deactivate(utcnow())


def _password_policy(_form: Form, field: Field) -> None:
    if field.data:
        try:
            check_password_policy(field.data)
        except WeakPasswordError as exc:
            raise ValidationError(str(exc)) from None


async def _access_given(
    _view: AdminUserAdmin, _db: AsyncSession, admin: AdminUser | None, data: dict[str, Any]
) -> Needed | None:
    """Giving a staff member a role (a new account always gets one), or enabling a disabled
    account, needs a second person."""
    if admin is None:
        return Needed("A new staff account gets a role only with a second person.")
    role = str(data.get("role") or "")
    said = []
    if role and role != str(admin.role_id):
        said.append("Giving a staff member a role needs a second person.")
    if data.get("is_active") and not admin.is_active:
        said.append("A disabled staff account is enabled only with a second person.")
    return Needed(" ".join(said)) if said else None


class AdminUserAdmin(StaffView, model=AdminUser):
    """Staff accounts. Disabled, never deleted: the audit trail points at them."""

    name = "Staff account"
    icon = "fa-solid fa-user-shield"
    personal_data = True
    can_delete = False
    column_list = [
        AdminUser.email,
        AdminUser.full_name,
        AdminUser.role,
        AdminUser.is_active,
        AdminUser.locked_until,
        AdminUser.last_login_at,
        AdminUser.created_at,
    ]
    column_searchable_list = [AdminUser.email, AdminUser.full_name]
    search_exact = {Exact.EMAIL: [AdminUser.email], Exact.UUID: [AdminUser.id]}
    column_sortable_list = [AdminUser.email, AdminUser.last_login_at, AdminUser.created_at]
    column_filters = [
        RelatedFilter(AdminUser.role_id, "Role", label=Role.name),
        YesNoFilter(AdminUser.is_active, "Active"),
        YesNoFilter(AdminUser.locked_until > sa.func.now(), "Locked", parameter_name="locked"),
        DateRangeFilter(AdminUser.last_login_at),
    ]
    form_columns = [AdminUser.email, AdminUser.full_name, AdminUser.role, AdminUser.is_active]
    lowercase_fields = ("email",)
    edit_four_eyes = _access_given
    related = [
        Related(
            "Sessions",
            AdminSession.admin_user_id,
            (
                AdminSession.kind,
                AdminSession.created_at,
                AdminSession.last_seen_at,
                AdminSession.revoked_at,
            ),
        ),
        Related(
            "Recent audit entries",
            AuditLog.actor_id,
            (AuditLog.sequence, AuditLog.action, AuditLog.entity_type, AuditLog.created_at),
            newest_first=AuditLog.sequence,
            shown_as={"action": action_label, "entity_type": humanize},
        ),
    ]

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        base = await super().scaffold_form(rules)

        class StaffAccountForm(base):  # type: ignore[misc, valid-type]
            new_password = PasswordField(
                "New password",
                validators=[validators.Optional(), _password_policy],
                description="At least 12 characters. Leave blank to keep the current one.",
                render_kw={"autocomplete": "new-password"},
            )

        return StaffAccountForm

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        """A new password becomes its hash in `data`: a change waiting for a second person
        keeps the hash, never the password, and sets it when approved."""
        password = data.pop("new_password", None)
        if password:
            data["password_hash"] = await hash_password(
                password, request.app.state.settings.bcrypt_rounds
            )
        if is_created and not data.get("password_hash"):
            raise self.refuse(request, {"new_password": "A new staff account needs a password."})
        if data.get("password_hash"):
            model.password_changed_at = utcnow()
        await super().on_model_change(data, model, is_created, request)

    @row_action(
        "disable",
        "Disable",
        confirm="Disable {record} and sign them out?",
        when=lambda admin: admin.is_active,
    )
    async def disable(self, _db: AsyncSession, admin: AdminUser, context: ActionContext) -> None:
        if context.staff.id == admin.id:
            raise ActionRefusedError("You cannot disable your own account.")
        admin.is_active = False

    @row_action(
        "enable",
        "Enable",
        when=lambda admin: not admin.is_active,
        four_eyes=always("A disabled staff account is enabled only with a second person."),
    )
    async def enable(self, _db: AsyncSession, admin: AdminUser, _context: ActionContext) -> None:
        admin.is_active = True

    @row_action(
        "reset-lockout",
        "Reset lockout",
        when=lambda admin: admin.locked_until is not None or admin.failed_login_count > 0,
    )
    async def reset_lockout(
        self, _db: AsyncSession, admin: AdminUser, _context: ActionContext
    ) -> None:
        admin.failed_login_count = 0
        admin.lockout_count = 0
        admin.locked_until = None

    @row_action(
        "sign-out-everywhere", "Sign out everywhere", confirm="End every session of {record}?"
    )
    async def sign_out_everywhere(
        self, db: AsyncSession, admin: AdminUser, _context: ActionContext
    ) -> dict[str, Any]:
        return {"sessions_revoked": await sessions.revoke_all(db, admin.id, "signed out by staff")}


async def _permissions_changed(
    view: RoleAdmin, _db: AsyncSession, role: Role | None, data: dict[str, Any]
) -> Needed | None:
    """Changing what an existing role may do needs a second person. A new role is held by
    nobody, and giving it to someone needs one."""
    if role is None:
        return None
    had = list(role.permissions or [])
    try:
        wanted = settle(data.get("permissions") or [], had, view.permission_screens())
    except UnknownPermissionsError:
        return None  # refused on its field, as for any save
    if wanted == had:
        return None
    return Needed(f"Changing what the {role} role may do needs a second person.")


class RoleAdmin(StaffView, model=Role):
    """Staff roles: permissions read and edited as a grid of screens and verbs."""

    icon = "fa-solid fa-key"
    column_list = [Role.name, Role.description, Role.permissions, Role.updated_at]
    column_searchable_list = [Role.name]
    column_default_sort = [(Role.name, False)]
    form_columns = [Role.name, Role.description, Role.permissions]
    lowercase_fields = ("name",)
    edit_four_eyes = _permissions_changed

    def permission_screens(self) -> list[Screen]:
        return screens(door.admin_of(self))

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop == "permissions":
            return obj.permissions, summary(obj.permissions, self.permission_screens())
        return await super().get_list_value(obj, prop, request)

    async def get_detail_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop == "permissions":
            return obj.permissions, render(grid(obj.permissions, self.permission_screens()))
        return await super().get_detail_value(obj, prop, request)

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        base = await super().scaffold_form(rules)
        shown = self.permission_screens()

        class RoleForm(base):  # type: ignore[misc, valid-type]
            permissions = PermissionGridField(
                "Permissions",
                screens=shown,
                description='Tick what the role may do on each screen; "all" covers the '
                "screen's actions, including ones added later.",
            )

        return RoleForm

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        """The ticked boxes become the role's strings (unknown new ones refused). Nobody
        takes from their own role the right to edit roles: the change could not be undone
        by them, nor by anyone else holding that role."""
        await super().on_model_change(data, model, is_created, request)
        had = [] if is_created else list(model.permissions or [])
        try:
            data["permissions"] = settle(
                data.get("permissions") or [], had, self.permission_screens()
            )
        except UnknownPermissionsError as unknown:
            raise self.refuse(request, {"permissions": str(unknown)}) from None
        staff = current_staff(request)
        if is_created or staff is None or model.name != staff.role:
            return
        if not allows(data.get("permissions") or [], "roles", "edit"):
            raise self.refuse(
                request,
                {
                    "permissions": "This is your own role: keep roles:edit (or *), or ask "
                    "another superadmin to make this change."
                },
            )

    related = [
        Related(
            "Staff with this role",
            AdminUser.role_id,
            (AdminUser.email, AdminUser.full_name, AdminUser.is_active),
        ),
    ]


class AdminSessionAdmin(ReadOnlyView, model=AdminSession):
    name = "Staff session"
    icon = "fa-solid fa-id-badge"
    personal_data = True
    column_list = [
        AdminSession.admin_user,
        AdminSession.kind,
        AdminSession.created_at,
        AdminSession.last_seen_at,
        AdminSession.expires_at,
        AdminSession.revoked_at,
        AdminSession.ip_address,
    ]
    column_details_exclude_list = [AdminSession.data]
    column_filters = [
        RelatedFilter(AdminSession.admin_user_id, "Staff member", label=AdminUser.email),
        ChoiceFilter(AdminSession.kind),
        YesNoFilter(AdminSession.revoked_at.is_not(None), "Revoked", parameter_name="revoked"),
        DateRangeFilter(AdminSession.created_at, "Signed in"),
    ]

    @row_action(
        "revoke",
        "Revoke",
        confirm="End {record} now?",
        when=lambda session: session.revoked_at is None,
    )
    async def revoke(
        self, db: AsyncSession, session: AdminSession, _context: ActionContext
    ) -> None:
        await sessions.revoke(db, session.id, "revoked by staff", utcnow())
        await db.refresh(session)
