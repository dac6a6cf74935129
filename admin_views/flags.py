"""The mobile app's feature flags on screen: each flag with every environment's state side
by side, copying a state from one environment to another, and a preview of who gets a flag.
Environments and the states outside production have their screens in flags_environments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.base import StaffView
from admin_views.flag_usage import usage_chart
from admin_views.parts.row_actions import RecordAction
from admin_views.shared import flag_copy, rule_builder
from admin_views.shared.actions import (
    ActionContext,
    ActionRefusedError,
    row_action,
)
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, YesNoFilter
from admin_views.shared.flag_history import FLAG_HISTORY
from admin_views.shared.flag_lifecycle import (
    ARCHIVE_CONFIRM,
    UNARCHIVE_CONFIRM,
    ArchivedFilter,
    LastEvaluated,
    StaleFilter,
    type_and_age,
)
from admin_views.shared.flag_switches import ENVIRONMENTS, EnvironmentSwitches
from admin_views.shared.flag_targeting import FlagTargeting
from admin_views.shared.four_eyes import Guard, Needed
from admin_views.shared.navigation import may_view
from admin_views.shared.restore import ReviewedRestorable
from flags import references, words
from flags.definition import problems
from flags.engine import BUCKETS, PLATFORMS, Context, bucket, evaluate, parse_version
from flags.environments import new_state, state_of
from flags.explain import explain
from flags.snapshot import Served, served_in
from flags.uses import dependents, in_words
from models.base import utcnow
from models.flag_segments import FlagSegment
from models.flags import (
    PRODUCTION,
    REVIEW_ROLLOUT,
    FeatureFlag,
    FlagEnvironment,
    FlagEnvironmentState,
    FlagState,
    FlagType,
)
from models.people import User, UserStatus

MENU = "Feature flags"
REACH_SAMPLE = 2_000
"""Active customers bucketed to estimate a rollout's reach; enough for about ±2%."""
SWITCHES = ("enable", "disable")
"""The actions an environment's card offers: its on/off switch."""


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


async def _reviewed_copy(
    view: FeatureFlagAdmin, db: AsyncSession, flags: Sequence[FeatureFlag], params: Any
) -> Needed | None:
    """A copy into production waits for a second person when the flag's review rules say
    so, before or after it (as an edit would); one that only turns the flag off never
    does. Other environments are not reviewed: they reach no customer."""
    if params.get("target") != PRODUCTION or not params.get("source"):
        return None
    copy = await flag_copy.asked_copy(db, flags[0], params["source"], params["target"])
    found = copy.changes
    if not found or found == [("enabled", True, False)]:
        return None
    flag = copy.flag
    if not flag.needs_review(copy.source.rollout_percentage):
        return None
    because = (
        review_because(flag)
        if flag.needs_review()
        else f"would be rolled out to more than {REVIEW_ROLLOUT}% of users"
    )
    return Needed(
        f"{flag.key} {because}: a second person reviews copies into production.",
        flag_copy.in_words(view, found),
    )


copy_review = Guard(_reviewed_copy, reads_form=True)


STATE_FORM_OVERRIDES = rule_builder.STATE_FIELDS
STATE_FORM_ARGS: dict[str, dict[str, Any]] = {
    "rules": {
        "default": list,
        "description": "A user gets the flag only when every rule matches; type a value and "
        "press Enter (or a comma) to add it",
    },
    "variants": {
        "default": list,
        "description": "What users get when the flag is on, by weight (out of 100); the "
        "payload is optional JSON",
    },
    "default_value": {"description": "What users get when the flag is off for them (JSON)"},
    "platforms": {"description": "ios, android, web; none means all"},
}
"""How a state's fields are edited, on the flag's form (production) and a state's."""
STATE_WORDS = {
    "rules": lambda state, _name: words.rules_words(state.rules),
    "variants": lambda state, _name: words.variants_words(state.variants),
    "default_value": lambda state, _name: words.value_words(state.default_value),
    "prerequisites": lambda state, _name: words.prerequisites_words(state.prerequisites),
}
"""How a state's rules, variants and default value read on its page: in words, never JSON."""
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


@dataclass(frozen=True)
class EnvironmentCard:
    """One environment's state of a flag, as the flag's page shows it."""

    environment: FlagEnvironment
    state: FlagState
    edit_url: str | None
    switches: list[RecordAction]
    segments: dict[str, tuple[str, str | None]]
    """The segments the state names, by key: their names and pages (None for staff who
    may not open them)."""


