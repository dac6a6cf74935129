"""Each answer a flag can give, rendered for the wire once per snapshot.

The engine hands back one of a flag's fixed `Evaluation` objects, so a door can render each
of them once and reuse the result on every request until the snapshot (or its staleness)
changes: a request then costs the evaluation itself, not building and encoding JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flags.engine import Evaluation
from flags.snapshot import Snapshot

Render = Callable[[Evaluation, Snapshot, bool], Any]


class RenderedOutcomes:
    def __init__(self, render: Render) -> None:
        self._render = render
        self._for: tuple[Snapshot, bool] | None = None
        self._rendered: dict[Evaluation, Any] = {}

    def of(self, snapshot: Snapshot, stale: bool) -> Callable[[Evaluation], Any]:
        """A function from an evaluation to its rendering, valid for this snapshot."""
        if self._for is None or self._for[0] is not snapshot or self._for[1] != stale:
            self._for, self._rendered = (snapshot, stale), {}
        rendered, render = self._rendered, self._render

        def rendering(evaluation: Evaluation) -> Any:
            try:
                return rendered[evaluation]
            except KeyError:
                made = rendered[evaluation] = render(evaluation, snapshot, stale)
                return made

        return rendering
