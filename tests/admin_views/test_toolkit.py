"""The pieces every screen shares: labels, formatting, date-range edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.shared.formatting import badge, masked_card, money, relative
from admin_views.shared.labels import humanize
from tests import rows, staff
from tests.admin_views.screens import listing


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("kyc_status", "KYC status"),
        ("created_at", "Created"),
        ("is_active", "Active"),
        ("ai_model", "AI model"),
        ("ip_address", "IP address"),
        ("last_four", "Card number"),
        ("rollout_percentage", "Rollout %"),
    ],
)
def test_labels_read_like_words(name: str, label: str) -> None:
    assert humanize(name) == label


def test_money_badges_cards_and_times() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    assert money(Decimal("-1234.5"), "USD") == "-1,234.50 USD"
    assert money(Decimal("0"), None) == "0.00"
    assert str(badge("in_progress")) == '<span class="badge bg-yellow-lt">in progress</span>'
    assert str(badge("<script>")) == '<span class="badge bg-secondary-lt">&lt;script&gt;</span>'
    assert masked_card("4242") == "•••• 4242"
    assert relative(now - timedelta(hours=3), now) == "3 hours ago"
    assert relative(now + timedelta(days=1), now) == "in 1 day"
    assert relative(now - timedelta(seconds=20), now) == "just now"


async def test_a_date_range_includes_both_days_in_utc(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    inside = rows.user_row(created_at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
    first = rows.user_row(created_at=datetime(2026, 3, 9, 0, 0, 0, tzinfo=UTC))
    after = rows.user_row(created_at=datetime(2026, 3, 11, 0, 0, 0, tzinfo=UTC))
    before = rows.user_row(created_at=datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC))
    for row in (inside, first, after, before):
        await rows.insert(db, "users", row)
    await db.commit()

    total, ids = await listing(
        client, "users", created_at_from="2026-03-09", created_at_to="2026-03-10"
    )

    assert total == 2
    assert set(ids) == {str(inside["id"]), str(first["id"])}
