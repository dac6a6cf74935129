"""Adding a table takes the README's two declarations and its commands, nothing else.

In a copy of the project (the files git knows, new ones included, as a clone would hold
them) the test writes the model and the view exactly as README.md's "Adding a table" shows
them, runs that section's commands on a fresh database of each kind, seeds the demo and
starts the server. Then staff use the new screen over HTTP as its pages lead them: the roles
its view grants get what it grants, and the trail records each write; a role it does not
grant is refused at every door. No file of the copy but the two declarations and the
generated revision changes.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest

from tests.databases import TEST_BCRYPT_ROUNDS, TEST_SECRET_KEY, fresh_database_url
from tests.test_processes import free_port, running, wait_until_up

PROJECT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
SECTION = re.compile(r"^## Adding a table\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
BLOCK = re.compile(r"^( *)```(\w+) ?(\S*)\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
STATED_COUNT = re.compile(r"\*\*(\d+) files, (\d+) lines\*\*")
STATED_LINES = re.compile(r"`([\w/]+\.py)`\s+(\d+)")
EXAMPLE_REVISION = "migrations/versions/*_merchant_memos.py"
CACHES = frozenset({"__pycache__", ".ruff_cache", ".pytest_cache"})
COMMAND_TIMEOUT_S = 60
PASSWORD = "correct horse battery staple"
SLUG = "merchant-memos"
"""The new screen's part of its URLs, from the README's `__tablename__`."""
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ROLES = ("operations", "support", "marketing", "analyst")
"""Granted everything, granted view, granted nothing; the analyst reads the audit trail."""
FIRST_WORD, EDITED_WORD = "Quokka", "Wombat"
"""Words in a memo's text before and after the edit, found by the list's search."""
NOBODY = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Section:
    """README.md's "Adding a table": the files its example writes and the commands it runs."""

    text: str
    files: dict[str, str]
    commands: list[list[str]]


def readme_section() -> Section:
    found = SECTION.search((PROJECT / "README.md").read_text())
    assert found, 'README.md has no "## Adding a table" section'
    files: dict[str, str] = {}
    commands: list[list[str]] = []
    for _indent, language, path, body in BLOCK.findall(found[1]):
        body = textwrap.dedent(body)
        if language == "python" and path:
            files[path] = body
        elif language == "sh":
            commands += [
                shlex.split(line, comments=True)
                for line in body.splitlines()
                if line.startswith(".venv/bin/")
            ]
    return Section(found[1], files, commands)


def test_the_readme_counts_its_example_right() -> None:
    section = readme_section()
    stated = STATED_COUNT.search(section.text)
    lines = {path: len(text.splitlines()) for path, text in section.files.items()}

    assert stated, "the section states its example's size as **N files, M lines**"
    assert (int(stated[1]), int(stated[2])) == (len(lines), sum(lines.values()))
    assert {path: int(n) for path, n in STATED_LINES.findall(section.text)} == lines
    assert sorted(lines) == ["admin_views/merchant_memos.py", "models/merchant_memos.py"]
    assert [command[0] for command in section.commands] == [
        ".venv/bin/swipesavvy-admin",
        ".venv/bin/alembic",
        ".venv/bin/swipesavvy-admin",
    ]


