"""The default staff roles (data).

Permission strings are `<resource>:<verb>`, where a resource is a table name (or
`dashboard`) and a verb is view, create, edit, delete, export or action:<name>;
`*` stands for any resource or any verb. Superadmins may edit these on screen.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUSINESS_TABLES = (
    "users",
    "merchants",
    "support_tickets",
    "ticket_messages",
    "feature_flags",
    "ai_campaigns",
    "campaign_performance",
    "ai_models",
    "dashboard_analytics",
    "audit_logs",
    "settings",
    "wallets",
    "wallet_transactions",
    "payment_methods",
)
NON_SENSITIVE_TABLES = (
    "merchants",
    "feature_flags",
    "ai_campaigns",
    "campaign_performance",
    "ai_models",
    "dashboard_analytics",
)

DEFAULT_ROLES: dict[str, tuple[str, list[str]]] = {
    "superadmin": ("Everything, including staff accounts and roles.", ["*"]),
    "admin": (
        "Everything but staff accounts and roles.",
        [f"{table}:*" for table in BUSINESS_TABLES] + ["dashboard:view"],
    ),
    "operations": (
        "Merchants, users, wallets (view, freeze), feature flags, settings (view).",
        [
            "merchants:*",
            "users:*",
            "wallets:view",
            "wallets:action:freeze",
            "wallets:action:unfreeze",
            "feature_flags:*",
            "settings:view",
            "dashboard:view",
        ],
    ),
    "support": (
        "Users (view, suspend), tickets and messages, wallets and transactions (view).",
        [
            "users:view",
            "users:action:suspend",
            "support_tickets:*",
            "ticket_messages:*",
            "wallets:view",
            "wallet_transactions:view",
            "dashboard:view",
        ],
    ),
    "marketing": (
        "Campaigns, campaign performance, AI models, feature flags (view).",
        [
            "ai_campaigns:*",
            "campaign_performance:*",
            "ai_models:*",
            "feature_flags:view",
            "dashboard:view",
        ],
    ),
    "analyst": (
        "View and export everything except secrets and staff accounts; dashboards.",
        [f"{table}:{verb}" for table in BUSINESS_TABLES for verb in ("view", "export")]
        + ["dashboard:view"],
    ),
    "viewer": (
        "View-only on non-sensitive tables.",
        [f"{table}:view" for table in NON_SENSITIVE_TABLES] + ["dashboard:view"],
    ),
}

roles = sa.table(
    "roles",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("description", sa.String()),
    sa.column("permissions", sa.ARRAY(sa.String()).with_variant(sa.JSON(), "sqlite")),
)


def upgrade() -> None:
    op.bulk_insert(
        roles,
        [
            {"id": uuid.uuid4(), "name": name, "description": text, "permissions": permissions}
            for name, (text, permissions) in DEFAULT_ROLES.items()
        ],
    )


def downgrade() -> None:
    op.execute(roles.delete().where(roles.c.name.in_(list(DEFAULT_ROLES))))
