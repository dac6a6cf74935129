"""The audit trail's hash chain: each row's hash covers its fields and the previous hash.

Pure functions, so the writer, the demo seeder and `audit verify` agree on one form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first row."""

CHAINED_FIELDS = (
    "sequence",
    "created_at",
    "actor_id",
    "actor_email",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "ip_address",
    "user_agent",
    "request_id",
    "prev_hash",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return str(value)


def canonical_form(entry: Mapping[str, Any]) -> bytes:
    """The chained fields as compact JSON with sorted keys."""
    fields = {name: entry.get(name) for name in CHAINED_FIELDS}
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    ).encode()


def row_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical form, which includes `prev_hash`."""
    return hashlib.sha256(canonical_form(entry)).hexdigest()