def copy_of_project(target: Path, example: Section) -> Path:
    """The project's files as a clone holds them (what git tracks or would, not what it
    ignores), as they were before the README's example was added: a developer who followed
    it word for word has these files already, and the test adds them again."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        added_by_example = name in example.files or fnmatch(name, EXAMPLE_REVISION)
        if source.is_file() and not added_by_example:  # git lists deleted files too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not CACHES & set(path.relative_to(root).parts)
    }


@dataclass
class Project:
    """A copy of the project and the environment its commands run in."""

    folder: Path
    env: dict[str, str]

    def run(self, command: list[str], stdin: str | None = None) -> str:
        """Run a `.venv/bin/...` command in the copy, as the README writes it; return its output."""
        program = BIN / Path(command[0]).name
        done = subprocess.run(  # noqa: S603 - the venv's own scripts, arguments from the README
            [str(program), *command[1:]],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{shlex.join(command)} failed:\n{output}"
        return output


@pytest.fixture
def project(backend: str, tmp_path: Path) -> Iterator[Project]:
    copy = copy_of_project(tmp_path / "project", readme_section())
    with fresh_database_url(backend, tmp_path, "new_table") as url:
        env = os.environ | {
            "DATABASE_URL": url,
            "SECRET_KEY": str(TEST_SECRET_KEY),
            "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
            # The copy's modules before the installed (editable) project's.
            "PYTHONPATH": str(copy),
        }
        yield Project(copy, env)


def test_a_model_and_a_view_are_all_a_new_screen_takes(project: Project) -> None:
    section = readme_section()
    versions = project.folder / "migrations" / "versions"
    number = max(int(path.name[:4]) for path in versions.glob("[0-9]*.py")) + 1
    revision = f"migrations/versions/{number:04d}_merchant_memos.py"
    before = snapshot(project.folder)

    for path, text in section.files.items():
        (project.folder / path).write_text(text)
    output = "".join(project.run(command) for command in section.commands)
    after = snapshot(project.folder)
    written = [*section.files, revision]
    project.run([".venv/bin/ruff", "check", *written])
    project.run([".venv/bin/ruff", "format", "--check", *written])

    assert sorted(set(after) - set(before)) == sorted(written)
    assert [path for path in before if after[path] != before[path]] == []
    assert 'create_table(\n        "merchant_memos"' in after[revision].decode()
    assert "granted support merchant_memos:view" in output
    assert output.endswith(f"database is at revision {number:04d}\n")

    project.run([".venv/bin/swipesavvy-admin", "seed-demo", "--users", "20"])
    for role in ROLES:
        account = ["--email", f"{role}@example.com", "--role", role, "--password-stdin"]
        project.run([".venv/bin/swipesavvy-admin", "create-admin", *account], f"{PASSWORD}\n")
    port = free_port()
    with running(["serve", "--port", str(port)], project.env, project.folder) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, process)
        with signed_in(base_url, "operations") as operations:
            memo = operations_write_a_memo(operations)
        with signed_in(base_url, "analyst") as analyst:
            assert trail_of(analyst, memo) == [
                ("create", "operations@example.com"),
                ("update", "operations@example.com"),
                ("delete", "operations@example.com"),
            ]
        with signed_in(base_url, "support") as support, signed_in(base_url, "marketing") as other:
            memos = total(page(support, f"/admin/{SLUG}/list"))
            refused_everywhere(other)
            support_only_reads(support)
            assert total(page(support, f"/admin/{SLUG}/list")) == memos


@contextmanager
def signed_in(base_url: str, role: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(
            "/admin/login", data={"username": f"{role}@example.com", "password": PASSWORD}
        )
        assert response.status_code == 302, response.text[:500]
        yield client


def page(client: httpx.Client, url: str, **params: str) -> str:
    response = client.get(url, params=params or None)  # {} would drop the query in `url`
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.text


def link(text: str, door: str, attribute: str = "href") -> str:
    """The one URL of the new screen's `door` (create, edit, export/csv, ...) the page offers."""
    found = {
        html.unescape(url)
        for url in re.findall(rf'{attribute}="([^"]*/admin/{SLUG}/{door}\b[^"]*)"', text)
    }
    assert len(found) == 1, f"{door}: {found}"
    return found.pop()


def found_by_search(client: httpx.Client, words: str) -> tuple[str, list[str]]:
    """The list page searched for `words`, and the records it lists."""
    text = page(client, f"/admin/{SLUG}/list", search=words)
    ids = re.findall(rf"/admin/{SLUG}/details/([0-9a-f-]{{36}})", text)
    return text, sorted(set(ids))


def submit(client: httpx.Client, form_page: str, values: dict[str, str]) -> httpx.Response:
    """Post the page's form of the new screen with `values` in the fields it offers."""
    action = html.unescape(re.findall(rf'<form action="([^"]*/admin/{SLUG}/[^"]*)"', form_page)[0])
    fields = set(re.findall(r'name="(\w+)"', form_page))
    assert set(values) <= fields, f"the form offers {sorted(fields)}"
    token = CSRF_META.search(form_page)
    assert token
    return client.post(action, data=values | {"csrf_token": token[1], "save": "Save"})


