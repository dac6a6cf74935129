"""The declarative base, portable column types and the mixins every table shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on both databases.

    SQLite has no time zones, so values are stored there as naive UTC; a naive value
    coming in (from a form, say) is taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class FixedPoint(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, a scaled integer on SQLite.

    SQLite has no decimal type and would store NUMERIC as a float; money must never
    be a float, so there it is kept in minor units (cents for a scale of 2) and SQL
    sums stay exact. Range checks on such columns must be scale-free (`>= 0`, `<> 0`).
    """

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.scale).to_integral_value())
        return exact.quantize(self._quantum)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def Money() -> FixedPoint:  # noqa: N802 - reads as a column type
    """Amounts of money: 18 digits, 2 after the point."""
    return FixedPoint(18, 2)


def Percent() -> sa.Numeric[Decimal]:  # noqa: N802 - reads as a column type
    """0.00 to 100.00; read back rounded to two places on both databases."""
    return sa.Numeric(5, 2, asdecimal=True)


def JSONDocument() -> sa.JSON:  # noqa: N802 - reads as a column type
    """JSON, stored as JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def StringList(length: int = 64) -> sa.ARRAY[str]:  # noqa: N802 - reads as a column type
    """A list of short strings: a native ARRAY on PostgreSQL, a JSON list on SQLite."""
    return sa.ARRAY(sa.String(length)).with_variant(sa.JSON(), "sqlite")


def choice(values: type[StrEnum], name: str) -> sa.Enum:
    """A VARCHAR holding one of `values`, refused by a CHECK constraint otherwise.

    Non-native on purpose: adding a value is a plain constraint change on both databases,
    and SQLAdmin renders it as a select.
    """
    return sa.Enum(
        *(member.value for member in values),
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in values),
    )


def check(
    sql: str,
    name: str,
    *,
    fields: tuple[str, ...],
    message: str,
    minimum: int | None = None,
    maximum: int | None = None,
) -> sa.CheckConstraint:
    """A CHECK constraint that also tells the screens which fields it guards and what to say.

    Forms read `minimum`/`maximum` to validate before saving; a violation that still reaches
    the database is shown as `message` on `fields`.
    """
    info = {"fields": fields, "message": message, "minimum": minimum, "maximum": maximum}
    return sa.CheckConstraint(sql, name=name, info=info)


def currency_check(column: str) -> sa.CheckConstraint:
    """ISO 4217 alphabetic codes: three upper-case letters."""
    return check(
        f"length({column}) = 3 AND upper({column}) = {column}",
        f"{column}_iso4217",
        fields=(column,),
        message="Use a three-letter currency code, e.g. USD.",
    )


def list_index(table: str, column: str) -> sa.Index:
    """Serves a list filtered on `column` in its default order (newest first).

    The rows of one value come out of the index already sorted, so a page of a million-row
    table filtered by status reads 25 index entries instead of sorting every match.
    """
    return sa.Index(f"ix_{table}_{column}_created_at", column, "created_at")


def trigram_index(table: str, column: str) -> sa.Index:
    """A GIN trigram index, so `column ILIKE '%term%'` need not scan the table.

    PostgreSQL only (the `pg_trgm` extension, made by a migration); SQLite has no such
    index and searches by scanning. `info["dialects"]` tells Alembic's check to expect the
    index on PostgreSQL alone (`migrations/env.py`).
    """
    return sa.Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
        info={"dialects": ("postgresql",)},
    ).ddl_if(dialect="postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def loaded(obj: Any, relationship: str) -> Any | None:
    """The related row if it is already loaded, else None: a label may mention it, but
    must never make an async session fetch it behind the caller's back."""
    value = sa.inspect(obj).attrs[relationship].loaded_value
    return None if value is NO_VALUE else value


class UUIDKey:
    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, default=uuid.uuid4, sort_order=-100
    )


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, server_default=sa.func.now(), index=True, sort_order=100
    )


class SoftDelete:
    """Rows that are deactivated instead of deleted; the screens' delete calls this."""

    def deactivate(self, now: datetime) -> None:
        raise NotImplementedError


class Timestamps(CreatedAt):
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow, server_default=sa.func.now(), sort_order=101
    )
