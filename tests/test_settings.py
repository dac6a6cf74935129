"""Settings come from the environment and a .env file; production refuses weak secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from core.settings import (
    DEFAULT_DATABASE_URL,
    VARIABLES,
    ConfigError,
    Environment,
    load_settings,
)

STRONG_KEY = "k" * 20 + "Q7r2-x9Lp0aZ3mN8vB1c"


def test_defaults_run_on_embedded_sqlite(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / ".env", secret_key_file=tmp_path / "key")

    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./swipesavvy.db"
    assert settings.env is Environment.DEVELOPMENT
    assert settings.db_pool_size == 10
    assert settings.bcrypt_rounds == 12


def test_development_key_is_generated_once_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "key"
    with caplog.at_level(logging.WARNING):
        first = load_settings({}, env_file=tmp_path / ".env", secret_key_file=key_file)
    second = load_settings({}, env_file=tmp_path / ".env", secret_key_file=key_file)

    assert len(str(first.secret_key)) >= 32
    assert str(first.secret_key) == str(second.secret_key) == key_file.read_text().strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "generated a development key" in caplog.text
    assert str(first.secret_key) not in caplog.text
    assert repr(first.secret_key) == "Secret('**********')"


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({"ENV": "production"}, env_file=tmp_path / ".env")

    message = str(error.value)
    assert "SECRET_KEY is not set" in message
    assert "\n" not in message
    assert not (tmp_path / ".secret_key").exists()


@pytest.mark.parametrize("weak", ["changeme", "secret", "short-but-random-7f"])
def test_production_refuses_placeholder_or_short_keys(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigError, match="placeholder or shorter than 32"):
        load_settings({"ENV": "production", "SECRET_KEY": weak}, env_file=tmp_path / ".env")


def test_production_accepts_a_real_key(tmp_path: Path) -> None:
    settings = load_settings(
        {"ENV": "PRODUCTION", "SECRET_KEY": STRONG_KEY}, env_file=tmp_path / ".env"
    )

    assert settings.is_production
    assert str(settings.secret_key) == STRONG_KEY


def test_env_file_supplies_values_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local overrides\n"
        "DATABASE_URL=postgresql+asyncpg://app@db.internal/swipesavvy\n"
        "DB_POOL_SIZE=3\n"
        "LOG_LEVEL=debug\n"
        f"SECRET_KEY='{STRONG_KEY}'\n"
    )

    settings = load_settings({"DB_POOL_SIZE": "7"}, env_file=env_file)

    assert settings.database_url == "postgresql+asyncpg://app@db.internal/swipesavvy"
    assert settings.db_pool_size == 7
    assert settings.log_level == "DEBUG"
    assert str(settings.secret_key) == STRONG_KEY


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ENV": "staging"}, "ENV must be 'development' or 'production'"),
        ({"DB_POOL_SIZE": "many"}, "DB_POOL_SIZE"),
        ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE must be at least 1"),
        ({"BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS must be between 4 and 31"),
    ],
)
def test_bad_values_are_one_clear_line(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(environ, env_file=tmp_path / ".env", secret_key_file=tmp_path / "key")

    assert "\n" not in str(error.value)


def test_production_requires_two_factor_for_superadmins_by_default(tmp_path: Path) -> None:
    production = load_settings(
        {"ENV": "production", "SECRET_KEY": STRONG_KEY}, env_file=tmp_path / ".env"
    )
    development = load_settings({}, env_file=tmp_path / ".env", secret_key_file=tmp_path / "k")
    chosen = load_settings(
        {"TOTP_REQUIRED_ROLES": "admin, support"},
        env_file=tmp_path / ".env",
        secret_key_file=tmp_path / "k",
    )

    assert production.totp_required_roles == frozenset({"superadmin"})
    assert development.totp_required_roles == frozenset()
    assert chosen.totp_required_roles == frozenset({"admin", "support"})


def refusal(tmp_path: Path, environ: dict[str, str], env_file: Path | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        load_settings(
            environ, env_file=env_file or tmp_path / ".env", secret_key_file=tmp_path / "key"
        )
    return str(error.value)


def test_a_bad_whole_number_names_the_variable_and_what_it_accepts(tmp_path: Path) -> None:
    assert refusal(tmp_path, {"DB_POOL_SIZE": "abc"}) == (
        "DB_POOL_SIZE must be a whole number, at least 1, got 'abc'."
    )
    assert refusal(tmp_path, {"BCRYPT_ROUNDS": "twelve"}) == (
        "BCRYPT_ROUNDS must be a whole number, between 4 and 31, got 'twelve'."
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS must be between 4 and 31, got 3."),
        ({"BCRYPT_ROUNDS": "32"}, "BCRYPT_ROUNDS must be between 4 and 31, got 32."),
        ({"LOCKOUT_S": "0"}, "LOCKOUT_S must be at least 1, got 0."),
        ({"ENV": "staging"}, "ENV must be 'development' or 'production', got 'staging'."),
        (
            {"LOG_LEVEL": "loud"},
            "LOG_LEVEL must be 'CRITICAL', 'FATAL', 'ERROR', 'WARNING', 'WARN', 'INFO', "
            "'DEBUG' or 'NOTSET', got 'LOUD'.",
        ),
    ],
)
def test_an_out_of_range_value_is_refused_in_one_line(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    assert refusal(tmp_path, environ) == message
    assert not (tmp_path / "key").exists()


def test_the_environment_overrides_a_bad_value_in_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BCRYPT_ROUNDS=3\nMAX_BODY_BYTES=2048\n")

    settings = load_settings(
        {"BCRYPT_ROUNDS": "10"}, env_file=env_file, secret_key_file=tmp_path / "key"
    )

    assert settings.bcrypt_rounds == 10
    assert settings.max_body_bytes == 2048
    assert refusal(tmp_path, {}, env_file) == "BCRYPT_ROUNDS must be between 4 and 31, got 3."
    assert refusal(tmp_path, {"MAX_BODY_BYTES": "big"}, env_file) == (
        "MAX_BODY_BYTES must be a whole number, at least 1, got 'big'."
    )


def test_a_command_states_a_bad_value_in_one_line_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env or .secret_key leaks in
    (tmp_path / ".env").write_text("DB_POOL_SIZE=abc\n")

    result = CliRunner().invoke(cli, ["migrate"], env=dict.fromkeys(VARIABLES))

    assert result.exit_code == 1
    assert result.stderr == "error: DB_POOL_SIZE must be a whole number, at least 1, got 'abc'.\n"
    assert result.stdout == ""
