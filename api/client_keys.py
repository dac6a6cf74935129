"""App keys for the flag endpoints: when any are configured, a request must bring one."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from flags.client_keys import key_hash
from flags.snapshot import Snapshot


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def allowed(request: Request, snapshot: Snapshot) -> bool:
    """Open until a key is issued; then the key's hash must be among the working ones."""
    if not snapshot.keys_required:
        return True
    key = presented_key(request)
    if not key:
        return False
    digest = key_hash(key)
    return any(hmac.compare_digest(digest, known) for known in snapshot.client_keys)
