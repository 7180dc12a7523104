"""Security headers on user pages, the admin and the API: a Content-Security-Policy under
which no inline script runs without the response's nonce, and the headers `check
--deploy` does not cover (Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy)."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from tests.identity.test_pages import GRANT_FORM

pytestmark = pytest.mark.django_db

USER_PAGES = ["/me/", "/me/agents/", "/me/dispatches/", "/me/memory/", "/me/plan/"]
ADMIN_PAGES = ["/admin/", "/admin/payments/payment/", "/admin/dispatch/dispatchorder/"]


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {name: values for name, *values in directives if name}


class InlineScripts(HTMLParser):
    """The nonce of each script the page runs from its own text (None: no nonce)."""

    def __init__(self) -> None:
        super().__init__()
        self.nonces: list[str | None] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        runs_as_javascript = attributes.get("type") in {None, "", "text/javascript", "module"}
        if tag == "script" and "src" not in attributes and runs_as_javascript:
            self.nonces.append(attributes.get("nonce"))


def assert_inline_scripts_carry_the_nonce(response) -> None:
    scripts = InlineScripts()
    scripts.feed(response.content.decode())
    allowed = policy(response)["script-src"]
    assert "'unsafe-inline'" not in allowed
    for nonce in scripts.nonces:
        assert f"'nonce-{nonce}'" in allowed


def assert_the_other_headers(response) -> None:
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("url", USER_PAGES)
def test_user_pages_run_only_their_own_scripts(user_client, url):
    response = user_client.get(url)

    assert response.status_code == 200
    assert policy(response)["default-src"] == ["'self'"]
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert_inline_scripts_carry_the_nonce(response)
    assert_the_other_headers(response)


def test_the_page_showing_a_new_token_runs_only_its_own_scripts(user_client):
    response = user_client.post(reverse("identity:agents"), GRANT_FORM)

    assert "Copy this token now" in response.content.decode()
    assert_inline_scripts_carry_the_nonce(response)


def test_the_sign_in_page_runs_only_its_own_scripts(client):
    response = client.get(reverse("account_login"))

    assert_inline_scripts_carry_the_nonce(response)
    assert_the_other_headers(response)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_run_only_their_own_scripts(operator_client, url):
    response = operator_client.get(url)

    assert response.status_code == 200
    assert policy(response)["default-src"] == ["'self'"]
    assert_inline_scripts_carry_the_nonce(response)
    assert_the_other_headers(response)


def test_the_api_answers_with_the_headers_too(user_client):
    response = user_client.get("/api/v1/me")

    assert response.status_code == 200
    assert policy(response)["default-src"] == ["'none'"]
    assert_the_other_headers(response)


def test_the_api_docs_run_no_inline_script(client):
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert_inline_scripts_carry_the_nonce(response)
