"""The segments and prerequisites of a flag's state on its forms (the flag's, for
production, and a state's): multi-selects of the segments there are and of the flags (and
their variants) there are, checked against the database on save (`flags.references`)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqladmin import ModelView
from wtforms import Form, SelectMultipleField

from admin_views import sqladmin_door as door
from flags import references
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag


def as_choice(required: dict[str, Any]) -> str:
    """A prerequisite as the select's value: `key` or `key:variant` (keys have no colon)."""
    variant = required.get("variant")
    return f"{required['flag']}:{variant}" if variant else str(required["flag"])


def from_choice(value: str) -> dict[str, str]:
    key, _, variant = value.partition(":")
    return {"flag": key, "variant": variant} if variant else {"flag": key}


class PrerequisiteField(SelectMultipleField):
    """Stored as [{"flag", "variant"?}], chosen as `key` / `key:variant` options."""

    def process_data(self, value: Any) -> None:
        self.data = [as_choice(v) for v in value or () if isinstance(v, dict) and "flag" in v]


class FlagTargeting(ModelView):
    """Forms whose segment and prerequisite fields offer what exists now."""

    def flag_key_of(self, pk: uuid.UUID) -> sa.Select:
        """The key of the flag the record `pk` is a state of (here, the flag itself)."""
        return sa.select(FeatureFlag.key).where(FeatureFlag.id == pk)

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        form = await super().scaffold_form(rules)
        edited = door.edited()
        async with self.session_maker() as db:
            segments = (await db.execute(sa.select(FlagSegment.key, FlagSegment.name))).all()
            flags = (await db.execute(sa.select(FeatureFlag.key, FeatureFlag.variants))).all()
            itself = await db.scalar(self.flag_key_of(uuid.UUID(edited))) if edited else None
        segment_choices = sorted(((key, name) for key, name in segments), key=lambda c: c[1])
        flag_choices: list[tuple[str, str, dict[str, Any]]] = []
        for key, variants in sorted(flags):
            # Still a choice, so that one posted anyway (the API, say) gets the clear
            # "cannot require itself", but never offered.
            shown = {"hidden": True} if key == itself else {}
            flag_choices.append((key, f"{key} is on", shown))
            flag_choices += [
                (f"{key}:{v['name']}", f"{key} gives {v['name']}", shown)
                for v in variants or ()
                if isinstance(v, dict) and v.get("name")
            ]
        fields = {
            "included_segments": SelectMultipleField(
                "Included segments",
                choices=segment_choices,
                description="When any are chosen, only users in one of them can get the flag.",
            ),
            "excluded_segments": SelectMultipleField(
                "Excluded segments",
                choices=segment_choices,
                description="Users in any of these never get the flag (unless on its allow-list).",
            ),
            "prerequisites": PrerequisiteField(
                "Prerequisites",
                choices=flag_choices,
                description="Flags that must be on for the same user (giving the variant "
                "named, where one is) for this one to be; otherwise it is off for them.",
            ),
        }
        kept = {}
        for name, field in fields.items():
            shown = getattr(form, name, None)
            if shown is not None:
                # In the place the form had it, not last.
                field.creation_counter = shown.creation_counter
                kept[name] = field
        return type(form.__name__, (form,), kept)

    async def targeting_problems(
        self, flag_key: str, environment: str, data: dict
    ) -> dict[str, str]:
        """The form's prerequisites as stored, then what is wrong with what it names."""
        if "prerequisites" in data:
            data["prerequisites"] = [
                from_choice(value) if isinstance(value, str) else value
                for value in data.get("prerequisites") or ()
            ]
        async with self.session_maker() as db:
            return await db.run_sync(
                lambda sync: references.problems(sync, flag_key, environment, data)
            )
