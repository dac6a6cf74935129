"""App keys for the flag endpoints: once any is issued, a request must bring one."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from core.settings import Settings
from flags.client_keys import key_hash, open_without_key
from flags.snapshot import Snapshot


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def allowed(request: Request, snapshot: Snapshot, settings: Settings) -> bool:
    """Until a key is issued the settings decide (`open_without_key`); then the key's hash
    must be among the working ones, and the worker notes its use (`flags.key_uses`)."""
    if not snapshot.keys_required:
        return open_without_key(settings)
    key = presented_key(request)
    if not key:
        return False
    digest = key_hash(key)
    if not any(hmac.compare_digest(digest, known) for known in snapshot.client_keys):
        return False
    request.app.state.flags.key_uses.seen(digest)
    return True
