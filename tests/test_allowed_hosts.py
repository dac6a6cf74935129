"""Production answers only its own host names, and builds redirects from PUBLIC_URL, never
from the Host header; without either it does not start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from core.settings import ConfigError, Environment, Settings, load_settings
from tests import staff
from tests.clients import client_for
from tests.command_line import invoke

PUBLIC = "https://admin.example.com"
BALANCER_SENDS = "admin.internal"
"""A second name the load balancer may forward requests under."""
STRONG_KEY = "k" * 20 + "Q7r2-x9Lp0aZ3mN8vB1c"


def production(**overrides: object) -> dict[str, object]:
    return {
        "env": Environment.PRODUCTION,
        "allowed_hosts": ("admin.example.com", BALANCER_SENDS),
        "public_url": PUBLIC,
    } | overrides


async def test_a_request_for_another_host_is_refused(settings: Settings) -> None:
    async with client_for(settings, PUBLIC, **production()) as client:
        evil = await client.get("/admin/", headers={"host": "evil.example"})
        evil_login = await client.post(
            "/admin/login",
            data={"username": "someone@example.com", "password": "x"},
            headers={"host": "evil.example"},
        )
        no_such_port = await client.get("/admin/", headers={"host": "evil.example:443"})

    for refused in (evil, evil_login, no_such_port):
        assert refused.status_code == 400
        assert refused.text == "Invalid host header"
        assert "location" not in refused.headers


async def test_a_refused_sign_in_writes_nothing(settings: Settings, db: AsyncSession) -> None:
    account = await staff.make_staff(db, "support")
    async with client_for(settings, PUBLIC, **production()) as client:
        refused = await client.post(
            "/admin/login",
            data={"username": account.email, "password": staff.PASSWORD},
            headers={"host": "evil.example"},
        )

    assert refused.status_code == 400
    assert "set-cookie" not in refused.headers
    assert await staff.audit_entries(db) == []


async def test_redirects_go_to_the_public_url_whatever_the_host(
    settings: Settings, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    # The load balancer ends TLS and forwards plain HTTP under its own name.
    async with client_for(settings, f"http://{BALANCER_SENDS}", **production()) as client:
        to_sign_in = await client.get("/admin/merchants/list")
        signed_in = await client.post(
            "/admin/login",
            data={"username": account.email, "password": staff.PASSWORD},
            headers={"origin": PUBLIC},
        )

    assert to_sign_in.status_code == 302
    assert to_sign_in.headers["location"] == (
        f"{PUBLIC}/admin/login?next=%2Fadmin%2Fmerchants%2Flist"
    )
    # The browser's Origin is the public URL's: the sign-in is not taken for a cross-site one.
    assert signed_in.status_code == 302
    assert "__Host-swipesavvy_session=" in signed_in.headers["set-cookie"]


async def test_a_wildcard_allows_every_name_under_a_domain(settings: Settings) -> None:
    overrides = production(allowed_hosts=("*.example.com",))
    async with client_for(settings, PUBLIC, **overrides) as client:
        under = await client.get("/admin/", headers={"host": "eu.admin.example.com"})
        beside = await client.get("/admin/", headers={"host": "example.com.evil.example"})

    assert under.status_code == 302
    assert under.headers["location"].startswith(f"{PUBLIC}/admin/login")
    assert beside.status_code == 400


async def test_health_probes_answer_a_balancer_asking_by_address(settings: Settings) -> None:
    async with client_for(settings, PUBLIC, **production()) as client:
        alive = await client.get("/healthz", headers={"host": "10.0.0.5:8000"})
        ready = await client.get("/readyz", headers={"host": "10.0.0.5:8000"})
        other = await client.get("/api/v1/admin/auth/me", headers={"host": "10.0.0.5:8000"})

    assert (alive.status_code, ready.status_code) == (200, 200)
    assert other.status_code == 400


async def test_development_answers_any_host_unless_told(settings: Settings) -> None:
    async with client_for(settings) as open_client:
        anywhere = await open_client.get("/admin/", headers={"host": "laptop.local:8000"})
    async with client_for(settings, allowed_hosts=("testserver",)) as told:
        elsewhere = await told.get("/admin/", headers={"host": "laptop.local:8000"})

    assert anywhere.headers["location"].startswith("http://laptop.local:8000/admin/login")
    assert elsewhere.status_code == 400


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"allowed_hosts": ()},
            "ALLOWED_HOSTS is not set: production answers only the host names it lists "
            "(ALLOWED_HOSTS=admin.example.com).",
        ),
        (
            {"public_url": None},
            "PUBLIC_URL is not set: production builds redirects and links from it, never from "
            "the request's Host header (PUBLIC_URL=https://admin.example.com).",
        ),
        (
            {"public_url": "https://admin.example.org"},
            "PUBLIC_URL's host admin.example.org is not in ALLOWED_HOSTS: browsers sent there "
            "would be refused.",
        ),
    ],
)
async def test_production_does_not_start_without_its_hosts(
    settings: Settings, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        create_app(replace(settings, **production(**overrides)))

    assert str(error.value) == message


async def test_serve_says_what_is_missing_in_one_line(settings: Settings) -> None:
    bare = await invoke(settings, "serve", ENV="production", SECRET_KEY=STRONG_KEY)
    no_url = await invoke(
        settings,
        "serve",
        ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="admin.example.com",
    )

    assert (bare.exit_code, no_url.exit_code) == (1, 1)
    assert bare.stderr == (
        "error: ALLOWED_HOSTS is not set: production answers only the host names it lists "
        "(ALLOWED_HOSTS=admin.example.com).\n"
    )
    assert no_url.stderr.startswith("error: PUBLIC_URL is not set:")
    assert no_url.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ALLOWED_HOSTS": "admin.example.com:443"},
            "ALLOWED_HOSTS: 'admin.example.com:443' is not a host name; list names without "
            "scheme or port (admin.example.com, *.example.com).",
        ),
        (
            {"ALLOWED_HOSTS": "https://admin.example.com"},
            "ALLOWED_HOSTS: 'https://admin.example.com' is not a host name",
        ),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS: '*' is not a host name"),
        ({"ALLOWED_HOSTS": "admin.*.com"}, "ALLOWED_HOSTS: 'admin.*.com' is not a host name"),
        (
            {"PUBLIC_URL": "admin.example.com"},
            "PUBLIC_URL must be a scheme and host (https://admin.example.com), "
            "got 'admin.example.com'.",
        ),
        (
            {"PUBLIC_URL": "https://admin.example.com/admin"},
            "PUBLIC_URL must be a scheme and host",
        ),
        (
            {"ENV": "production", "SECRET_KEY": STRONG_KEY, "PUBLIC_URL": "http://a.example"},
            "PUBLIC_URL must start with https:// in production (its cookies are Secure), "
            "got 'http://a.example'.",
        ),
        ({"FLAGS_PUBLIC": "maybe"}, "FLAGS_PUBLIC must be true or false, got 'maybe'."),
    ],
)
def test_a_bad_host_setting_is_refused_in_one_line(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ, env_file=tmp_path / ".env", secret_key_file=tmp_path / "key")

    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "key").exists()


def test_hosts_and_url_are_read_as_written_down(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ALLOWED_HOSTS": "Admin.Example.com, *.example.com,10.0.0.5,[::1]",
            "PUBLIC_URL": "https://Admin.Example.com/",
            "FLAGS_PUBLIC": "true",
        },
        env_file=tmp_path / ".env",
        secret_key_file=tmp_path / "key",
    )

    assert settings.allowed_hosts == ("admin.example.com", "*.example.com", "10.0.0.5", "[::1]")
    assert settings.public_url == "https://admin.example.com"
    assert settings.flags_public is True
