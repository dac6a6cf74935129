"""A flag's history: its own row's changes (production's state, and the flag's key, name
and type) and those of its state in each other environment, each under the environment's
name, in the environments' order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views import sqladmin_door as door
from admin_views.shared.flag_copy import environments
from admin_views.shared.flag_wording import FLAG_WORDING
from admin_views.shared.history import History, Strand
from flags.environments import state_of
from models.flags import PRODUCTION, FeatureFlag, FlagEnvironmentState
from models.ops import AuditLog

STATES = "flag-environment-states"
"""The screen of the states outside production."""

COPIED_ELSEWHERE = sa.and_(
    AuditLog.action == "action:copy",
    AuditLog.after["environment"].as_string() != PRODUCTION,
)
"""A copy into another environment is recorded on the flag's row too, and on the state's
with its changes: it belongs to that environment's strand."""


async def strands(view: Any, db: AsyncSession, flag: FeatureFlag) -> list[Strand]:
    stored = {
        state.environment_id: state
        for state in await db.scalars(
            sa.select(FlagEnvironmentState).where(FlagEnvironmentState.flag_id == flag.id)
        )
    }
    states_view = door.admin_of(view).model_view(STATES)
    found = []
    for environment in await environments(db):
        state = state_of(flag, environment, stored)
        if state is flag:
            found.append(
                Strand(
                    environment.key,
                    environment.name,
                    view.resource(),
                    str(flag.id),
                    view,
                    COPIED_ELSEWHERE,
                )
            )
        elif state is not None:
            found.append(
                Strand(
                    environment.key,
                    environment.name,
                    states_view.resource(),
                    str(state.id),
                    states_view,
                )
            )
    return found


FLAG_HISTORY = History(strands=strands, words=FLAG_WORDING)
"""The flag's page: every environment's changes."""
STATE_HISTORY = History(words=FLAG_WORDING)
"""A state's own page, and a segment's: its changes."""
