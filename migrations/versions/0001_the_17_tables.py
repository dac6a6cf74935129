"""The 17 tables of SwipeSavvy Admin.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "provider",
            sa.Enum(
                "openai",
                "anthropic",
                "google",
                "internal",
                "other",
                name="provider",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "copywriting",
                "segmentation",
                "churn_prediction",
                "fraud_detection",
                "support_assistant",
                "recommendation",
                name="purpose",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "testing",
                "active",
                "deprecated",
                "retired",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_models")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_ai_models_name_version")),
    )
    with op.batch_alter_table("ai_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_models_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_models_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_models_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_models_purpose"), ["purpose"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_models_status"), ["status"], unique=False)

    op.create_table(
        "dashboard_analytics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=64), nullable=False),
        sa.Column("value", models.base.FixedPoint(precision=20, scale=4), nullable=False),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(metric) > 0", name=op.f("ck_dashboard_analytics_metric_not_empty")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_analytics")),
        sa.UniqueConstraint(
            "day", "metric", "dimension", name=op.f("uq_dashboard_analytics_day_metric_dimension")
        ),
    )
    with op.batch_alter_table("dashboard_analytics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_analytics_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index("ix_dashboard_analytics_metric_day", ["metric", "day"], unique=False)

    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "flag_type",
            sa.Enum(
                "release",
                "experiment",
                "operational",
                "kill_switch",
                "permission",
                name="flag_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("rollout_percentage", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column(
            "platforms",
            sa.ARRAY(sa.String(length=16)).with_variant(sa.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column("min_app_version", sa.String(length=32), nullable=True),
        sa.Column("max_app_version", sa.String(length=32), nullable=True),
        sa.Column(
            "allow_list",
            sa.ARRAY(sa.String(length=64)).with_variant(sa.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "deny_list",
            sa.ARRAY(sa.String(length=64)).with_variant(sa.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "variants",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "default_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("starts_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "key = lower(key) AND length(key) > 0", name=op.f("ck_feature_flags_key_slug")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_feature_flags_revision_positive")),
        sa.CheckConstraint(
            "rollout_percentage >= 0 AND rollout_percentage <= 100",
            name=op.f("ck_feature_flags_rollout_percentage"),
        ),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_feature_flags_schedule_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_feature_flags_key")),
    )
    with op.batch_alter_table("feature_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feature_flags_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_feature_flags_enabled"), ["enabled"], unique=False)
        batch_op.create_index(batch_op.f("ix_feature_flags_flag_type"), ["flag_type"], unique=False)

    op.create_table(
        "merchants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "suspended",
                "rejected",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "grocery",
                "dining",
                "retail",
                "travel",
                "fuel",
                "entertainment",
                "health",
                "services",
                "digital",
                "other",
                name="category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("cashback_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column(
            "tags", sa.ARRAY(sa.String(length=64)).with_variant(sa.JSON(), "sqlite"), nullable=False
        ),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("approved_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL",
            name=op.f("ck_merchants_rejection_reason"),
        ),
        sa.CheckConstraint(
            "cashback_rate >= 0 AND cashback_rate <= 100", name=op.f("ck_merchants_cashback_rate")
        ),
        sa.CheckConstraint(
            "contact_email = lower(contact_email)", name=op.f("ck_merchants_email_lowercase")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint("contact_email", name=op.f("uq_merchants_contact_email")),
    )
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merchants_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_merchants_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_merchants_deactivated_at"), ["deactivated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_merchants_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_merchants_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_merchants_status_created_at", ["status", "created_at"], unique=False
        )

    op.create_table(
        "roles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column(
            "permissions",
            sa.ARRAY(sa.String(length=100)).with_variant(sa.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "name = lower(name) AND length(name) > 0", name=op.f("ck_roles_name_slug")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roles_created_at"), ["created_at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "deactivated",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "kyc_status",
            sa.Enum(
                "unverified",
                "pending",
                "verified",
                "rejected",
                name="kyc_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("last_active_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'deactivated') = (deactivated_at IS NOT NULL)",
            name=op.f("ck_users_deactivated_at"),
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.CheckConstraint(
            "length(country) = 2 AND upper(country) = country", name=op.f("ck_users_country_iso")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("phone", name=op.f("uq_users_phone")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_kyc_status"), ["kyc_status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_users_last_active_at"), ["last_active_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_users_status"), ["status"], unique=False)
        batch_op.create_index("ix_users_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "admin_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_login_ip", sa.String(length=45), nullable=True),
        sa.Column("password_changed_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_admin_users_email_lowercase")),
        sa.CheckConstraint(
            "failed_login_count >= 0", name=op.f("ck_admin_users_failed_login_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_admin_users_role_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_users")),
        sa.UniqueConstraint("email", name=op.f("uq_admin_users_email")),
    )
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_users_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_users_is_active"), ["is_active"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_users_role_id"), ["role_id"], unique=False)

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("card", "bank_account", name="kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("brand", sa.String(length=40), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "expired",
                "removed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind <> 'card' OR (exp_month IS NOT NULL AND exp_year IS NOT NULL)",
            name=op.f("ck_payment_methods_card_has_expiry"),
        ),
        sa.CheckConstraint(
            "exp_month IS NULL OR (exp_month >= 1 AND exp_month <= 12)",
            name=op.f("ck_payment_methods_exp_month_range"),
        ),
        sa.CheckConstraint(
            "exp_year IS NULL OR (exp_year >= 2000 AND exp_year <= 2100)",
            name=op.f("ck_payment_methods_exp_year_range"),
        ),
        sa.CheckConstraint(
            "length(last_four) = 4", name=op.f("ck_payment_methods_last_four_length")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payment_methods_user_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_methods_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_methods_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_methods_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_payment_methods_one_default_per_user",
            ["user_id"],
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        )

    op.create_table(
        "wallets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "frozen",
                "closed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_wallets_balance_non_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_wallets_currency_iso4217"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wallets_user_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("user_id", "currency", name=op.f("uq_wallets_user_id_currency")),
    )
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallets_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wallets_status"), ["status"], unique=False)

    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("admin_user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("browser", "api", name="kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=100), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_admin_sessions_expires_after_issue")
        ),
        sa.ForeignKeyConstraint(
            ["admin_user_id"],
            ["admin_users.id"],
            name=op.f("fk_admin_sessions_admin_user_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_sessions_token_hash")),
    )
    with op.batch_alter_table("admin_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_admin_sessions_admin_user_id_revoked_at",
            ["admin_user_id", "revoked_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_admin_sessions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_admin_sessions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "ai_campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "active",
                "paused",
                "completed",
                "cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "push",
                "email",
                "sms",
                "in_app",
                name="channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "audience",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("budget", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column("spend", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starts_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ai_model_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'scheduled' OR starts_at IS NOT NULL",
            name=op.f("ck_ai_campaigns_scheduled_has_start"),
        ),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_ai_campaigns_budget_non_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_ai_campaigns_currency_iso4217"),
        ),
        sa.CheckConstraint("spend >= 0", name=op.f("ck_ai_campaigns_spend_non_negative")),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_ai_campaigns_schedule_order"),
        ),
        sa.ForeignKeyConstraint(
            ["ai_model_id"],
            ["ai_models.id"],
            name=op.f("fk_ai_campaigns_ai_model_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["admin_users.id"],
            name=op.f("fk_ai_campaigns_created_by_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_campaigns")),
    )
    with op.batch_alter_table("ai_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_campaigns_ai_model_id"), ["ai_model_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ai_campaigns_channel"), ["channel"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ai_campaigns_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_campaigns_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ai_campaigns_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_campaigns_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_ai_campaigns_status_starts_at", ["status", "starts_at"], unique=False
        )

    op.create_table(
        "audit_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_email", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint("length(action) > 0", name=op.f("ck_audit_logs_action_not_empty")),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_audit_logs_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["admin_users.id"],
            name=op.f("fk_audit_logs_actor_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
        sa.UniqueConstraint("row_hash", name=op.f("uq_audit_logs_row_hash")),
        sa.UniqueConstraint("sequence", name=op.f("uq_audit_logs_sequence")),
    )
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_logs_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_logs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_audit_logs_entity_type_entity_id", ["entity_type", "entity_id"], unique=False
        )

    op.create_table(
        "settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("is_secret", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint("length(key) > 0", name=op.f("ck_settings_key_not_empty")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["admin_users.id"],
            name=op.f("fk_settings_updated_by_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_settings_key")),
    )
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settings_created_at"), ["created_at"], unique=False)

    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "pending",
                "in_progress",
                "resolved",
                "closed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="priority",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "account",
                "payments",
                "cards",
                "rewards",
                "merchant",
                "technical",
                "other",
                name="category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "in_app",
                "email",
                "chat",
                "phone",
                name="channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column(
            "tags", sa.ARRAY(sa.String(length=64)).with_variant(sa.JSON(), "sqlite"), nullable=False
        ),
        sa.Column("first_response_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "first_response_at IS NULL OR first_response_at >= created_at",
            name=op.f("ck_support_tickets_first_response_after_creation"),
        ),
        sa.CheckConstraint(
            "length(subject) > 0", name=op.f("ck_support_tickets_subject_not_empty")
        ),
        sa.CheckConstraint(
            "resolved_at IS NULL OR resolved_at >= created_at",
            name=op.f("ck_support_tickets_resolved_after_creation"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["admin_users.id"],
            name=op.f("fk_support_tickets_assignee_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_support_tickets_user_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
        sa.UniqueConstraint("reference", name=op.f("uq_support_tickets_reference")),
    )
    with op.batch_alter_table("support_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_tickets_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_tickets_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_support_tickets_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_tickets_priority"), ["priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_tickets_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_support_tickets_status_priority", ["status", "priority"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_support_tickets_user_id"), ["user_id"], unique=False)

    op.create_table(
        "wallet_transactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("wallet_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "deposit",
                "withdrawal",
                "purchase",
                "refund",
                "cashback",
                "transfer_in",
                "transfer_out",
                "adjustment",
                "reversal",
                name="type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "posted",
                "failed",
                "cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("amount", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column("fee", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("payment_method_id", sa.Uuid(), nullable=True),
        sa.Column("related_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("posted_at", models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'posted') = (posted_at IS NOT NULL)",
            name=op.f("ck_wallet_transactions_posted_at_when_posted"),
        ),
        sa.CheckConstraint(
            "(type NOT IN ('cashback', 'deposit', 'refund', 'transfer_in') OR amount > 0) AND (type NOT IN ('purchase', 'transfer_out', 'withdrawal') OR amount < 0)",
            name=op.f("ck_wallet_transactions_amount_sign_matches_type"),
        ),
        sa.CheckConstraint(
            "type NOT IN ('refund', 'reversal') OR related_transaction_id IS NOT NULL",
            name=op.f("ck_wallet_transactions_correction_has_original"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_wallet_transactions_amount_not_zero")),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_wallet_transactions_fee_non_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_wallet_transactions_currency_iso4217"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_wallet_transactions_merchant_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_wallet_transactions_payment_method_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["related_transaction_id"],
            ["wallet_transactions.id"],
            name=op.f("fk_wallet_transactions_related_transaction_id"),
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_wallet_transactions_wallet_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_wallet_transactions_idempotency_key")),
        sa.UniqueConstraint("reference", name=op.f("uq_wallet_transactions_reference")),
    )
    with op.batch_alter_table("wallet_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_transactions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_wallet_transactions_merchant_id_created_at",
            ["merchant_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_transactions_payment_method_id"),
            ["payment_method_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_transactions_posted_at"), ["posted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_transactions_related_transaction_id"),
            ["related_transaction_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_wallet_transactions_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_wallet_transactions_type_created_at", ["type", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_wallet_transactions_wallet_id_created_at", ["wallet_id", "created_at"], unique=False
        )

    op.create_table(
        "campaign_performance",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("spend", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column("revenue", models.base.FixedPoint(precision=18, scale=2), nullable=False),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "clicks <= impressions", name=op.f("ck_campaign_performance_clicks_within_impressions")
        ),
        sa.CheckConstraint(
            "impressions >= 0 AND clicks >= 0 AND conversions >= 0",
            name=op.f("ck_campaign_performance_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "spend >= 0 AND revenue >= 0", name=op.f("ck_campaign_performance_money_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["ai_campaigns.id"],
            name=op.f("fk_campaign_performance_campaign_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_performance")),
        sa.UniqueConstraint(
            "campaign_id", "day", name=op.f("uq_campaign_performance_campaign_id_day")
        ),
    )
    with op.batch_alter_table("campaign_performance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_performance_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_performance_day"), ["day"], unique=False)

    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column(
            "author_type",
            sa.Enum(
                "customer",
                "agent",
                "system",
                name="author_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("author_admin_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            models.base.UtcDateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.CheckConstraint(
            "author_type <> 'agent' OR author_admin_id IS NOT NULL",
            name=op.f("ck_ticket_messages_agent_has_author"),
        ),
        sa.CheckConstraint(
            "author_type <> 'customer' OR is_internal = false",
            name=op.f("ck_ticket_messages_customer_not_internal"),
        ),
        sa.CheckConstraint("length(body) > 0", name=op.f("ck_ticket_messages_body_not_empty")),
        sa.ForeignKeyConstraint(
            ["author_admin_id"],
            ["admin_users.id"],
            name=op.f("fk_ticket_messages_author_admin_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            name=op.f("fk_ticket_messages_ticket_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
    )
    with op.batch_alter_table("ticket_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_messages_author_admin_id"), ["author_admin_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_messages_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_messages_ticket_id_created_at", ["ticket_id", "created_at"], unique=False
        )


TABLES_IN_CREATION_ORDER = (
    "ai_models",
    "dashboard_analytics",
    "feature_flags",
    "merchants",
    "roles",
    "users",
    "admin_users",
    "payment_methods",
    "wallets",
    "admin_sessions",
    "ai_campaigns",
    "audit_logs",
    "settings",
    "support_tickets",
    "wallet_transactions",
    "campaign_performance",
    "ticket_messages",
)


def downgrade() -> None:
    # Dropping a table drops its indexes; reverse order keeps foreign keys satisfied.
    for table in reversed(TABLES_IN_CREATION_ORDER):
        op.drop_table(table)
