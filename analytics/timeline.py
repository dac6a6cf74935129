"""A customer's story, newest first: their transactions, tickets and messages, and what staff
did to their account, wallets and tickets (from the audit trail).

Paged by key, never by offset: every kind is ordered by `(created_at, id)`, and a page asks
each kind for the rows just older than the last one shown, at most one page plus one, from
an index on the customer's id, their wallets' or their tickets'. The kinds are merged in
memory, so a page costs the same however long the story: a customer with 10,000
transactions opens as fast as one with ten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models.ops import AuditLog
from models.payments import WalletTransaction
from models.support import SupportTicket, TicketMessage

PAGE_SIZE = 25
ACCOUNT_TABLE = "users"
STATUS_FIELDS = ("status", "kyc_status")
"""A change to the customer's record that touches these is a status change; the rest of
what staff did is a staff action."""


class Kind(StrEnum):
    TRANSACTIONS = "transactions"
    TICKETS = "tickets"
    """Tickets and the messages on them."""
    STATUS = "status"
    """Status and KYC changes of the account, from the audit trail."""
    STAFF = "staff"
    """Every other audit entry about the customer, their wallets and their tickets."""


@dataclass(frozen=True, order=True)
class Key:
    """Where an event sits: newer events have larger keys; the id breaks ties."""

    at: datetime
    id: uuid.UUID


@dataclass(frozen=True)
class Event:
    kind: Kind
    key: Key
    row: Any
    """A WalletTransaction, SupportTicket, TicketMessage or AuditLog."""
    corrections: list[WalletTransaction] = field(default_factory=list)
    """For a transaction: the refunds and reversals that correct it."""


@dataclass(frozen=True)
class Page:
    events: list[Event]
    older: Key | None
    """The key to continue from; None when this page reaches the first event."""


def _older_than(created: Any, pk: Any, key: Key | None) -> sa.ColumnElement[bool]:
    """Rows before `key` in (created_at, id) order. The plain `created <= at` lets an index
    on (..., created_at) bound the scan; the rest breaks ties on the id."""
    if key is None:
        return sa.true()
    return sa.and_(created <= key.at, sa.or_(created < key.at, pk < key.id))


def _newest(created: Any, pk: Any) -> tuple[Any, Any]:
    return created.desc(), pk.desc()


async def _transactions(
    db: AsyncSession, wallet_ids: list[uuid.UUID], key: Key | None, limit: int
) -> list[WalletTransaction]:
    if not wallet_ids:
        return []
    txn = WalletTransaction
    # One index range per wallet (wallet_id, created_at), each cut at `limit`, then merged.
    per_wallet = [
        sa.select(txn.id, txn.created_at)
        .where(txn.wallet_id == wallet_id, _older_than(txn.created_at, txn.id, key))
        .order_by(*_newest(txn.created_at, txn.id))
        .limit(limit)
        .subquery()
        for wallet_id in wallet_ids
    ]
    merged = sa.union_all(*(sa.select(part.c.id, part.c.created_at) for part in per_wallet))
    merged_rows = merged.subquery()
    ids = list(
        await db.scalars(
            sa.select(merged_rows.c.id)
            .order_by(*_newest(merged_rows.c.created_at, merged_rows.c.id))
            .limit(limit)
        )
    )
    if not ids:
        return []
    return list(
        await db.scalars(
            sa.select(txn)
            .where(txn.id.in_(ids))
            .options(joinedload(txn.merchant), joinedload(txn.related_transaction))
        )
    )


async def _corrections(
    db: AsyncSession, originals: list[uuid.UUID]
) -> dict[uuid.UUID, list[WalletTransaction]]:
    """The refunds and reversals of these transactions, by the transaction they correct."""
    found: dict[uuid.UUID, list[WalletTransaction]] = {}
    if not originals:
        return found
    txn = WalletTransaction
    stmt = (
        sa.select(txn)
        .where(txn.related_transaction_id.in_(originals))
        .order_by(txn.created_at, txn.id)
    )
    for correction in await db.scalars(stmt):
        found.setdefault(correction.related_transaction_id, []).append(correction)
    return found


async def _tickets(
    db: AsyncSession, user_id: uuid.UUID, key: Key | None, limit: int
) -> list[SupportTicket]:
    ticket = SupportTicket
    stmt = (
        sa.select(ticket)
        .where(ticket.user_id == user_id, _older_than(ticket.created_at, ticket.id, key))
        .order_by(*_newest(ticket.created_at, ticket.id))
        .limit(limit)
    )
    return list(await db.scalars(stmt))


async def _messages(
    db: AsyncSession, user_id: uuid.UUID, key: Key | None, limit: int
) -> list[TicketMessage]:
    message = TicketMessage
    stmt = (
        sa.select(message)
        .join(SupportTicket, SupportTicket.id == message.ticket_id)
        .where(
            SupportTicket.user_id == user_id,
            _older_than(message.created_at, message.id, key),
        )
        .order_by(*_newest(message.created_at, message.id))
        .limit(limit)
        .options(joinedload(message.ticket), joinedload(message.author_admin))
    )
    return list(await db.scalars(stmt))


def names_status(entry: AuditLog) -> bool:
    """Whether an audit entry is a status or KYC change of the customer's account."""
    after = entry.after or {}
    return entry.entity_type == ACCOUNT_TABLE and any(name in after for name in STATUS_FIELDS)


