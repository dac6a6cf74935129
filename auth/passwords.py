"""bcrypt password hashing, run off the event loop, and the staff password policy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 72
"""bcrypt reads at most 72 bytes; longer passwords are refused rather than cut silently."""


class WeakPasswordError(ValueError):
    """The password breaks the policy; the message says which rule."""


def check_password_policy(password: str, *, email: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise WeakPasswordError(f"password is too long: at most {MAX_PASSWORD_BYTES} bytes.")
    if email and password.lower() == email.lower():
        raise WeakPasswordError("password must not be the email address.")
    if len(set(password)) < 4:
        raise WeakPasswordError("password repeats too few characters to be guessed slowly.")


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _verify(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode())
    except ValueError:
        return False


HASHING_NICENESS = 10
"""How much lower than the server's the hashing thread's CPU priority is."""


def _lower_priority() -> None:
    # Best effort: where the OS refuses, hashing still runs, one at a time.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


HASHING = ThreadPoolExecutor(
    max_workers=os.cpu_count() or 1, thread_name_prefix="bcrypt", initializer=_lower_priority
)
"""As many hashing threads per process as cores, at a lower priority. bcrypt at cost 12 takes
~0.25 s of CPU; twenty sign-ins at once on the default pool (up to 12 threads at the loop's
priority) would take every core from the event loops (the flag feed, every page) for
seconds. At a lower priority they take what the loops leave. One thread per process was too
few: the workers share one listening socket and the first to wake accepts every connection
waiting, so most of a burst lands on one worker and queued on its one thread while the other
core idled (20 sign-ins on an idle 2-core server: the last done after 4.3-5.0 s; with two
threads each, 2.9 s, against 2.6 s for the CPU alone; `bench/README.md`, "Load")."""


async def hash_password(password: str, rounds: int) -> str:
    return await asyncio.get_running_loop().run_in_executor(HASHING, _hash, password, rounds)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        HASHING, _verify, password, password_hash
    )


def hash_rounds(password_hash: str) -> int:
    """The cost factor a bcrypt hash was made with (`$2b$12$...` -> 12)."""
    return int(password_hash.split("$")[2])