class FeatureFlagAdmin(
    FlagTargeting,
    EnvironmentSwitches,
    LastEvaluated,
    ReviewedRestorable,
    StaffView,
    model=FeatureFlag,
):
    """A flag and its production state, which is the flag's own row; the flag's page shows
    every environment's state beside it."""

    default_access = STATE_ACCESS
    icon = "fa-solid fa-flag"
    can_delete = False  # archived instead: the app may still ask for its key
    column_list = [
        FeatureFlag.key,
        FeatureFlag.name,
        FeatureFlag.flag_type,
        ENVIRONMENTS,
        FeatureFlag.rollout_percentage,
        FeatureFlag.platforms,
        FeatureFlag.revision,
        FeatureFlag.updated_at,
    ]
    column_labels = {ENVIRONMENTS: "Environments"}
    column_searchable_list = [FeatureFlag.key, FeatureFlag.name, FeatureFlag.description]
    column_sortable_list = [FeatureFlag.key, FeatureFlag.rollout_percentage, FeatureFlag.updated_at]
    column_default_sort = [(FeatureFlag.updated_at, True)]
    column_formatters = {FeatureFlag.flag_type: type_and_age}
    column_formatters_detail = {FeatureFlag.flag_type: type_and_age, **STATE_WORDS}
    column_filters = [
        ChoiceFilter(FeatureFlag.flag_type),
        YesNoFilter(FeatureFlag.enabled),
        StaleFilter(),
        ArchivedFilter(),
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
        FeatureFlag.included_segments,
        FeatureFlag.excluded_segments,
        FeatureFlag.prerequisites,
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
    detail_panels = [
        "staff/panels/flag_environments.html",
        "staff/panels/flag_preview.html",
        "staff/panels/flag_evaluations.html",
    ]
    history = FLAG_HISTORY

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        if not is_created and data.get("key") not in (None, model.key):
            raise self.refuse(request, {"key": "The key cannot change once the app uses it."})
        named = await self.targeting_problems(str(data.get("key") or model.key), PRODUCTION, data)
        if not is_created and "variants" in data:
            async with self.session_maker() as db:
                lost = await db.run_sync(
                    lambda sync: references.required_variants_problem(
                        sync, model.key, data["variants"]
                    )
                )
            if lost:
                named["variants"] = lost
        if found := named | problems(data):
            raise self.refuse(request, found)
        if not is_created:
            model.revision = (model.revision or 0) + 1

    async def details_context(self, request: Request) -> dict[str, Any]:
        context = await super().details_context(request)
        async with self.session_maker() as db:
            flag = await db.get(FeatureFlag, uuid.UUID(request.path_params["pk"]))
            if flag is None:
                return context
            environments = await flag_copy.environments(db)
            stored = {
                state.environment_id: state
                for state in await db.scalars(
                    sa.select(FlagEnvironmentState).where(FlagEnvironmentState.flag_id == flag.id)
                )
            }
            found = {e.key: state_of(flag, e, stored) for e in environments}
            # A flag written around the app's doors may lack a state: shown as it would be.
            states = {e.key: found[e.key] or new_state(flag, e) for e in environments}
            chosen = request.query_params.get("environment") or PRODUCTION
            chosen = chosen if chosen in states else PRODUCTION
            state = states.get(chosen, flag)
            served = await served_in(db, next(e for e in environments if e.key == chosen))
            cards = [
                await self._card(request, e, states[e.key], found[e.key] is not None)
                for e in environments
            ]
            # The preview names segments as the chosen environment's card does.
            named = next(card.segments for card in cards if card.environment.key == chosen)
            return context | {
                "environment_cards": cards,
                "preview": _preview(
                    flag, served, request, {key: name for key, (name, _page) in named.items()}
                ),
                "preview_environment": chosen,
                "preview_environment_name": next(
                    (e.name for e in environments if e.key == chosen), chosen
                ),
                "reach": await _reach(db, flag, state),
                "platforms": [(p, words.PLATFORM_NAMES[p]) for p in sorted(PLATFORMS)],
                "evaluations": await usage_chart(db, flag.key),
            }

    async def _card(
        self, request: Request, environment: FlagEnvironment, state: FlagState, stored: bool
    ) -> EnvironmentCard:
        """The card of one environment: its state, and the edit and on/off of whichever
        screen holds it (the flag's own for production, a state's for the others)."""
        segments = await self._segment_pages(request, state)
        if not stored:
            return EnvironmentCard(environment, state, None, [], segments)
        view = door.admin_of(self).model_view(state.__tablename__.replace("_", "-"))
        edit_url = None
        if await view.check_can_edit(request, state):
            edit_url = str(request.url_for("admin:edit", identity=view.identity, pk=str(state.id)))
        switches = [a for a in view.record_actions(request, state) if a.name in SWITCHES]
        return EnvironmentCard(environment, state, edit_url, switches, segments)

    async def _segment_pages(
        self, request: Request, state: FlagState
    ) -> dict[str, tuple[str, str | None]]:
        named = {*(state.included_segments or ()), *(state.excluded_segments or ())}
        if not named:
            return {}
        async with self.session_maker() as db:
            rows = await db.execute(
                sa.select(FlagSegment.key, FlagSegment.name, FlagSegment.id).where(
                    FlagSegment.key.in_(named)
                )
            )
        linked = may_view(request, FlagSegment.__tablename__)
        return {
            key: (
                name,
                str(request.url_for("admin:details", identity="flag-segments", pk=str(pk)))
                if linked
                else None,
            )
            for key, name, pk in rows
        }

    async def restore_said(self, _db: AsyncSession, _flag: FeatureFlag) -> dict[str, str]:
        return {"environment": PRODUCTION}

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

    @row_action(
        "archive", "Archive", confirm=ARCHIVE_CONFIRM, when=lambda flag: flag.archived_at is None
    )
    async def archive(
        self, db: AsyncSession, flag: FeatureFlag, _context: ActionContext
    ) -> dict[str, Any]:
        """Served to no app from now on; a flag other flags require stays until they no
        longer do, in any environment."""
        found = await db.run_sync(lambda sync: dependents(sync, flag.key))
        if found:
            raise ActionRefusedError(
                f"{flag.key} cannot be archived: {in_words(found)} require it. Remove it from "
                "their prerequisites first."
            )
        flag.archived_at = utcnow()
        return {}

    @row_action(
        "unarchive",
        "Unarchive",
        confirm=UNARCHIVE_CONFIRM,
        when=lambda flag: flag.archived_at is not None,
    )
    async def unarchive(
        self, _db: AsyncSession, flag: FeatureFlag, _context: ActionContext
    ) -> dict[str, Any]:
        flag.archived_at = None
        return {}

    @row_action(
        "copy",
        "Copy state…",
        form=flag_copy.copy_form,
        one_row=True,
        four_eyes=copy_review,
        page=flag_copy.page,
    )
    async def copy(
        self, db: AsyncSession, flag: FeatureFlag, context: ActionContext
    ) -> dict[str, Any]:
        return await flag_copy.copy_state(self, db, flag, context)


def _preview(
    flag: FeatureFlag, served: Served, request: Request, segment_names: dict[str, str]
) -> dict[str, Any] | None:
    """The saved flag, in the environment picked, evaluated for the context typed into the
    preview form as the doors would (its segments and prerequisites too)."""
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
    compiled = served.by_key.get(flag.key)
    if compiled is None:
        return {"error": served.broken.get(flag.key, f"{flag.key} is not served here.")}
    now = utcnow()
    return {
        "result": evaluate(compiled, context, now),
        "why": explain(compiled, context, now, segment_names).why,
        "asked": dict(params),
    }


async def _reach(db: AsyncSession, flag: FeatureFlag, state: FlagState) -> dict[str, Any]:
    """Roughly how many active customers the state's rollout reaches (before platform and
    rules)."""
    active = User.status == UserStatus.ACTIVE
    total = int(await db.scalar(sa.select(sa.func.count()).select_from(User).where(active)) or 0)
    threshold = int(state.rollout_percentage * 100)
    if total == 0 or threshold >= BUCKETS or threshold == 0:
        share = 1.0 if threshold >= BUCKETS else 0.0
    else:
        sample = list(await db.scalars(sa.select(User.id).where(active).limit(REACH_SAMPLE)))
        share = sum(bucket(flag.key, str(i)) < threshold for i in sample) / len(sample)
    return {"users": round(total * share), "total": total, "share": share}
