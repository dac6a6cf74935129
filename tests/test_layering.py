"""Imports go one way (README, Layout): a package imports only the packages below it, so
the screens never need the JSON API, the API never needs the demo data, and a model never
needs anything but the core."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = frozenset({"core", "models", "audit", "analytics", "flags", "ledger"})
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "models": frozenset({"core"}),
    "audit": frozenset({"core", "models"}),
    "auth": frozenset({"core", "models", "audit"}),
    "analytics": frozenset({"core", "models", "audit"}),
    "flags": frozenset({"core", "models", "audit"}),
    "ledger": frozenset({"core", "models", "audit"}),
    "jobs": DOMAIN,
    "migrations": frozenset({"core", "models"}),
    "demo_data": DOMAIN | {"auth"},
    "admin_views": DOMAIN | {"auth"},
    "api": DOMAIN | {"auth", "admin_views"},
    "cli": DOMAIN | {"auth", "admin_views", "demo_data", "migrations"},
    "app": DOMAIN | {"auth", "admin_views", "api", "jobs"},
}
"""What each package may import of the project's own; `bench` and `tests` may use anything."""


def imported(path: Path) -> set[str]:
    """The project packages a module imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names & set(MAY_IMPORT)


def test_imports_go_one_way() -> None:
    wrong = []
    for package, allowed in MAY_IMPORT.items():
        folder = ROOT / package
        modules = sorted(folder.rglob("*.py")) if folder.is_dir() else [ROOT / f"{package}.py"]
        for module in modules:
            for name in sorted(imported(module) - allowed - {package}):
                wrong.append(f"{module.relative_to(ROOT)} imports {name}")
    assert not wrong, "These imports go against the layering (tests/test_layering.py):\n" + (
        "\n".join(wrong)
    )


def test_every_package_has_its_place() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert packages <= set(MAY_IMPORT), f"Say what {packages - set(MAY_IMPORT)} may import."
