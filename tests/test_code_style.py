"""The codebase stays ruff-clean (lint and format), so CI catches style drift too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_finds_nothing() -> None:
    lint = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(RUFF), "check", "--no-cache", str(ROOT)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_ruff_format_is_settled() -> None:
    formatted = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(RUFF), "format", "--check", "--no-cache", str(ROOT)], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
