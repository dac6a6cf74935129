"""Segments: audiences that flags include or exclude, defined once and shared."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONDocument, StringList, Timestamps, UUIDKey, check


class FlagSegment(UUIDKey, Timestamps, Base):
    """Who is in an audience: user ids always in (allow-list) or never in (deny-list, which
    wins), else everyone matching all of its attribute rules; without rules, only the
    allow-list. Flags' states name it by its key, which never changes."""

    __tablename__ = "flag_segments"
    __table_args__ = (
        check(
            "key = lower(key) AND length(key) > 0",
            "key_slug",
            fields=("key",),
            message="Use lower-case letters, digits and dashes.",
        ),
        check(
            "revision >= 1",
            "revision_positive",
            fields=("revision",),
            message="Revision starts at 1.",
            minimum=1,
        ),
    )

    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument(), default=list)
    """Attribute rules as a flag's: [{"attribute", "operator", "values"}], all must match."""
    allow_list: Mapped[list[str]] = mapped_column(StringList(), default=list)
    """User ids always in the segment (after the deny-list)."""
    deny_list: Mapped[list[str]] = mapped_column(StringList(), default=list)
    """User ids never in the segment."""
    revision: Mapped[int] = mapped_column(default=1)
    """Bumped on every change, with the revision of every flag state using it."""

    def __str__(self) -> str:
        return self.name
