"""SQLAdmin's internals stay behind one door (admin_views/sqladmin_door.py).

An SQLAdmin release that renames, removes or reshapes a private name the door relies on
fails here, naming it, instead of somewhere in a screen; and a private SQLAdmin name used
anywhere else in the project fails here too, naming the file and line.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqladmin
from sqladmin import Admin, BaseView, ModelView, expose
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from admin_views import sqladmin_door
from admin_views.sqladmin_door import RELIED_ON, Relied
from models import Merchant

ROOT = Path(__file__).resolve().parent.parent
DOOR = Path(sqladmin_door.__file__).resolve().relative_to(ROOT)
TEMPLATES = ROOT / "admin_views" / "templates"
TEMPLATE_PRIVATE = re.compile(r"\b(model_view|admin)\.(_[a-z]\w*)")


class Probe(ModelView, model=Merchant):
    """Stock SQLAdmin's view of a table, as SQLAdmin builds it."""


class ProbePage(BaseView):
    @expose("/probe/{pk}", identity="probe")
    async def probe(self, request: Request) -> Response:
        return Response()


@cache
def stock() -> tuple[Admin, ModelView]:
    admin = Admin(Starlette(), engine=create_async_engine("sqlite+aiosqlite://"))
    admin.add_view(Probe)
    admin.add_view(ProbePage)
    return admin, admin._find_model_view("merchant")


def instance_of(owner: type) -> object:
    admin, view = stock()
    return admin if issubclass(Admin, owner) and not issubclass(ModelView, owner) else view


@pytest.mark.parametrize("relied", RELIED_ON, ids=lambda r: f"{r.owner.__name__}.{r.name}")
def test_each_private_name_the_door_relies_on_is_still_there(relied: Relied) -> None:
    version = sqladmin.__dict__.get("__version__", "this release")
    where = f"SQLAdmin {version} no longer has {relied.owner.__name__}.{relied.name}"
    if relied.instance_attribute:
        assert hasattr(instance_of(relied.owner), relied.name), (
            f"{where}: admin_views/sqladmin_door.py reads it; find what replaced it."
        )
        return
    member = getattr(relied.owner, relied.name, None)
    assert callable(member), f"{where}: admin_views/sqladmin_door.py calls or rewrites it."
    parameters = [
        name for name in inspect.signature(member).parameters if name not in ("self", "cls")
    ]
    assert parameters[: len(relied.parameters or ())] == list(relied.parameters or ()), (
        f"SQLAdmin changed {relied.owner.__name__}.{relied.name}'s parameters to {parameters}; "
        f"admin_views/sqladmin_door.py passes {list(relied.parameters or ())}."
    )


def test_the_logger_sqladmin_swallows_errors_to_is_the_one_watched() -> None:
    source = inspect.getsource(sqladmin.application.Admin.create)
    assert "logger.exception" in source, (
        "SQLAdmin's create no longer logs the exception it answers with; "
        "core.outage's watch on that logger (sqladmin_door.SWALLOWING_LOGGER) needs a new hook."
    )
    assert sqladmin_door.SWALLOWING_LOGGER == "sqladmin.application"


def test_a_pages_route_is_named_as_the_door_says() -> None:
    admin, _ = stock()
    names = {getattr(route, "name", None) for route in admin.admin.routes}
    assert sqladmin_door.exposed_route("probe").removeprefix("admin:") in names, (
        "SQLAdmin names an exposed page's route differently now: "
        "sqladmin_door.exposed_route must follow it."
    )


def test_the_record_pages_route_is_named_as_the_door_says() -> None:
    admin, _ = stock()
    named = {getattr(route, "name", None): route for route in admin.admin.routes}
    assert sqladmin_door.RECORD_PAGE_ROUTE in named, (
        "SQLAdmin names its record page's route differently now: "
        "sqladmin_door.RECORD_PAGE_ROUTE must follow it (record pages would lose their panels)."
    )
    assert "/details/" in named[sqladmin_door.RECORD_PAGE_ROUTE].path


def test_the_private_names_our_templates_use_are_still_there() -> None:
    admin, view = stock()
    missing = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for owner, name in TEMPLATE_PRIVATE.findall(template.read_text()):
            if not hasattr(admin if owner == "admin" else view, name):
                missing.append(f"{template.relative_to(ROOT)}: {owner}.{name}")
    assert not missing, "SQLAdmin no longer has what these templates use:\n" + "\n".join(missing)


@cache
def sqladmin_private_names() -> frozenset[str]:
    """Every private name SQLAdmin defines: modules, functions, methods, attributes."""
    names: set[str] = set()
    package = Path(sqladmin.__file__).parent
    for path in package.rglob("*.py"):
        names.add(path.stem)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Name):
                names.add(node.id)
    return frozenset(name for name in names if private(name))


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


SKIPPED_FOLDERS = frozenset({".venv", ".git", "test-artifacts", "node_modules"})


def project_modules() -> list[Path]:
    """Every Python file of the project but the door and this test."""
    door_itself = {DOOR, Path(__file__).resolve().relative_to(ROOT)}
    found = (path.relative_to(ROOT) for path in ROOT.rglob("*.py"))
    return [
        path
        for path in found
        if path not in door_itself and not SKIPPED_FOLDERS.intersection(path.parts)
    ]


def private_uses(path: Path, sqladmins: frozenset[str], root: Path = ROOT) -> Iterator[str]:
    tree = ast.parse((root / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqladmin"):
            parts = [*(node.module or "").split("."), *(alias.name for alias in node.names)]
            for part in parts:
                if private(part):
                    yield f"{path}:{node.lineno} imports sqladmin's {part}"
        elif isinstance(node, ast.Attribute) and node.attr in sqladmins:
            yield f"{path}:{node.lineno} reads .{node.attr}"
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                defined = isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef))
                if defined and member.name in sqladmins:
                    yield f"{path}:{member.lineno} defines {member.name}, a name SQLAdmin uses"


def test_no_module_outside_the_door_names_a_private_sqladmin_attribute() -> None:
    sqladmins = sqladmin_private_names() - {
        name for name in sqladmin_private_names() if name in PYTHON_PRIVATE
    }
    found = [use for path in project_modules() for use in private_uses(path, sqladmins)]
    assert not found, (
        "Private SQLAdmin names belong in admin_views/sqladmin_door.py (with a Relied entry), "
        "the rest of the code calls the door:\n" + "\n".join(found)
    )


PYTHON_PRIVATE = frozenset({"_fields", "_asdict", "_replace", "_make", "_field_defaults"})
"""Names Python's own types define (namedtuples): a use of these is not SQLAdmin's."""


def test_the_door_check_sees_a_private_name(tmp_path: Path) -> None:
    offending = "def link(view, request, obj):\n    return view._build_url_for('x', request, obj)\n"
    (tmp_path / "probe.py").write_text(offending)
    found = list(private_uses(Path("probe.py"), sqladmin_private_names(), tmp_path))
    assert found == ["probe.py:2 reads ._build_url_for"]
