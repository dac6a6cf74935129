"""Permission strings and the one rule that reads them. Pure: no request, no database.

A permission is `<resource>:<verb>`: the resource is a table name (or a page such as
`dashboard`), the verb is view, create, edit, delete, export or action:<name>. `*` stands
for any resource or any verb, and `action:*` for every action.
"""

from __future__ import annotations

from collections.abc import Iterable

WILDCARD = "*"
ACTION_PREFIX = "action:"

VERB_FOR_SQLADMIN_ACTION = {
    "list": "view",
    "details": "view",
    "create": "create",
    "edit": "edit",
    "delete": "delete",
    "export": "export",
    "import": "import",
}
"""SQLAdmin asks about list/details/...; staff roles speak of view/edit/..."""


def allows(granted: Iterable[str], resource: str, verb: str) -> bool:
    """Whether any of the `granted` permission strings covers `verb` on `resource`."""
    for permission in granted:
        if permission == WILDCARD:
            return True
        granted_resource, _, granted_verb = permission.partition(":")
        if granted_resource not in (WILDCARD, resource):
            continue
        if granted_verb in (WILDCARD, verb):
            return True
        if granted_verb == f"{ACTION_PREFIX}{WILDCARD}" and verb.startswith(ACTION_PREFIX):
            return True
    return False


def verb_for(sqladmin_action: str) -> str:
    """Our verb for an action name SQLAdmin asks about (`action:x` passes through)."""
    if sqladmin_action.startswith(ACTION_PREFIX):
        return sqladmin_action
    return VERB_FOR_SQLADMIN_ACTION.get(sqladmin_action, sqladmin_action)


def resource_for(identity: str) -> str:
    """Screens are routed by the table name with dashes: `wallet-transactions`."""
    return identity.replace("-", "_")


KNOWN_VERBS = frozenset({WILDCARD, "view", "create", "edit", "delete", "export", "import"})


def is_well_formed(permission: str) -> bool:
    """`*`, or `<resource>:<verb>` with a known verb or `action:<name>`."""
    if permission == WILDCARD:
        return True
    resource, _, verb = permission.partition(":")
    if not resource or not verb or " " in permission:
        return False
    if verb.startswith(ACTION_PREFIX):
        return len(verb) > len(ACTION_PREFIX)
    return verb in KNOWN_VERBS
