"""Typed settings, read once from the environment (a `.env` file may supply them)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    """Any single statement running longer than this is cancelled by the server."""
    bcrypt_rounds: int = 12
    """Cost factor for staff password hashes (2**rounds iterations)."""

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)


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
        pool_size = config("DB_POOL_SIZE", cast=int, default=10)
        statement_timeout_ms = config("DB_STATEMENT_TIMEOUT_MS", cast=int, default=30_000)
        bcrypt_rounds = config("BCRYPT_ROUNDS", cast=int, default=12)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if pool_size < 1:
        raise ConfigError(f"DB_POOL_SIZE must be at least 1, got {pool_size}.")
    if not 4 <= bcrypt_rounds <= 31:
        raise ConfigError(f"BCRYPT_ROUNDS must be between 4 and 31, got {bcrypt_rounds}.")
    key_file = secret_key_file or Path(config("SECRET_KEY_FILE", default=".secret_key"))
    return Settings(
        database_url=config("DATABASE_URL", default=DEFAULT_DATABASE_URL),
        secret_key=_secret_key(config("SECRET_KEY", default=""), env, key_file),
        env=env,
        log_level=config("LOG_LEVEL", default="INFO").upper(),
        db_pool_size=pool_size,
        db_statement_timeout_ms=statement_timeout_ms,
        bcrypt_rounds=bcrypt_rounds,
    )


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
