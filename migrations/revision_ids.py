"""Revision ids in the project's sequence (0001, 0002, ...) instead of Alembic's random hex.

The id is also the file name's prefix (alembic.ini `file_template = %(rev)s_%(slug)s`), so the
versions folder reads in order. env.py numbers every `alembic revision` with `number_revisions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from alembic.operations.ops import MigrationScript

ID_DIGITS = 4
ALEMBIC_RANDOM_ID = re.compile(r"[0-9a-f]{12}")
"""What `alembic.util.rev_id()` makes; any other id was given by hand (`--rev-id`) and stays."""


def next_revision_id(existing: Iterable[str]) -> str:
    """One more than the highest numbered revision, zero-padded like 0001-0008."""
    numbers = [int(rev) for rev in existing if rev.isdigit()]
    return f"{max(numbers, default=0) + 1:0{ID_DIGITS}d}"


def number_revisions(directives: Iterable[MigrationScript], existing: Iterable[str]) -> None:
    """Give each new revision whose id Alembic made up the next number in the sequence."""
    taken = list(existing)
    for script in directives:
        if ALEMBIC_RANDOM_ID.fullmatch(script.rev_id or ""):
            script.rev_id = next_revision_id(taken)
            taken.append(script.rev_id)
