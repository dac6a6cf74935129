"""Typed settings, read once from the environment (a `.env` file may supply them).

pydantic-settings reads the variables (the environment wins over `.env`); the `Settings`
dataclass types, bounds and checks them, so settings built in code are held to the same rules.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from starlette.datastructures import Secret

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./swipesavvy.db"
DEFAULT_SECRET_KEY_FILE = Path(".secret_key")
MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "dev", "development", "test"})
PRODUCTION_TOTP_ROLES = frozenset({"superadmin"})


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line a person can act on."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _secret(value: Any) -> Any:
    return Secret(value) if isinstance(value, str) else value


def _secrets(value: Any) -> Any:
    """`SECRET_KEY_PREVIOUS` is a comma-separated list of keys, each kept as a `Secret`."""
    return tuple(Secret(key) for key in _items(value)) if isinstance(value, str) else value


def _roles(value: Any) -> Any:
    """`TOTP_REQUIRED_ROLES` is a comma-separated list: "admin, support"."""
    if isinstance(value, str):
        return frozenset(role.strip() for role in value.split(",") if role.strip())
    return value


def _items(value: Any) -> Any:
    """A comma-separated list ("10.0.0.5, 10.1.0.0/16") as a tuple."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


HOST_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
"""A host name, or `*.` and a domain for every name under it."""
ENVIRONMENT_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
"""A flag environment's key, as the environments screen accepts it."""


def _host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    """`host` is one of `allowed_hosts`, or under a `*.domain` among them."""
    host = host.lower()
    return any(
        host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
        for pattern in allowed_hosts
    )


Count = Annotated[int, Field(ge=1)]
"""A whole-number setting: sizes, limits and durations are all at least 1."""
FLAG_STREAM_LIMIT = 20_000
"""Event streams one worker holds at most, unless FLAG_STREAM_LIMIT says otherwise."""
LogLevel = Literal["CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET"]


