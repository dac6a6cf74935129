"""Request bodies over the limit (1 MiB by default) are refused with 413 before they are read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from core.settings import Settings, load_settings
from tests import staff
from tests.clients import client_for
from tests.databases import TEST_SECRET_KEY
from tests.rows import ai_models_written as written
from tests.test_audit_trail import MODEL_FORM

LIMIT = 1_048_576
CHUNK = 64 * 1024
FORM = {"content-type": "application/x-www-form-urlencoded"}
LOGIN = "/api/v1/admin/auth/login"
CREATE = "/admin/ai-models/create"


def form_of_size(size: int, fields: dict[str, str]) -> bytes:
    """`fields` as a form body of exactly `size` bytes, padded with a field no one reads."""
    start = urlencode(fields).encode() + b"&padding="
    assert len(start) < size
    return start + b"x" * (size - len(start))


def json_of_size(size: int) -> bytes:
    start = b'{"email": "nobody@example.com", "password": "wrong password"'
    return start + b" " * (size - len(start) - 1) + b"}"


class Chunked:
    """A body sent in chunks without a Content-Length, counting what was pulled from it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), CHUNK):
            chunk = self.body[start : start + CHUNK]
            self.sent += len(chunk)
            yield chunk


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    """The client signed in as a superadmin; the form fields of a valid new AI model."""
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    return MODEL_FORM | {"csrf_token": await staff.csrf_token(client)}


async def test_a_body_declared_over_the_limit_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, signed_in: dict[str, str], db: AsyncSession
) -> None:
    body = form_of_size(LIMIT + 1, signed_in)

    created = await client.post(CREATE, content=body, headers=FORM)
    api = await client.post(
        LOGIN, content=json_of_size(LIMIT + 1), headers={"content-type": "application/json"}
    )

    assert len(body) == LIMIT + 1
    assert created.status_code == 413
    assert created.headers["content-type"].startswith("text/html")
    assert "larger than the limit of 1048576 bytes" in created.text
    assert await written(db) == (0, 0)
    assert api.status_code == 413
    assert api.json() == {
        "error": "payload_too_large",
        "message": "The request body is larger than the limit of 1048576 bytes.",
    }


async def test_a_chunked_body_is_refused_as_soon_as_it_grows_past_the_limit(
    client: httpx.AsyncClient, signed_in: dict[str, str], db: AsyncSession
) -> None:
    form = Chunked(form_of_size(4 * LIMIT, signed_in))
    api = Chunked(json_of_size(4 * LIMIT))

    created = await client.post(CREATE, content=form, headers=FORM)
    signing_in = await client.post(LOGIN, content=api)

    assert created.status_code == 413
    assert await written(db) == (0, 0)
    assert signing_in.status_code == 413
    assert signing_in.json()["error"] == "payload_too_large"
    for body in (form, api):
        assert LIMIT < body.sent <= LIMIT + CHUNK  # stopped reading at the limit


async def test_a_body_at_the_limit_is_accepted_declared_or_chunked(
    client: httpx.AsyncClient, signed_in: dict[str, str], db: AsyncSession
) -> None:
    declared = await client.post(CREATE, content=form_of_size(LIMIT, signed_in), headers=FORM)
    chunked = await client.post(
        CREATE,
        content=Chunked(form_of_size(LIMIT, signed_in | {"name": "second-model"})),
        headers=FORM,
    )
    signing_in = await client.post(LOGIN, content=Chunked(json_of_size(LIMIT - 1)))

    assert declared.status_code == 302
    assert chunked.status_code == 302
    assert await written(db) == (2, 2)
    assert signing_in.status_code == 401  # read and judged: a wrong password


async def test_the_limit_is_a_setting(
    settings: Settings, clean_database: Database, tmp_path: Path
) -> None:
    environ = {"SECRET_KEY": str(TEST_SECRET_KEY)}
    default = load_settings(environ, env_file=tmp_path / "none")
    chosen = load_settings(environ | {"MAX_BODY_BYTES": "2048"}, env_file=tmp_path / "none")
    async with client_for(settings, max_body_bytes=2048) as client:
        over = await client.post(LOGIN, content=json_of_size(2049))
        under = await client.post(LOGIN, content=json_of_size(2048))

    assert default.max_body_bytes == LIMIT
    assert chosen.max_body_bytes == 2048
    assert over.status_code == 413
    assert under.status_code == 401
