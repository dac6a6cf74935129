"""App keys for the flag endpoints: once any is issued, a request must bring one, and the
key says which environment's flags it reads."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from core.settings import Settings
from flags.client_keys import key_hash, open_without_key
from flags.snapshot import Served, Snapshot


class NoKeyError(Exception):
    """The request brings no working key, and one is needed (401)."""


class NoEnvironmentError(Exception):
    """Without keys the doors answer for FLAGS_ENVIRONMENT, which names no environment
    (503 until an environment with that key exists)."""


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def serving(request: Request, snapshot: Snapshot, settings: Settings) -> Served:
    """The flags this request is answered from. Until a key is issued the settings decide
    whether anyone is answered (`open_without_key`) and for which environment
    (FLAGS_ENVIRONMENT); then the key's hash must be among the working ones, it reads its
    own environment, and the worker notes its use (`flags.key_uses`). Both are resolved
    when the snapshot is built: here they are looked up."""
    if not snapshot.keys_required:
        if not open_without_key(settings):
            raise NoKeyError
        if snapshot.default is None:
            raise NoEnvironmentError
        return snapshot.default
    key = presented_key(request)
    if not key:
        raise NoKeyError
    digest = key_hash(key)
    for known, served in snapshot.client_keys.items():
        if hmac.compare_digest(digest, known):
            request.app.state.flags.key_uses.seen(digest)
            return served
    raise NoKeyError


def no_environment(snapshot: Snapshot) -> str:
    return (
        f"FLAGS_ENVIRONMENT names no flag environment ({snapshot.default_environment!r}); "
        "add it on the Flag environments screen or issue an app key."
    )
