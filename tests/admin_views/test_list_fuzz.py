"""Every list page, fuzzed through its query string: search terms with control characters
and NUL bytes, unknown sort columns, broken cursors and page numbers, filter values that
are not among the choices. The answer is the list or a 400 that says what is wrong, never
a server error."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import admin_views
from admin_views.base import StaffView
from tests.admin_views.test_form_fuzz import NASTY, identity

LISTED = sorted(admin_views.discover_views(), key=lambda view: view.__name__)
SMALL_NASTY = NASTY.filter(lambda value: len(value) < 2_000)


def parameters(view: type[StaffView]) -> list[str]:
    names = ["search", "sortBy", "sort", "page", "pageSize", "after", "before", "count"]
    for filter_ in view.column_filters:
        names.append(filter_.parameter_name)
        names.append(f"{filter_.parameter_name}_to")
    return names


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_fuzzed_list_query_answers_the_list_or_a_clear_400(
    reader: httpx.AsyncClient, data: st.DataObject
) -> None:
    view = data.draw(st.sampled_from(LISTED), label="view")
    names = data.draw(st.lists(st.sampled_from(parameters(view)), min_size=1, max_size=4))
    query = {name: data.draw(SMALL_NASTY, label=name) for name in names}

    response = await reader.get(f"/admin/{identity(view)}/list", params=query)

    assert response.status_code in (200, 400), (response.status_code, response.text[-600:])
    if response.status_code == 400:
        assert "Traceback" not in response.text


async def test_a_nul_byte_in_a_search_is_refused_clearly(reader: httpx.AsyncClient) -> None:
    response = await reader.get("/admin/users/list", params={"search": "ann\x00"})

    assert response.status_code in (200, 400), response.text[-600:]
