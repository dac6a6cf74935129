"""Where a staff member may go: the tables their role opens, and the page to go back to."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from auth.middleware import current_staff
from auth.permissions import allows


def may_view(request: Request, table: str) -> bool:
    staff = current_staff(request)
    return staff is not None and allows(staff.permissions, table, "view")


def back_to(request: Request, fallback: str, asked: str = "") -> str:
    """Where the staff member came from, if it is a page of this admin: `asked` (an action
    form's own `next`), else the referring page. Never an action's URL, which only takes
    POST, and never another site."""
    for candidate in (urlsplit(asked), urlsplit(request.headers.get("referer", ""))):
        if candidate.netloc not in ("", request.url.netloc) or candidate.scheme not in (
            "",
            request.url.scheme,
        ):
            continue
        if candidate.path.startswith("/admin") and "/action/" not in candidate.path:
            return candidate.path + (f"?{candidate.query}" if candidate.query else "")
    return fallback
