"""Staff security: lockout escalation, one-time TOTP codes, session state, append-only audit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_logs_append_only
BEFORE UPDATE OR DELETE ON audit_logs
FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()
"""


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(
            sa.Column("lockout_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_admin_users_lockout_count_non_negative"), "lockout_count >= 0"
        )
    with op.batch_alter_table("admin_sessions") as batch:
        batch.add_column(sa.Column("data", JSON, server_default=sa.text("'{}'"), nullable=False))
        batch.add_column(
            sa.Column("retired_token_hashes", JSON, server_default=sa.text("'[]'"), nullable=False)
        )
    op.create_index(
        "ix_audit_logs_action_ip_address_created_at",
        "audit_logs",
        ["action", "ip_address", "created_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The hash chain shows tampering; on PostgreSQL the database also refuses it.
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_logs_append_only ON audit_logs")
        op.execute("DROP FUNCTION audit_logs_append_only()")
    op.drop_index("ix_audit_logs_action_ip_address_created_at", table_name="audit_logs")
    with op.batch_alter_table("admin_sessions") as batch:
        batch.drop_column("retired_token_hashes")
        batch.drop_column("data")
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_constraint(op.f("ck_admin_users_lockout_count_non_negative"), type_="check")
        batch.drop_column("totp_last_step")
        batch.drop_column("lockout_count")
