"""The shared base view: what every table's screens get without asking."""

from __future__ import annotations

from typing import ClassVar

from sqladmin import ModelView
from sqlalchemy import inspect

READ_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
"""Set by the database or the app, never typed in a form."""


class StaffView(ModelView):
    """Base for every table's screens.

    Subclasses describe the screen (columns, search, sort); this class keeps secret
    columns out of every list, detail page, form and export, keeps ids and timestamps
    out of forms, and sorts newest first where the table has `created_at`.
    """

    page_size: ClassVar[int] = 25
    page_size_options: ClassVar[list[int]] = [25, 50, 100]

    def __init__(self) -> None:
        super().__init__()
        if not self.column_default_sort and hasattr(self.model, "created_at"):
            self.column_default_sort = [(self.model.created_at, True)]

    @classmethod
    def secret_columns(cls) -> frozenset[str]:
        """Columns whose model declares `info={"secret": True}`."""
        return frozenset(
            column.key for column in inspect(cls.model).columns if column.info.get("secret")
        )

    @classmethod
    def resource(cls) -> str:
        """The name permissions and the audit trail use for this view: its table."""
        return cls.model.__tablename__

    def get_list_columns(self) -> list[str]:
        return self._without_secrets(super().get_list_columns())

    def get_details_columns(self) -> list[str]:
        return self._without_secrets(super().get_details_columns())

    def get_export_columns(self) -> list[str]:
        return self._without_secrets(super().get_export_columns())

    def get_form_columns(self) -> list[str]:
        hidden = self.secret_columns() | READ_ONLY_COLUMNS
        return [name for name in super().get_form_columns() if name not in hidden]

    def _without_secrets(self, names: list[str]) -> list[str]:
        secrets = self.secret_columns()
        return [name for name in names if name not in secrets]


class ReadOnlyView(StaffView):
    """Screens for rows that change only through their own rules (money, the audit trail,
    sessions, rollups): list, detail and export, never create, edit or delete."""

    can_create: ClassVar[bool] = False
    can_edit: ClassVar[bool] = False
    can_delete: ClassVar[bool] = False
