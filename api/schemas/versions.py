"""An app version as the flag doors read it (`flags.engine.parse_version`), as a pattern."""

from __future__ import annotations

_NUMBER = "(0|[1-9][0-9]*)"
_PRE = "(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD = "[0-9a-zA-Z-]+"
VERSION = rf"{_NUMBER}(\.{_NUMBER}(\.{_NUMBER})?)?(-{_PRE}(\.{_PRE})*)?(\+{_BUILD}(\.{_BUILD})*)?"
"""A version as `flags.engine.parse_version` reads it: semver's own grammar with optional
minor and patch."""
VERSION_OR_EMPTY = rf"^(|\s*{VERSION}\s*)$"
"""Surrounding whitespace allowed; empty means "not given"."""
