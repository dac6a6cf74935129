"""Each answer a flag can give, rendered for the wire once per environment's snapshot.

The engine hands back one of a flag's fixed `Evaluation` objects, so a door can render each
of them once and reuse the result on every request until the snapshot (or its staleness)
changes: a request then costs the evaluation itself, not building and encoding JSON. A
rendering is kept as encoded JSON (an `orjson.Fragment`), which `orjson.dumps` copies into
the answer as it is. The renderings are kept on the environment's `Served`, so they go with
it and keys of several environments do not evict each other's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from flags.engine import Evaluation
from flags.snapshot import Served

Render = Callable[[Evaluation, Served, bool], Any]
"""An answer as JSON-ready values: the rendering is encoded once, when first asked."""


class RenderedOutcomes:
    def __init__(self, render: Render) -> None:
        self._render = render

    def of(self, served: Served, stale: bool) -> Callable[[Evaluation], orjson.Fragment]:
        """A function from an evaluation to its encoded rendering, valid for these flags."""
        rendered = served.memo.get((self, stale))
        if rendered is None:
            rendered = served.memo[(self, stale)] = {}
        render = self._render

        def rendering(evaluation: Evaluation) -> Any:
            try:
                return rendered[evaluation]
            except KeyError:
                made = rendered[evaluation] = orjson.Fragment(
                    orjson.dumps(render(evaluation, served, stale))
                )
                return made

        return rendering
