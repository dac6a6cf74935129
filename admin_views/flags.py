"""Screens for the mobile app's feature flags, with a preview of who gets a flag."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.base import StaffView
from admin_views.shared.actions import ActionContext, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, YesNoFilter
from admin_views.shared.formatting import badge
from admin_views.shared.four_eyes import Guard, Needed
from flags.definition import compile_flag, problems
from flags.engine import BUCKETS, PLATFORMS, Context, bucket, evaluate, parse_version
from models.base import utcnow
from models.flags import PRODUCTION, REVIEW_ROLLOUT, FeatureFlag, FlagType
from models.people import User, UserStatus

MENU = "Feature flags"
REACH_SAMPLE = 2_000
"""Active customers bucketed to estimate a rollout's reach; enough for about ±2%."""


def _type_and_age(flag: FeatureFlag, _name: str) -> Markup:
    shown = badge(flag.flag_type)
    if flag.is_stale(utcnow()):
        shown += Markup(
            ' <span class="badge bg-red-lt" title="Past its expected lifetime">stale</span>'
        )
    return shown


async def _reviewed(
    _view: Any, _db: AsyncSession, flags: Sequence[FeatureFlag], _params: Any
) -> Needed | None:
    """A flag marked for review, a permission flag or one rolled out to more than
    `REVIEW_ROLLOUT`% changes only with a second person; turning one off never waits."""
    for flag in flags:
        if flag.needs_review():
            return Needed(f"{flag.key} {review_because(flag)}: a second person reviews changes.")
    return None


flag_review = Guard(_reviewed)


async def _reviewed_edit(
    _view: FeatureFlagAdmin, _db: AsyncSession, flag: FeatureFlag | None, data: dict[str, Any]
) -> Needed | None:
    """An edit of a flag that needs review (before or after the edit's rollout), and a new
    flag made on that would need it, wait for a second person; unmarking a flag's review
    is such an edit. Turning a flag off never waits (`never_delayed`)."""
    rollout = data.get("rollout_percentage")
    if flag is None:
        made = FeatureFlag(
            flag_type=data.get("flag_type"),
            requires_review=bool(data.get("requires_review")),
            rollout_percentage=rollout or 0,
        )
        if not (data.get("enabled") and made.needs_review()):
            return None
        key = data.get("key") or "The new flag"
        return Needed(f"{key} would be on and {review_because(made)}: a second person reviews it.")
    if not flag.needs_review(rollout):
        return None
    if flag.needs_review():
        return Needed(f"{flag.key} {review_because(flag)}: a second person reviews changes.")
    return Needed(
        f"{flag.key} would be rolled out to more than {REVIEW_ROLLOUT}% of users: a second "
        "person reviews that."
    )


def review_because(flag: FeatureFlag) -> str:
    if flag.flag_type == FlagType.PERMISSION:
        return "is a permission flag"
    if flag.requires_review:
        return "is marked as needing review"
    return f"is rolled out to more than {REVIEW_ROLLOUT}% of users"


STATE_FORM_OVERRIDES = {
    "rules": door.JSONDocumentField,
    "variants": door.JSONDocumentField,
    "default_value": door.JSONDocumentField,
}
STATE_FORM_ARGS: dict[str, dict[str, Any]] = {
    "rules": {
        "default": list,
        "description": 'e.g. [{"attribute": "country", "operator": "in", "values": ["US"]}]',
    },
    "variants": {
        "default": list,
        "description": 'e.g. [{"name": "blue", "weight": 50, "payload": {"c": "#00f"}}]',
    },
    "platforms": {"description": "ios, android, web; none means all"},
}
"""How a state's fields are edited, on the flag's form (production) and a state's."""
STATE_ACCESS = {
    "admin": ("*",),
    "operations": ("*",),
    "marketing": ("view",),
    # The customer page answers "why don't I see the new feature?" with the flags the
    # customer gets; support reads flags, never changes them.
    "support": ("view",),
    "analyst": ("view", "export"),
    "viewer": ("view",),
}
"""Who may do what with flags and their states in every environment."""


