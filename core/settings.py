"""Typed settings, read once from the environment (a `.env` file may supply them)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from pathlib import Path

from starlette.config import Config
from starlette.datastructures import Secret

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./swipesavvy.db"
MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "dev", "development", "test"})


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line a person can act on."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: Secret
    env: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    db_pool_size: int = 10
    """Connections kept open per worker process (PostgreSQL only)."""
    db_statement_timeout_ms: int = 30_000
    """Any single statement running longer than this is cancelled by the server (PostgreSQL;
    SQLite has no statement timeout, only its busy timeout for another writer's lock)."""
    max_body_bytes: int = 1_048_576
    """Request bodies larger than this are refused with 413 before the app reads them."""
    bcrypt_rounds: int = 12
    """Cost factor for staff password hashes (2**rounds iterations)."""
    session_idle_timeout_s: int = 30 * 60
    """A staff session not used for this long is over."""
    session_lifetime_s: int = 12 * 60 * 60
    """A staff session ends this long after sign-in, however busy."""
    access_token_ttl_s: int = 30 * 60
    """Lifetime of an API access token (JWT)."""
    lockout_threshold: int = 5
    """Failed sign-ins in a row that lock an account."""
    lockout_s: int = 15 * 60
    """First lockout; each further lockout in a row doubles it, up to `lockout_max_s`."""
    lockout_max_s: int = 2 * 60 * 60
    login_ip_limit: int = 30
    """Failed sign-ins from one IP address per `login_ip_window_s` before it is refused."""
    login_ip_window_s: int = 15 * 60
    totp_required_roles: frozenset[str] = frozenset()
    """Roles that must use a second factor (default: superadmin in production)."""

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)


DEFAULTS = {field.name: field.default for field in fields(Settings)}


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path = Path(".env"),
    secret_key_file: Path | None = None,
) -> Settings:
    """Build the settings from `environ` (default: the process environment) and `env_file`.

    Raises ConfigError with a one-line reason when a value is unusable.
    """
    config = Config(
        env_file if env_file.is_file() else None,
        environ=os.environ if environ is None else environ,
    )
    try:
        env = Environment(config("ENV", default=Environment.DEVELOPMENT.value).lower())
    except ValueError:
        raise ConfigError(
            f"ENV must be 'development' or 'production', got {config('ENV')!r}."
        ) from None
    try:
        numbers = {
            field: config(name, cast=int, default=DEFAULTS[field])
            for name, field in INTEGER_SETTINGS.items()
        }
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    bcrypt_rounds = numbers["bcrypt_rounds"]
    if not 4 <= bcrypt_rounds <= 31:
        raise ConfigError(f"BCRYPT_ROUNDS must be between 4 and 31, got {bcrypt_rounds}.")
    for name, field in INTEGER_SETTINGS.items():
        if numbers[field] < 1:
            raise ConfigError(f"{name} must be at least 1, got {numbers[field]}.")
    default_totp = "superadmin" if env is Environment.PRODUCTION else ""
    totp_roles = config("TOTP_REQUIRED_ROLES", default=default_totp)
    key_file = secret_key_file or Path(config("SECRET_KEY_FILE", default=".secret_key"))
    return Settings(
        database_url=config("DATABASE_URL", default=DEFAULT_DATABASE_URL),
        secret_key=_secret_key(config("SECRET_KEY", default=""), env, key_file),
        env=env,
        log_level=config("LOG_LEVEL", default="INFO").upper(),
        totp_required_roles=frozenset(r.strip() for r in totp_roles.split(",") if r.strip()),
        **numbers,
    )


INTEGER_SETTINGS = {
    "DB_POOL_SIZE": "db_pool_size",
    "DB_STATEMENT_TIMEOUT_MS": "db_statement_timeout_ms",
    "MAX_BODY_BYTES": "max_body_bytes",
    "BCRYPT_ROUNDS": "bcrypt_rounds",
    "SESSION_IDLE_TIMEOUT_S": "session_idle_timeout_s",
    "SESSION_LIFETIME_S": "session_lifetime_s",
    "ACCESS_TOKEN_TTL_S": "access_token_ttl_s",
    "LOCKOUT_THRESHOLD": "lockout_threshold",
    "LOCKOUT_S": "lockout_s",
    "LOCKOUT_MAX_S": "lockout_max_s",
    "LOGIN_IP_LIMIT": "login_ip_limit",
    "LOGIN_IP_WINDOW_S": "login_ip_window_s",
}
"""Environment variable -> Settings field, for every whole-number setting."""


def _secret_key(value: str, env: Environment, key_file: Path) -> Secret:
    if value:
        if env is Environment.PRODUCTION:
            _refuse_weak_production_key(value)
        return Secret(value)
    if env is Environment.PRODUCTION:
        raise ConfigError(
            "SECRET_KEY is not set: production needs a random key of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')."
        )
    return Secret(_development_key(key_file))


def _refuse_weak_production_key(value: str) -> None:
    if value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is a placeholder or shorter than {MIN_SECRET_KEY_LENGTH} characters: "
            "production needs a real random key."
        )


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