def operations_write_a_memo(client: httpx.Client) -> str:
    """Create, edit, search, export and delete a memo as the pages lead; return its id."""
    listing = page(client, f"/admin/{SLUG}/list")
    assert re.search(r"of [1-9]\d* items", listing), "the demo seeds rows for the new table"
    form = page(client, link(listing, "create"))
    lookup = re.search(r'data-url="([^"]+)" id="merchant"', form)
    assert lookup, "the merchant field searches as you type"
    merchant = client.get(html.unescape(lookup[1]), params={"name": "merchant", "term": "a"})
    [first, *_] = merchant.json()["results"]

    created = submit(
        client,
        form,
        {
            "merchant": first["id"],
            "kind": "call",
            "body": f"{FIRST_WORD} called about the card terminal",
        },
    )
    _, [memo] = found_by_search(client, FIRST_WORD)
    details = page(client, f"/admin/{SLUG}/details/{memo}")
    edited = submit(
        client,
        page(client, link(details, "edit")),
        {
            "merchant": first["id"],
            "kind": "visit",
            "body": f"{EDITED_WORD} visited, terminal replaced",
        },
    )
    searched, found = found_by_search(client, EDITED_WORD)
    export = client.get(link(searched, "export/csv"))
    [header, *rows] = list(csv.reader(io.StringIO(export.text)))
    deleted = client.delete(
        link(page(client, f"/admin/{SLUG}/details/{memo}"), "delete", "data-url"),
        headers={"X-CSRF-Token": CSRF_META.search(details)[1]},  # as the page's script sends it
    )

    assert (created.status_code, edited.status_code, deleted.status_code) == (302, 302, 200)
    assert found == [memo]
    assert found_by_search(client, FIRST_WORD)[1] == []
    assert export.status_code == 200
    assert [dict(zip(header, row, strict=True)) for row in rows] == [
        {"Merchant": first["text"], "Kind": "visit", "Follow up": "false"}
    ]
    assert found_by_search(client, EDITED_WORD)[1] == []
    return memo


def trail_of(client: httpx.Client, record: str) -> list[tuple[str, str]]:
    """(action, actor) of each audit entry on `record`, oldest first, from the trail's export."""
    listing = page(client, "/admin/audit-logs/list", search=record)
    export = re.search(r'href="([^"]*/admin/audit-logs/export/csv[^"]*)"', listing)
    assert export
    entries = list(csv.DictReader(io.StringIO(page(client, html.unescape(export[1])))))
    return [(e["Action"], e["Actor"]) for e in sorted(entries, key=lambda e: int(e["Sequence"]))]


def total(listing: str) -> int:
    found = re.search(r"of (\d+) items", listing)
    assert found
    return int(found[1])


def support_only_reads(client: httpx.Client) -> None:
    """Support sees the list and the records, and is refused every write, token or not."""
    listing = page(client, f"/admin/{SLUG}/list")
    [memo, *_] = re.findall(rf"/admin/{SLUG}/details/([0-9a-f-]{{36}})", listing)
    details = page(client, f"/admin/{SLUG}/details/{memo}")

    assert f"/admin/{SLUG}/create" not in listing
    assert f"/admin/{SLUG}/edit/" not in details
    assert f"/admin/{SLUG}/export/" not in listing
    assert refusals(client, writing_doors(memo), CSRF_META.search(details)[1]) == []


def refused_everywhere(client: httpx.Client) -> None:
    """Marketing, granted nothing: no menu entry, and a 403 at every door of the screen."""
    menu = page(client, "/admin/")
    token = CSRF_META.search(menu)
    doors = [
        ("GET", f"/admin/{SLUG}/list"),
        ("GET", f"/admin/{SLUG}/details/{NOBODY}"),
        ("GET", f"/admin/{SLUG}/ajax/lookup?name=merchant&term=a"),
        *writing_doors(NOBODY),
    ]

    assert f"/admin/{SLUG}/" not in menu
    assert token
    assert refusals(client, doors, token[1]) == []


def writing_doors(record: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/admin/{SLUG}/create"),
        ("POST", f"/admin/{SLUG}/create"),
        ("GET", f"/admin/{SLUG}/edit/{record}"),
        ("POST", f"/admin/{SLUG}/edit/{record}"),
        ("DELETE", f"/admin/{SLUG}/delete?pks={record}"),
        ("GET", f"/admin/{SLUG}/export/csv"),
    ]


def refusals(client: httpx.Client, doors: list[tuple[str, str]], token: str) -> list[str]:
    """The doors that do not answer 403; writes carry a valid token and a valid form, so the
    refusal is the permission's, not the CSRF check's or the form's."""
    form = {"kind": "call", "body": f"{FIRST_WORD} refused", "csrf_token": token}
    answers = {
        f"{method} {url}": client.request(
            method, url, data=form if method == "POST" else None, headers={"X-CSRF-Token": token}
        ).status_code
        for method, url in doors
    }
    return [f"{door}: {status}" for door, status in answers.items() if status != 403]
