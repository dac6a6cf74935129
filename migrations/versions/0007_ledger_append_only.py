"""Ledger: wallet_transactions is append-only in the database too (PostgreSQL).

A transaction row is never deleted, and what it says about money never changes: wallet,
type, amount, fee, currency, reference, counterparties, the transaction it corrects, its
idempotency key, when it was made. The only change allowed is a pending transaction
settling once (to posted, failed or cancelled, with its posting time); corrections are new
rows. The application keeps the same rules on every backend; on PostgreSQL the database
refuses anything else too, whoever connects.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIXED_COLUMNS = (
    "id",
    "reference",
    "wallet_id",
    "type",
    "amount",
    "fee",
    "currency",
    "description",
    "merchant_id",
    "payment_method_id",
    "related_transaction_id",
    "idempotency_key",
    "created_at",
)
"""What a transaction says about money: never changed once written."""

CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FIXED_COLUMNS)

APPEND_ONLY_FUNCTION = f"""
CREATE FUNCTION wallet_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'wallet_transactions is append-only: DELETE refused'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Correct a transaction with a new one (refund, reversal, adjustment).';
    END IF;
    IF {CHANGED} THEN
        RAISE EXCEPTION 'wallet_transactions is append-only: % of % refused',
            'UPDATE', OLD.reference
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Correct a transaction with a new one (refund, reversal, adjustment).';
    END IF;
    IF OLD.status <> 'pending' AND (
        NEW.status IS DISTINCT FROM OLD.status OR NEW.posted_at IS DISTINCT FROM OLD.posted_at
    ) THEN
        RAISE EXCEPTION 'wallet_transactions: % is % and cannot change', OLD.reference, OLD.status
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER wallet_transactions_append_only
BEFORE UPDATE OR DELETE ON wallet_transactions
FOR EACH ROW EXECUTE FUNCTION wallet_transactions_append_only()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER wallet_transactions_append_only ON wallet_transactions")
        op.execute("DROP FUNCTION wallet_transactions_append_only()")
