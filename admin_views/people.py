"""Screens for customers and staff: users, admin_users, roles, admin_sessions."""

from __future__ import annotations

from admin_views.base import ReadOnlyView, StaffView
from models.people import AdminSession, AdminUser, Role, User

MENU = "People"


class UserAdmin(StaffView, model=User):
    icon = "fa-solid fa-user"
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
    column_sortable_list = [User.email, User.last_name, User.status, User.created_at]


class AdminUserAdmin(StaffView, model=AdminUser):
    name = "Staff account"
    icon = "fa-solid fa-user-shield"
    column_list = [
        AdminUser.email,
        AdminUser.full_name,
        AdminUser.role,
        AdminUser.is_active,
        AdminUser.last_login_at,
        AdminUser.created_at,
    ]
    column_searchable_list = [AdminUser.email, AdminUser.full_name]
    column_sortable_list = [AdminUser.email, AdminUser.last_login_at, AdminUser.created_at]


class RoleAdmin(StaffView, model=Role):
    icon = "fa-solid fa-key"
    column_list = [Role.name, Role.description, Role.updated_at]
    column_searchable_list = [Role.name]
    column_default_sort = [(Role.name, False)]


class AdminSessionAdmin(ReadOnlyView, model=AdminSession):
    name = "Staff session"
    icon = "fa-solid fa-id-badge"
    column_list = [
        AdminSession.admin_user,
        AdminSession.kind,
        AdminSession.created_at,
        AdminSession.last_seen_at,
        AdminSession.expires_at,
        AdminSession.revoked_at,
        AdminSession.ip_address,
    ]