@dataclass(frozen=True, kw_only=True, config=ConfigDict(arbitrary_types_allowed=True))
class Settings:
    env: Annotated[Environment, BeforeValidator(_lower)] = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: Annotated[Secret, BeforeValidator(_secret)]
    secret_key_previous: Annotated[tuple[Secret, ...], BeforeValidator(_secrets)] = ()
    """Keys that signed before `secret_key`, still accepted when reading cookies and tokens
    (never for signing) while a rotation's window lasts, so nobody is signed out. Usually
    empty; docs/operations.md says how to rotate."""
    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    db_pool_size: Count = 10
    """Connections kept open per worker process (PostgreSQL only)."""
    db_statement_timeout_ms: Count = 30_000
    """Any single statement running longer than this is cancelled by the server (PostgreSQL;
    SQLite has no statement timeout, only its busy timeout for another writer's lock)."""
    db_behind_pgbouncer: bool = False
    """DATABASE_URL is a PgBouncer pool in transaction mode: no prepared statement outlives its
    transaction and the statement timeout is set per transaction (docs/operations.md)."""
    database_listen_url: str | None = None
    """Where the flags' LISTEN connects: PostgreSQL itself or a session-mode pool, never a
    transaction pool. Defaults to DATABASE_URL; required with DB_BEHIND_PGBOUNCER."""
    max_body_bytes: Count = 1_048_576
    """Request bodies larger than this are refused with 413 before the app reads them."""
    bcrypt_rounds: Annotated[int, Field(ge=4, le=31)] = 12
    """Cost factor for staff password hashes (2**rounds iterations)."""
    session_idle_timeout_s: Count = 30 * 60
    """A staff session not used for this long is over."""
    session_lifetime_s: Count = 12 * 60 * 60
    """A staff session ends this long after sign-in, however busy."""
    access_token_ttl_s: Count = 30 * 60
    """Lifetime of an API access token (JWT)."""
    lockout_threshold: Count = 5
    """Failed sign-ins in a row that lock an account."""
    lockout_s: Count = 15 * 60
    """First lockout; each further lockout in a row doubles it, up to `lockout_max_s`."""
    lockout_max_s: Count = 2 * 60 * 60
    login_ip_limit: Count = 30
    """Failed sign-ins from one IP address per `login_ip_window_s` before it is refused."""
    login_ip_window_s: Count = 15 * 60
    totp_required_roles: Annotated[frozenset[str], BeforeValidator(_roles)] = frozenset()
    """Roles that must use a second factor (`load_settings`: superadmin in production)."""
    trusted_proxies: Annotated[tuple[str, ...], BeforeValidator(_items)] = ()
    """Proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
    believed. None by default: the address that connected is the client's."""
    allowed_hosts: Annotated[tuple[str, ...], BeforeValidator(_items)] = ()
    """Host names requests may be addressed to; any other is a 400. Required to serve in
    production; empty in development allows any host."""
    public_url: str | None = None
    """Where staff reach the app (https://admin.example.com): redirects and links are built
    from it, never from the request's Host header. Required to serve in production."""
    flags_public: bool = False
    """Production: the flag feed and OFREP answer without an app key until the first key is
    issued. Development always does."""
    flags_environment: Annotated[str, BeforeValidator(_lower)] = "production"
    """The flag environment (its key) the feed and OFREP answer for while no app key has
    been issued; from the first key on, each key's own environment decides."""
    flags_cors_origins: Annotated[tuple[str, ...], BeforeValidator(_items)] = ()
    """Web origins (https://app.example.com) whose pages may call the flag doors from the
    browser; `*` allows any. None by default: the admin and staff API never answer CORS."""
    flag_stream_heartbeat_s: Annotated[float, Field(gt=0)] = 15.0
    """How often an idle event stream sends a comment line, so proxies keep it open."""
    flag_stream_send_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    """A stream whose client has not taken a write for this long is dropped; it reconnects."""
    flag_stream_limit: Count = FLAG_STREAM_LIMIT
    """Event streams one worker process holds at most."""

    @field_validator("secret_key")
    @classmethod
    def _production_needs_a_real_key(cls, key: Secret, info: ValidationInfo) -> Secret:
        if info.data.get("env") is not Environment.PRODUCTION:
            return key
        value = str(key)
        if not value:
            raise ValueError(
                "SECRET_KEY is not set: production needs a random key of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY is a placeholder or shorter than {MIN_SECRET_KEY_LENGTH} "
                "characters: production needs a real random key."
            )
        return key

    @field_validator("secret_key_previous")
    @classmethod
    def _previous_keys_are_real_and_distinct(
        cls, keys: tuple[Secret, ...], info: ValidationInfo
    ) -> tuple[Secret, ...]:
        values = [str(key) for key in keys]
        # The messages never quote a key: settings errors are printed and logged.
        if info.data.get("env") is Environment.PRODUCTION and any(
            value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_KEY_LENGTH
            for value in values
        ):
            raise ValueError(
                f"SECRET_KEY_PREVIOUS holds a placeholder or a key shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters: production accepts only real random keys."
            )
        if str(info.data.get("secret_key", "")) in values:
            raise ValueError(
                "SECRET_KEY_PREVIOUS repeats SECRET_KEY: list only the keys that signed before "
                "the current one."
            )
        if len(set(values)) < len(values):
            raise ValueError("SECRET_KEY_PREVIOUS lists the same key twice.")
        return keys

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        networks = []
        for proxy in proxies:
            try:
                networks.append(str(ipaddress.ip_network(proxy)))
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {proxy!r} is not an IP address or network "
                    "(10.0.0.5, 10.0.0.0/8, fd00::/8)."
                ) from None
        return tuple(networks)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_names(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(host.lower() for host in hosts)
        for name in names:
            if not HOST_PATTERN.fullmatch(name) and not _is_address(name):
                raise ValueError(
                    f"ALLOWED_HOSTS: {name!r} is not a host name; list names without scheme "
                    "or port (admin.example.com, *.example.com)."
                )
        return names

    @field_validator("flags_environment")
    @classmethod
    def _environment_is_a_key(cls, key: str) -> str:
        if not ENVIRONMENT_KEY.fullmatch(key):
            raise ValueError(
                f"FLAGS_ENVIRONMENT must be an environment's key (production, staging, ...), "
                f"got {key[:40]!r}."
            )
        return key

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, url: str | None, info: ValidationInfo) -> str | None:
        if not url:
            return None
        parts = urlsplit(url.strip())
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                f"PUBLIC_URL must be a scheme and host (https://admin.example.com), got {url!r}."
            )
        if parts.scheme != "https" and info.data.get("env") is Environment.PRODUCTION:
            raise ValueError(
                f"PUBLIC_URL must start with https:// in production (its cookies are Secure), "
                f"got {url!r}."
            )
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def check_serving(self) -> None:
        """Raise ConfigError unless these settings can serve requests: production names the
        hosts it answers and the URL it is reached at. Commands that do not serve (migrate,
        create-admin) need neither."""
        if self.is_production and not self.allowed_hosts:
            raise ConfigError(
                "ALLOWED_HOSTS is not set: production answers only the host names it lists "
                "(ALLOWED_HOSTS=admin.example.com)."
            )
        if self.is_production and self.public_url is None:
            raise ConfigError(
                "PUBLIC_URL is not set: production builds redirects and links from it, never "
                "from the request's Host header (PUBLIC_URL=https://admin.example.com)."
            )
        if self.db_behind_pgbouncer and not self.database_listen_url:
            raise ConfigError(
                "DATABASE_LISTEN_URL is not set: behind PgBouncer the flags' LISTEN needs a "
                "connection that is not pooled by transaction (PostgreSQL itself, or a "
                "session-mode pool)."
            )
        host = urlsplit(self.public_url).hostname if self.public_url else None
        if host and self.allowed_hosts and not _host_allowed(host, self.allowed_hosts):
            raise ConfigError(
                f"PUBLIC_URL's host {host} is not in ALLOWED_HOSTS: browsers sent there "
                "would be refused."
            )

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def listen_url(self) -> str:
        """The URL the flags' LISTEN connects to."""
        return self.database_listen_url or self.database_url

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)


