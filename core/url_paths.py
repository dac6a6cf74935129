"""Reverse routing at the cost of a dictionary lookup.

Starlette's `url_path_for` tries every route in turn, and through a mount every route of the
mounted app, raising and catching an exception at each that does not match: an admin page
builds ~140 links (menu, filters, rows), each walking ~50 routes, and that was the largest
single cost of a page. A route is chosen by its name and the names of its parameters alone,
so the path for one (name, parameter names) is worked out once, with placeholders, and then
each call fills the values in, as the string convertor would.

The path also makes its absolute URL (what `request.url_for` answers) by joining strings,
where Starlette's builds a URL from parts and unsplits it again: the same text.

Values the string convertor would refuse (empty, or holding `/`; a `{path:path}` takes a
`/` inside), and routes whose parameters are not plain strings (`{n:int}`), take Starlette's
own path, errors included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import URL, URLPath
from starlette.routing import NoMatchFound, Router

_UNCACHEABLE = object()
Template = tuple[str, str, str, tuple[str, ...], frozenset[str]]
"""(path with placeholders, protocol, host, parameter names, those that take a `/`)."""


_SCHEMES = {("http", True): "https", ("http", False): "http"}


class _Path(URLPath):
    def make_absolute_url(self, base_url: str | URL) -> URL:
        if self.host or self.protocol not in ("http", "") or not isinstance(base_url, URL):
            return super().make_absolute_url(base_url)
        scheme = _SCHEMES[self.protocol, base_url.is_secure] if self.protocol else base_url.scheme
        root = base_url.path.rstrip("/")
        return URL(f"{scheme}://{base_url.netloc}{root}{self}")


def _placeholder(name: str) -> str:
    return f"\x00{name}\x00"


def remember(router: Router) -> None:
    """Make `router.url_path_for` (which `request.url_for` calls) remember each route."""
    walk: Callable[..., URLPath] = router.url_path_for
    templates: dict[tuple[str, frozenset[str]], Template | object] = {}

    def template(name: str, params: frozenset[str]) -> Template | object:
        try:
            found = walk(name, **{key: _placeholder(key) for key in params})
        except NoMatchFound:
            raise
        except Exception:  # a convertor that takes no text (int, float): walk each time
            return _UNCACHEABLE
        path = str(found)
        if any(path.count(_placeholder(key)) != 1 for key in params):
            return _UNCACHEABLE
        return path, found.protocol, found.host, tuple(params), slashed(name, params, path)

    def slashed(name: str, params: frozenset[str], path: str) -> frozenset[str]:
        """The parameters a `/` may be inside (`{path:path}`, such as a static file's)."""
        taking = set()
        for key in params:
            given = {other: _placeholder(other) for other in params}
            given[key] = f"{_placeholder(key)}/x"
            try:
                found = str(walk(name, **given))
            except Exception:  # noqa: S112 - the string convertor refuses a `/`
                continue
            if found == path.replace(_placeholder(key), f"{_placeholder(key)}/x"):
                taking.add(key)
        return frozenset(taking)

    def url_path_for(name: str, /, **path_params: Any) -> URLPath:
        key = (name, frozenset(path_params))
        known = templates.get(key)
        if known is None:
            known = templates[key] = template(name, key[1])
        if known is _UNCACHEABLE:
            return walk(name, **path_params)
        path, protocol, host, names, slashes = known  # type: ignore[misc]
        for param in names:
            value = str(path_params[param])
            refused = "/" in value and (param not in slashes or value.startswith("/"))
            if not value or refused or "\x00" in value:
                return walk(name, **path_params)
            path = path.replace(_placeholder(param), value)
        return _Path(path, protocol, host)  # type: ignore[arg-type]

    router.url_path_for = url_path_for  # type: ignore[method-assign]
