"""Alembic environment: async, URL from the app's settings, batch mode on SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from logging.config import fileConfig
from textwrap import indent
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import render_op_text
from alembic.operations import ops
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

import models
from core.database import create_engine
from core.settings import Settings, load_settings
from migrations import ruff_hook  # noqa: F401 - registers the `ruff` post-write hook (alembic.ini)
from migrations.revision_ids import number_revisions

config = context.config
if config.config_file_name is not None and not config.attributes.get("settings"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = models.Base.metadata
log = logging.getLogger("alembic.env")


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Import our portable column types where a revision uses them, and write the JSON
    document type (`JSONDocument`) as code that runs: Alembic's own rendering of JSONB names
    `Text()` without importing it."""
    if type_ == "type" and type(obj).__module__ == "models.base":
        autogen_context.imports.add("import models.base")
    if type_ == "type" and type(obj) is sa.JSON and "postgresql" in obj._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")'
    return False


def for_dialect(name: str) -> Callable[..., bool]:
    """Leave out of the comparison what the models declare for other databases only
    (`info={"dialects": (...)}`, e.g. the PostgreSQL trigram indexes)."""

    def include_object(
        obj: Any, _name: str | None, _type: str, reflected: bool, _compare_to: Any
    ) -> bool:
        dialects = getattr(obj, "info", {}).get("dialects")
        return reflected or dialects is None or name in dialects

    return include_object


def dialect_only_indexes(dialect: str) -> list[str]:
    """The indexes the models declare for other databases only, which `dialect` never holds."""
    return sorted(
        str(index.name)
        for table in target_metadata.tables.values()
        for index in table.indexes
        if dialect not in index.info.get("dialects", (dialect,))
    )


class OnPostgreSQL(ops.MigrateOperation):
    """An operation on an index the models declare for PostgreSQL only (a trigram index):
    written under `if op.get_bind().dialect.name == "postgresql":`, so SQLite, which has
    no such index, neither builds it as a plain one nor fails to drop it."""

    def __init__(self, inner: ops.MigrateOperation) -> None:
        self.inner = inner

    def reverse(self) -> OnPostgreSQL:
        return OnPostgreSQL(self.inner.reverse())


@renderers.dispatch_for(OnPostgreSQL)
def render_on_postgresql(autogen_context: AutogenContext, op: OnPostgreSQL) -> str:
    body = render_op_text(autogen_context, op.inner)
    return f'if op.get_bind().dialect.name == "postgresql":\n{indent(body, "    ")}'


def only_on_postgresql(container: Any, names: frozenset[str]) -> None:
    """Wrap, wherever they sit, the index operations on the PostgreSQL-only `names`."""
    for position, item in enumerate(container.ops):
        if isinstance(item, ops.CreateIndexOp | ops.DropIndexOp) and item.index_name in names:
            container.ops[position] = OnPostgreSQL(item)
        elif hasattr(item, "ops"):
            only_on_postgresql(item, names)


def process_revision_directives(
    migration_context: MigrationContext, _revision: Any, directives: list[MigrationScript]
) -> None:
    """Number the new revision in sequence; say when the database cannot show it all."""
    number_revisions(directives, (script.revision for script in context.script.walk_revisions()))
    postgresql_only = frozenset(dialect_only_indexes("sqlite"))
    for script in directives:
        for container in (*script.upgrade_ops_list, *script.downgrade_ops_list):
            only_on_postgresql(container, postgresql_only)
    unseen = dialect_only_indexes(migration_context.dialect.name)
    if unseen:
        # Those indexes are left out of the comparison here (see `for_dialect`), so a new
        # one would be missing from the revision: only PostgreSQL sees the whole schema.
        log.warning(
            "%s holds none of the %d indexes declared for other databases (%s, ...), so "
            "autogenerate here leaves new ones out: autogenerate against PostgreSQL (README)",
            migration_context.dialect.name,
            len(unseen),
            unseen[0],
        )


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # SQLite rebuilds tables for most ALTERs (batch mode); foreign keys must be off
        # while it copies rows, and are checked once the revision is in.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        render_item=render_item,
        compare_type=True,
        include_object=for_dialect(connection.dialect.name),
        process_revision_directives=process_revision_directives,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if violations:
            raise RuntimeError(f"migration left rows that break foreign keys: {violations[:5]}")


async def run_async_migrations(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline(settings: Settings) -> None:
    context.configure(
        url=settings.database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=settings.is_sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()


settings: Settings = config.attributes.get("settings") or load_settings()
if context.is_offline_mode():
    run_migrations_offline(settings)
else:
    asyncio.run(run_async_migrations(settings))
