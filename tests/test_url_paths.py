"""Links are built by a remembered route (core/url_paths.py): every named route of the app
answers exactly what Starlette's own walk over the routes answers, refusals included."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.routing import BaseRoute, Mount, NoMatchFound, Router

VALUES = [
    "users",
    str(uuid.uuid4()),
    "a b",
    "ünï",
    "x%2Fy",
    "back\\slash",
    "7",
    "",
    "a/b",
    "/lead",
    "css/app.min.css",
    "a//b",
    "end/",
]
"""Ids and names as links carry them, and values a string parameter refuses."""


def named_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    for route in routes:
        name = getattr(route, "name", None)
        params = list(getattr(route, "param_convertors", {}))
        if isinstance(route, Mount):
            inner = f"{prefix}{name}:" if name else prefix
            for child, child_params in named_routes(route.routes, inner):
                yield child, params + child_params
        elif name:
            yield f"{prefix}{name}", params


def starlettes(app: Starlette, name: str, params: dict[str, Any]) -> Any:
    """Starlette's own answer: the class's method, not the one remembered on the router."""
    return Router.url_path_for(app.router, name, **params)


def outcome(build: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        path = build()
    except Exception as error:
        return ("refused", type(error))
    return (str(path), path.protocol, path.host)


def test_every_route_answers_as_starlette_does(app: Starlette) -> None:
    routes = list(named_routes(app.router.routes))
    assert len(routes) > 50
    refused = 0
    for name, params in routes:
        for value in VALUES:
            given = dict.fromkeys(params, value)
            theirs = outcome(lambda: starlettes(app, name, given))  # noqa: B023
            assert outcome(lambda: app.router.url_path_for(name, **given)) == theirs, name  # noqa: B023
            refused += theirs[0] == "refused"
    assert refused, "some values are refused, and refused alike"


@pytest.mark.parametrize(
    "base",
    ["http://testserver/", "https://admin.example.com/", "http://127.0.0.1:8000/root/", "wss://x/"],
)
def test_absolute_urls_read_as_starlettes(app: Starlette, base: str) -> None:
    """What `request.url_for` answers: the remembered path joined to the request's base."""
    base_url = URL(base)
    built = 0
    for name, params in named_routes(app.router.routes):
        given = dict.fromkeys(params, VALUES[1])
        try:
            theirs = starlettes(app, name, given).make_absolute_url(base_url)
        except NoMatchFound:
            continue
        ours = app.router.url_path_for(name, **given).make_absolute_url(base_url)
        assert str(ours) == str(theirs), name
        built += 1
    assert built > 20


def test_an_unknown_name_or_parameter_is_refused_as_starlette_does(app: Starlette) -> None:
    for name, params in [("admin:nothing", {}), ("admin:list", {"identity": "users", "x": "1"})]:
        with pytest.raises(NoMatchFound):
            starlettes(app, name, params)
        with pytest.raises(NoMatchFound):
            app.router.url_path_for(name, **params)