DEFAULTS = {field.name: field.default for field in fields(Settings)}
INTEGER_SETTINGS = {
    field.name.upper(): field.name
    for field in fields(Settings)
    if Settings.__pydantic_fields__[field.name].annotation is int
}
"""Environment variable -> Settings field, for every whole-number setting."""
VARIABLES = {field.name.upper(): field.name for field in fields(Settings)} | {
    "SECRET_KEY_FILE": "secret_key_file"
}
"""Every environment variable read, with the field it fills."""


class _VariableReader(BaseSettings):
    """The text of each variable that is set; `Settings` gives it a type."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment arrives as init values, so a caller (a test, the benchmark) can hand in
        # its own mapping instead of the process's; listed first, it wins over `.env`.
        return init_settings, dotenv_settings


_Variables = create_model(
    "_Variables",
    __base__=_VariableReader,
    **{
        field: (str | None, Field(default=None, validation_alias=variable))
        for variable, field in VARIABLES.items()
    },
)


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path = Path(".env"),
    secret_key_file: Path | None = None,
) -> Settings:
    """Build the settings from `environ` (default: the process environment) and `env_file`.

    Raises ConfigError with a one-line reason when a value is unusable.
    """
    environ = os.environ if environ is None else environ
    given = {name: value for name, value in environ.items() if name in VARIABLES}
    text = _Variables(_env_file=env_file, **given).model_dump(exclude_none=True)
    key_file = secret_key_file or Path(text.pop("secret_key_file", DEFAULT_SECRET_KEY_FILE))
    try:
        settings = Settings(**{"secret_key": ""} | text)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc.errors()[0])) from None
    if "totp_required_roles" not in text and settings.is_production:
        settings = replace(settings, totp_required_roles=PRODUCTION_TOTP_ROLES)
    if not str(settings.secret_key):
        # Only development gets here: production refused an empty key above.
        settings = replace(settings, secret_key=Secret(_development_key(key_file)))
    return settings


def _one_line(error: ErrorDetails) -> str:
    """Name the variable and what it accepts, without pydantic's multi-line report."""
    field = str(error["loc"][0])
    variable = field.upper()
    ctx = error.get("ctx", {})
    given = error["input"]
    if error["type"] == "value_error":
        return str(ctx["error"])
    if error["type"] == "bool_parsing":
        return f"{variable} must be true or false, got {given!r}."
    if error["type"] in {"enum", "literal_error"}:
        return f"{variable} must be {ctx['expected']}, got {given!r}."
    if error["type"] == "int_parsing":
        return f"{variable} must be a whole number, {_bounds(field)}, got {given!r}."
    if error["type"] in {"greater_than_equal", "less_than_equal"}:
        return f"{variable} must be {_bounds(field)}, got {given}."
    return f"{variable}: {error['msg']}, got {given!r}."


def _is_address(host: str) -> bool:
    """An IPv4 address, or an IPv6 one in brackets as a Host header carries it."""
    bracketed = host.startswith("[") and host.endswith("]")
    try:
        address = ipaddress.ip_address(host[1:-1] if bracketed else host)
    except ValueError:
        return False
    return (address.version == 6) == bracketed


def _bounds(field: str) -> str:
    limits = {
        kind: getattr(rule, kind)
        for rule in Settings.__pydantic_fields__[field].metadata
        for kind in ("ge", "le")
        if hasattr(rule, kind)
    }
    if "le" in limits:
        return f"between {limits['ge']} and {limits['le']}"
    return f"at least {limits['ge']}"


def _development_key(key_file: Path) -> str:
    """Generate a key once and keep it, so development sessions survive restarts."""
    if key_file.is_file():
        key = key_file.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    log.warning(
        "SECRET_KEY is not set; generated a development key and kept it in %s. "
        "Set SECRET_KEY before running in production.",
        key_file,
    )
    return key