class FeatureFlagAdmin(StaffView, model=FeatureFlag):
    """A flag and its production state, which is the flag's own row."""

    default_access = STATE_ACCESS
    icon = "fa-solid fa-flag"
    column_list = [
        FeatureFlag.key,
        FeatureFlag.name,
        FeatureFlag.flag_type,
        FeatureFlag.enabled,
        FeatureFlag.rollout_percentage,
        FeatureFlag.platforms,
        FeatureFlag.revision,
        FeatureFlag.updated_at,
    ]
    column_searchable_list = [FeatureFlag.key, FeatureFlag.name, FeatureFlag.description]
    column_sortable_list = [FeatureFlag.key, FeatureFlag.rollout_percentage, FeatureFlag.updated_at]
    column_default_sort = [(FeatureFlag.updated_at, True)]
    column_formatters = {FeatureFlag.flag_type: _type_and_age}
    column_formatters_detail = {FeatureFlag.flag_type: _type_and_age}
    column_filters = [
        ChoiceFilter(FeatureFlag.flag_type),
        YesNoFilter(FeatureFlag.enabled),
        DateRangeFilter(FeatureFlag.updated_at, "Changed"),
    ]
    form_columns = [
        FeatureFlag.key,
        FeatureFlag.name,
        FeatureFlag.description,
        FeatureFlag.flag_type,
        FeatureFlag.requires_review,
        FeatureFlag.enabled,
        FeatureFlag.rollout_percentage,
        FeatureFlag.platforms,
        FeatureFlag.min_app_version,
        FeatureFlag.max_app_version,
        FeatureFlag.allow_list,
        FeatureFlag.deny_list,
        FeatureFlag.rules,
        FeatureFlag.variants,
        FeatureFlag.default_value,
        FeatureFlag.starts_at,
        FeatureFlag.ends_at,
    ]
    form_overrides = STATE_FORM_OVERRIDES
    form_args = STATE_FORM_ARGS | {
        "requires_review": {
            "description": f"Changes wait for a second staff member's approval. Permission "
            f"flags and flags rolled out to more than {REVIEW_ROLLOUT}% always do; turning "
            "a flag off never waits."
        },
    }
    lowercase_fields = ("key",)
    edit_four_eyes = _reviewed_edit
    # The kill switch: an edit that only turns the flag off is never delayed. One that
    # changes anything else as well waits like any other (unmarking review, say).
    never_delayed = {"enabled": False}
    detail_panels = ["staff/panels/flag_preview.html"]

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        if not is_created and data.get("key") not in (None, model.key):
            raise self.refuse(request, {"key": "The key cannot change once the app uses it."})
        if found := problems(data):
            raise self.refuse(request, found)
        if not is_created:
            model.revision = (model.revision or 0) + 1

    async def details_context(self, request: Request) -> dict[str, Any]:
        context = await super().details_context(request)
        async with self.session_maker() as db:
            flag = await db.get(FeatureFlag, uuid.UUID(request.path_params["pk"]))
            if flag is None:
                return context
            return context | {
                "preview": _preview(flag, request),
                "reach": await _reach(db, flag),
                "platforms": sorted(PLATFORMS),
            }

    @row_action("enable", "Enable", when=lambda flag: not flag.enabled, four_eyes=flag_review)
    async def enable(
        self, _db: AsyncSession, flag: FeatureFlag, _context: ActionContext
    ) -> dict[str, str]:
        flag.enabled = True
        flag.revision += 1
        return {"environment": PRODUCTION}

    @row_action(
        "disable",
        "Disable (kill switch)",
        confirm="Turn {record} off for every user now?",
        when=lambda flag: flag.enabled,
    )
    async def disable(
        self, _db: AsyncSession, flag: FeatureFlag, _context: ActionContext
    ) -> dict[str, str]:
        flag.enabled = False
        flag.revision += 1
        return {"environment": PRODUCTION}


def _preview(flag: FeatureFlag, request: Request) -> dict[str, Any] | None:
    """The saved flag evaluated for the context typed into the preview form."""
    params = request.query_params
    if "preview" not in params:
        return None
    version = params.get("app_version", "").strip()
    try:
        app_version = parse_version(version) if version else None
    except ValueError:
        return {"error": f"{version!r} is not a version like 4.2.0."}
    attributes = {}
    for line in params.get("attributes", "").splitlines():
        name, _, value = line.partition("=")
        if name.strip():
            attributes[name.strip()] = value.strip()
    platform = params.get("platform") or None
    context = Context(params.get("user_id") or None, platform, app_version, attributes)
    result = evaluate(compile_flag(flag), context, utcnow())
    return {"result": result, "asked": dict(params)}


async def _reach(db: AsyncSession, flag: FeatureFlag) -> dict[str, Any]:
    """Roughly how many active customers the rollout reaches (before platform and rules)."""
    active = User.status == UserStatus.ACTIVE
    total = int(await db.scalar(sa.select(sa.func.count()).select_from(User).where(active)) or 0)
    threshold = int(flag.rollout_percentage * 100)
    if total == 0 or threshold >= BUCKETS or threshold == 0:
        share = 1.0 if threshold >= BUCKETS else 0.0
    else:
        sample = list(await db.scalars(sa.select(User.id).where(active).limit(REACH_SAMPLE)))
        share = sum(bucket(flag.key, str(i)) < threshold for i in sample) / len(sample)
    return {"users": round(total * share), "total": total, "share": share}
