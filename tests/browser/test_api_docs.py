"""The API docs (Swagger UI) render under the Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_show_the_operations(page):
    page.goto("/api/docs/")

    expect(page.get_by_text("GeraOS API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/dispatches").first).to_be_visible()
