"""The browser trustee page says that key generation is done with the command-line tool."""

from __future__ import annotations

from typing import Any

from tests.app.test_pages_roles import TRUSTEE_EMAIL, TRUSTEE_PASSWORD, _add_trustee, _login


def test_trustee_page_points_to_the_keygen_tool(app: Any, client: Any) -> None:
    _add_trustee(app)
    _login(client, TRUSTEE_EMAIL, TRUSTEE_PASSWORD)
    page = client.get("/trustee/").get_data(as_text=True)
    assert "saylau trustee keygen" in page
    assert "This page does not run key generation." in page
    client.get("/lang?lang=ru&next=/trustee/")
    page = client.get("/trustee/").get_data(as_text=True)
    assert "Эта страница не выполняет генерацию ключа." in page
