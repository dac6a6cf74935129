"""A screen that declares no filters gets them from its column types."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from admin_views.shared import filters
from models import Role, User
from tests import staff


def test_enumerations_flags_and_timestamps_become_filters() -> None:
    by_kind = {(type(f).__name__, f.parameter_name) for f in filters.from_columns(User)}

    assert ("ChoiceFilter", "status") in by_kind
    assert ("ChoiceFilter", "kyc_status") in by_kind
    assert ("YesNoFilter", "email_verified") in by_kind
    assert ("DateRangeFilter", "created_at") in by_kind
    assert ("DateRangeFilter", "last_active_at") in by_kind
    texts = {name for kind, name in by_kind if kind == "ChoiceFilter"}
    assert "email" not in texts


async def test_a_screen_without_declared_filters_offers_them(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    timestamps = [c.key for c in sa.inspect(Role).columns if c.key.endswith("_at")]

    page = (await client.get("/admin/roles/list")).text

    assert timestamps
    for key in timestamps:
        assert f'name="{key}_from"' in page, f"roles list filters by {key}"
