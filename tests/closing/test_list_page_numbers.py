"""The post-case lists read their page number (and filters) like every other list: a named 400, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

LISTS = ["/closing/", "/self-evaluation/", "/followups/complaints"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("value", ["²", "12abc", "9" * 40])
def test_post_case_list_with_an_odd_page_number_is_a_named_400(client: Any, make_user: Any, login: Any, path: str,
                                                              value: str) -> None:
    login(client, make_user("organiser"))
    response = client.get(path, query_string={"page": value}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "page must be a whole number from 0 to 1000000000." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", LISTS)
def test_post_case_list_second_page_is_shown(client: Any, make_user: Any, login: Any, path: str) -> None:
    login(client, make_user("organiser"))
    assert client.get(path, query_string={"page": "2"}).status_code == 200


def test_closing_list_filter_that_is_not_a_number_is_a_named_400(client: Any, make_user: Any, login: Any) -> None:
    login(client, make_user("organiser"))
    response = client.get("/closing/", query_string={"year": "²"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "year must be a whole number" in response.get_data(as_text=True)
