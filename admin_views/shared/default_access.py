"""The default roles' access, declared by each screen and granted by `swipesavvy-admin migrate`.

A view (or page) says beside its screen what the default roles may do on it:
`default_access = {"support": ("view",), "operations": ("view", "edit", "action:freeze")}`.
Startup refuses a declaration naming a role that is not a default role, or a verb or action
the screen does not offer. `migrate` gives each default role what its screens declare and
it does not have yet. Staff edits on the Roles screen win: every grant given (or found
already there) is remembered in one `settings` row, and a remembered grant is never given
again, so a permission staff took away stays away. Roles staff renamed or deleted are
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.base import StaffPage, StaffView
from admin_views.shared.actions import ActionSpec
from admin_views.shared.screens import TABLE_VERBS
from audit import trail
from auth.permissions import ACTION_PREFIX, WILDCARD, allows
from core import personal_data
from models.base import SoftDelete
from models.ops import DEFAULT_ACCESS_APPLIED, RuntimeSetting
from models.people import Role

DEFAULT_ROLES = ("superadmin", "admin", "operations", "support", "marketing", "analyst", "viewer")
"""The roles migration 0002 creates; declarations may name only these."""
APPLIED_KEY = DEFAULT_ACCESS_APPLIED
APPLIED_DESCRIPTION = (
    "Default-role permissions already granted by `swipesavvy-admin migrate`, as "
    '"role table:verb"; a grant listed here is not given again after staff remove it.'
)
ACTOR = trail.Actor(email="declared default access")
"""How the audit trail names the grants `migrate` gives."""

PERSONAL_DATA_ACCESS = {"admin": ("view",), "support": ("view",)}
"""The default roles that see personal data unmasked (`pii:view`); superadmin sees all."""

ScreenClass = type[StaffView] | type[StaffPage]


class BadDeclarationError(RuntimeError):
    """A screen's `default_access` names an unknown role, verb or action."""


@dataclass(frozen=True, order=True)
class Grant:
    role: str
    resource: str
    verb: str

    @property
    def permission(self) -> str:
        return f"{self.resource}:{self.verb}"

    def __str__(self) -> str:
        return f"{self.role} {self.permission}"


def resource(screen: ScreenClass) -> str:
    if issubclass(screen, StaffView):
        return screen.resource()
    return screen.resource or screen.identity


def offered(screen: ScreenClass) -> tuple[str, ...]:
    """What a role may be granted on the screen, as permission verbs."""
    if not issubclass(screen, StaffView):
        return (WILDCARD, *screen.verbs)
    # As StaffView.__init__ decides, from the class: declaration checks run before any
    # view is instantiated.
    can = {
        "view": True,
        "create": screen.can_create,
        "edit": screen.can_edit,
        "delete": screen.can_delete and not issubclass(screen.model, SoftDelete),
        "export": screen.can_export,
    }
    actions = list(
        dict.fromkeys(
            spec.name
            for klass in reversed(screen.__mro__)
            for member in vars(klass).values()
            if isinstance(spec := getattr(member, "spec", None), ActionSpec)
        )
    )
    every_action = [f"{ACTION_PREFIX}{WILDCARD}"] if actions else []
    return (
        WILDCARD,
        *(verb for verb in TABLE_VERBS if can[verb]),
        *every_action,
        *(f"{ACTION_PREFIX}{name}" for name in actions),
    )


def check(screens: Iterable[ScreenClass]) -> None:
    """Fail at startup, naming the screen, on a declaration that could never be granted."""
    for screen in screens:
        verbs = offered(screen)
        for role, declared in screen.default_access.items():
            where = f"{screen.__qualname__}.default_access"
            if role not in DEFAULT_ROLES:
                raise BadDeclarationError(
                    f"{where}: {role!r} is not a default role; use one of "
                    f"{', '.join(DEFAULT_ROLES)}."
                )
            if isinstance(declared, str):
                raise BadDeclarationError(
                    f"{where}: {role!r} needs a tuple of verbs, e.g. ({declared!r},)."
                )
            for verb in declared:
                if verb not in verbs:
                    raise BadDeclarationError(
                        f"{where}: {role} may {verb!r}, but the {resource(screen)} screen "
                        f"offers only {', '.join(verbs)}."
                    )


def declared_grants(screens: Iterable[ScreenClass]) -> list[Grant]:
    """Every (role, resource, verb) the screens declare, once each, in a stable order."""
    declared = [(resource(screen), screen.default_access) for screen in screens]
    declared.append((personal_data.PERMISSION[0], PERSONAL_DATA_ACCESS))
    return sorted(
        {
            Grant(role, name, verb)
            for name, access in declared
            for role, verbs in access.items()
            for verb in verbs
        }
    )


async def grant_declared(session: AsyncSession, screens: Iterable[ScreenClass]) -> list[Grant]:
    """Give the default roles what `screens` declare, in the session's transaction (the
    caller commits); return the grants given, each one audited."""
    grants = declared_grants(screens)
    memory = await session.scalar(
        sa.select(RuntimeSetting).where(RuntimeSetting.key == APPLIED_KEY)
    )
    remembered = set(memory.value if memory else [])
    roles = {
        role.name: role
        for role in await session.scalars(
            sa.select(Role).where(Role.name.in_({grant.role for grant in grants}))
        )
    }
    given: list[Grant] = []
    for grant in grants:
        role = roles.get(grant.role)
        if role is None or str(grant) in remembered:
            continue
        remembered.add(str(grant))
        if allows(role.permissions, grant.resource, grant.verb):
            continue
        before = list(role.permissions)
        role.permissions = [*before, grant.permission]
        await session.flush()
        await trail.append(
            session,
            ACTOR,
            trail.Entry(
                "update",
                "roles",
                str(role.id),
                before={"permissions": before},
                after={"permissions": role.permissions},
            ),
        )
        given.append(grant)
    if memory is None and remembered:
        session.add(
            RuntimeSetting(
                key=APPLIED_KEY, value=sorted(remembered), description=APPLIED_DESCRIPTION
            )
        )
    elif memory is not None and sorted(remembered) != memory.value:
        memory.value = sorted(remembered)
    await session.flush()
    return given