def _status_change() -> sa.ColumnElement[bool]:
    """`names_status` in SQL: the JSON's text names one of the fields as a key (a key is
    followed by a colon, which no string value can be)."""
    after = sa.func.coalesce(sa.cast(AuditLog.after, sa.Text), "")
    return sa.and_(
        AuditLog.entity_type == ACCOUNT_TABLE,
        sa.or_(*(after.like(f'%"{name}":%') for name in STATUS_FIELDS)),
    )


async def _audit(
    db: AsyncSession,
    user_id: uuid.UUID,
    wallet_ids: list[uuid.UUID],
    kinds: frozenset[Kind],
    key: Key | None,
    limit: int,
) -> list[AuditLog]:
    ticket_ids = list(
        await db.scalars(sa.select(SupportTicket.id).where(SupportTicket.user_id == user_id))
    )
    about = {ACCOUNT_TABLE: [user_id], "wallets": wallet_ids, "support_tickets": ticket_ids}
    # Each (entity_type, entity_id) pair is answered by the trail's index on the two.
    entity = sa.or_(
        *(
            sa.and_(AuditLog.entity_type == table, AuditLog.entity_id.in_([str(i) for i in ids]))
            for table, ids in about.items()
            if ids
        )
    )
    stmt = sa.select(AuditLog).where(entity, _older_than(AuditLog.created_at, AuditLog.id, key))
    if Kind.STATUS not in kinds:
        stmt = stmt.where(sa.not_(_status_change()))
    elif Kind.STAFF not in kinds:
        stmt = stmt.where(_status_change())
    stmt = stmt.order_by(*_newest(AuditLog.created_at, AuditLog.id)).limit(limit)
    return list(await db.scalars(stmt))


def _event(kind: Kind, row: Any) -> Event:
    return Event(kind, Key(row.created_at, row.id), row)


async def page(
    db: AsyncSession,
    user_id: uuid.UUID,
    wallet_ids: list[uuid.UUID],
    kinds: frozenset[Kind],
    older_than: Key | None = None,
    size: int = PAGE_SIZE,
    *,
    with_messages: bool = True,
) -> Page:
    """One page of the story: `size` events of `kinds` older than `older_than` (newest
    first), from at most `size + 1` rows of each kind; tickets without their messages when
    not `with_messages`."""
    limit = size + 1
    events: list[Event] = []
    if Kind.TRANSACTIONS in kinds:
        transactions = await _transactions(db, wallet_ids, older_than, limit)
        events += [_event(Kind.TRANSACTIONS, txn) for txn in transactions]
    if Kind.TICKETS in kinds:
        events += [_event(Kind.TICKETS, t) for t in await _tickets(db, user_id, older_than, limit)]
        if with_messages:
            messages = await _messages(db, user_id, older_than, limit)
            events += [_event(Kind.TICKETS, message) for message in messages]
    if kinds & {Kind.STATUS, Kind.STAFF}:
        for entry in await _audit(db, user_id, wallet_ids, kinds, older_than, limit):
            events.append(_event(Kind.STATUS if names_status(entry) else Kind.STAFF, entry))
    events.sort(key=lambda event: event.key, reverse=True)
    shown, more = events[:size], len(events) > size
    corrections = await _corrections(db, [e.row.id for e in shown if e.kind == Kind.TRANSACTIONS])
    shown = [
        Event(e.kind, e.key, e.row, corrections.get(e.row.id, []))
        if e.kind == Kind.TRANSACTIONS
        else e
        for e in shown
    ]
    return Page(shown, shown[-1].key if more else None)
