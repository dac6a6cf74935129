"""Who is listening for flag changes on this worker, and telling them when answers change.

OFREP event streams (ADR-0008) carry notifications, never flags: an open stream learns that
its environment's answers changed and the client re-fetches them. Each environment's
answers have a version, `"{digest}.{phase}"`: a digest of every definition served there and
how many of its scheduled starts and ends have passed. The digest leaves out the global
revision, which moves on a change to any environment, so a stream hears only of changes to
its own; being computed from the definitions, it is the same on every worker and server
holding them, and a client reconnecting with any other `Last-Event-ID` is told at once.

A listener is a flag and an `asyncio.Event`, never a queue: however many changes happen
while a client is slow, it is owed one notification, of the latest version (coalesced).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from flags.snapshot import Served, Snapshot


def content_digest(served: Served) -> str:
    """A digest of what `served` answers with, without the global revision."""
    definitions = repr((served.flags, sorted(served.broken.items())))
    return hashlib.blake2b(definitions.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Version:
    """One environment's answers as of a moment: what a notification carries."""

    id: str
    """The SSE event id and the `etag` of the `refetchEvaluation` message."""
    changed_at: int
    """Unix seconds when this worker first served them: the message's `lastModified`."""
    event: bytes = field(init=False, repr=False)
    """The SSE event telling of it, encoded once for every stream it goes to."""

    def __post_init__(self) -> None:
        data = orjson.dumps(
            {"type": "refetchEvaluation", "etag": self.id, "lastModified": self.changed_at}
        )
        event = b"id: %s\nevent: message\ndata: %s\n\n" % (self.id.encode(), data)
        object.__setattr__(self, "event", event)


@dataclass(eq=False, slots=True)
class Listener:
    environment: str
    key_hash: str | None
    """The app key the stream was opened with; None while no key is needed."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    """Set when the client went away or the server is stopping."""

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class StreamHub:
    """The open event streams of one worker, by environment."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Streams one worker holds at most; further ones are refused (503) until some
        close, so a flood of clients cannot take the worker's memory."""
        self.listeners: dict[str, set[Listener]] = {}
        self.versions: dict[str, Version] = {}
        self._digests: dict[str, tuple[Served, str]] = {}
        self._snapshot: Snapshot | None = None
        self._open = 0
        self.stopping = False
        """Set once the server begins to stop: no stream opens after that."""
        _HUBS.add(self)

    @property
    def open(self) -> int:
        return self._open

    def version(self, environment: str) -> Version | None:
        return self.versions.get(environment)

    def listen(self, environment: str, key_hash: str | None) -> Listener | None:
        """A new listener, or None when the worker holds as many streams as it may or is
        stopping."""
        if self._open >= self.limit or self.stopping:
            return None
        listener = Listener(environment, key_hash)
        self.listeners.setdefault(environment, set()).add(listener)
        self._open += 1
        return listener

    def leave(self, listener: Listener) -> None:
        found = self.listeners.get(listener.environment)
        if found is not None and listener in found:
            found.discard(listener)
            self._open -= 1

    def publish(self, snapshot: Snapshot, now: datetime) -> list[str]:
        """Work out each environment's version as of `now` and wake the listeners of those
        whose version moved; returns those environments. Called after every refresh and
        on every tick of the refresh loop, so a schedule passing is heard within a tick."""
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._end_unauthorised(snapshot)
        moved = []
        for key, served in snapshot.environments.items():
            known = self._digests.get(key)
            if known is None or known[0] is not served:
                known = (served, content_digest(served))
                self._digests[key] = known
            version_id = f"{known[1]}.{served.schedule_phase(now)}"
            current = self.versions.get(key)
            if current is not None and current.id == version_id:
                continue
            self.versions[key] = Version(version_id, int(time.time()))
            if current is not None:
                moved.append(key)
                for listener in self.listeners.get(key, ()):
                    listener.wake.set()
        return moved

    def _end_unauthorised(self, snapshot: Snapshot) -> None:
        """A stream lasts as long as its key works: one opened with a key revoked since, or
        without a key when one is now needed, ends (the client's reconnect gets its 401)."""
        for listeners in self.listeners.values():
            for listener in listeners:
                if not snapshot.keys_required:
                    continue
                reads = snapshot.client_keys.get(listener.key_hash or "")
                if reads is None or reads.environment != listener.environment:
                    listener.close()

    def close_all(self) -> None:
        """Ends every stream (the server is stopping); clients reconnect elsewhere. Once:
        the server asks again for each of its connections."""
        if self.stopping:
            return
        self.stopping = True
        for listeners in self.listeners.values():
            for listener in listeners:
                listener.close()


_HUBS: weakref.WeakSet[StreamHub] = weakref.WeakSet()


def close_every_stream() -> None:
    """Called when the server starts a graceful shutdown: a stream never finishes by itself
    and would hold the shutdown for its whole grace period, while requests finish."""
    for hub in list(_HUBS):
        hub.close_all()
