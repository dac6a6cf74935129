"""The search box's query and answer (admin_views/shared/find_anything.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from admin_views.shared.find_anything import GROUPS, MAX_TERM
from admin_views.shared.search import Exact
from api.schemas import Closed, one_of


class SearchQuery(BaseModel):
    q: str = Field(
        description="An email, a phone number, a UUID, a TXN-/TCK- reference, four digits (a "
        f"card's last four) or text; 1 to {MAX_TERM} characters with a letter or a digit."
    )


class SearchHit(Closed):
    label: str = Field(description="How staff read the record (a name, a reference).")
    url: str = Field(description="The record's page in the admin.")
    badge: str = Field(description="The record's state in one word; empty when it has none.")
    colour: str = Field(description="The badge's colour, as the admin's lists show it.")


class SearchGroup(Closed):
    table: one_of(GROUPS) = Field(description="The table the hits are rows of.")  # type: ignore[valid-type]
    title: str = Field(description="The group's heading, e.g. Customers.")
    list_name: str = Field(description="The name of the table's list in the admin.")
    see_all: str = Field(description="The list, filtered by the same term.")
    hits: list[SearchHit] = Field(description="The best matches first, at most five.")
    more: bool = Field(description="More rows match than the hits listed.")
    searching: bool = Field(
        description="The table did not answer in time: its hits are left out, not missing."
    )


class SearchAnswer(Closed):
    term: str = Field(description="The term as searched, trimmed.")
    kind: one_of([*Exact, "text"]) = Field(description="What the term was read as.")  # type: ignore[valid-type]
    groups: list[SearchGroup] = Field(
        description="One per table the role may view that has hits or is still searching."
    )
