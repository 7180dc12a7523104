"""Schemathesis over /api/schema/, in-process against the WSGI app: for generated
requests — anonymous, from a signed-in browser and from an agent token — no 5xx and no
response that breaks the schema."""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from geraos.wsgi import application
from tests.factories import UserFactory, make_grant

CHECKS = [not_a_server_error, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def signed_in_browser(db) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a signed-in browser session, CSRF token included; one
    account serves every example of an operation."""
    client = Client()
    client.force_login(UserFactory())
    csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[
            django_settings.SESSION_COOKIE_NAME
        ].value,
        django_settings.CSRF_COOKIE_NAME: csrf,
    }
    return cookies, {"X-CSRFToken": csrf}


@pytest.fixture
def agent_token(db) -> tuple[dict[str, str], dict[str, str]]:
    _, token = make_grant(UserFactory())
    return {}, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keep_test_connection():
    """Raw WSGI calls close the connection at request end, which would end the test's
    transaction; Django's test client disconnects the same handlers for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_test_connection")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, signed_in_browser, agent_token):
    for cookies, headers in (({}, {}), signed_in_browser, agent_token):
        response = case.call(cookies=cookies, headers=headers)
        case.validate_response(response, checks=CHECKS)
