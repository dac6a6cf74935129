"""The `ruff` post-write hook type: new revisions come out formatted and lint-clean.

alembic.ini runs it twice (`format`, then `check --fix`), so a generated revision passes
tests/test_code_style.py as written. It runs ruff through this interpreter (`python -m ruff`),
so the virtualenv's ruff is used whether or not `.venv/bin` is on PATH. ruff is a test extra:
without it the revision is still written, unformatted, and a warning says so, because a
missing formatter should not cost a developer the migration Alembic just compared.
"""

from __future__ import annotations

import importlib.util
import logging
import shlex
import subprocess
import sys
from collections.abc import Mapping

from alembic.script import write_hooks

log = logging.getLogger(__name__)


@write_hooks.register("ruff")
def run_ruff(path: str, options: Mapping[str, str]) -> None:
    if importlib.util.find_spec("ruff") is None:
        log.warning(
            "ruff is not installed (pip install -e '.[test]'): %s is left unformatted", path
        )
        return
    arguments = shlex.split(options.get("options", ""))
    subprocess.run([sys.executable, "-m", "ruff", *arguments, path], check=False)  # noqa: S603
