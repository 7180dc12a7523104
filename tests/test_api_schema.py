"""The OpenAPI document is valid, a client generated from it works, and schemathesis over
/api/schema/, in-process against the WSGI app, passes every check for generated requests —
anonymous, from a signed-in browser and from an agent token."""

import importlib
import json
import subprocess
import sys

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance

from geraos.wsgi import application
from tests.factories import UserFactory, make_grant

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# A request the schema calls valid may still be refused by a rule of the domain (an
# unknown product, a proof for a size the log never had, a reused Idempotency-Key), each
# with its own code; it is never refused as malformed. (schemathesis' own
# positive_data_acceptance takes any 400 as "malformed", and GeraOS answers most domain
# refusals with a 400.)
MALFORMED = {
    "parse_error",
    "unsupported_media_type",
    "idempotency_key_required",
    "idempotency_key_invalid",
}
# DRF's codes for a field that is not what its type and bounds say.
MALFORMED_FIELD = {
    "invalid", "invalid_type", "required", "null", "blank", "max_length", "min_length",
    "max_value", "min_value", "invalid_choice", "not_a_list", "not_a_dict", "empty",
    "null_characters_not_allowed", "surrogate_characters_not_allowed", "max_digits",
    "max_decimal_places", "max_whole_digits", "date", "datetime", "make_aware", "overflow",
    "max_string_length",
}  # fmt: skip


@schemathesis.check
def valid_requests_are_not_refused_as_malformed(ctx, response, case) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 400:
        return
    error = json.loads(response.content)["error"]
    field_codes = {item["code"] for items in error["fields"].values() for item in items}
    refused_as_malformed = f"A request the schema calls valid was refused as malformed: {error}"
    assert error["code"] not in MALFORMED, refused_as_malformed
    assert not field_codes & MALFORMED_FIELD, refused_as_malformed


def openapi_document(client) -> dict:
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_the_openapi_document_is_valid(client):
    """Clients generated from an invalid document silently lose operations."""
    validate(openapi_document(client))


@pytest.fixture
def signed_in_browser(db) -> dict[str, str]:
    """The headers of a signed-in browser session, CSRF token included; one account
    serves every example of an operation."""
    client = Client()
    client.force_login(UserFactory())
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={session}; "
    cookie += f"{django_settings.CSRF_COOKIE_NAME}={csrf}"
    return {"Cookie": cookie, "X-CSRFToken": csrf}


@pytest.fixture
def agent_token(db) -> dict[str, str]:
    _, token = make_grant(UserFactory())
    return {"Authorization": f"Bearer {token}"}


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
    """Every check schemathesis has, positive_data_acceptance replaced by the one above."""
    for headers in ({}, signed_in_browser, agent_token):
        response = case.call(headers=headers)
        # Told the headers, ignored_auth knows these credentials are ours, not generated.
        case.validate_response(
            response, headers=headers, excluded_checks=[positive_data_acceptance]
        )


@pytest.mark.django_db(transaction=True)
def test_a_client_generated_from_the_schema_books_the_plumber(
    live_server, catalog, tmp_path, monkeypatch
):
    """openapi-python-client, as an agent's developer would run it; an operation the
    document describes badly is left out of the client with only a warning."""
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(openapi_document(Client())))
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter to run
    generator = subprocess.run(  # noqa: S603 - the generator from requirements-dev
        [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none",
         "--path", str(document), "--output-path", str(tmp_path / "geraos_client"),
         "--config", str(tmp_path / "config.yaml"), "--fail-on-warning"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert generator.returncode == 0, generator.stdout  # e.g. "Endpoint will not be generated"
    monkeypatch.syspath_prepend(str(tmp_path))
    generated = importlib.import_module("geraos_client")
    dispatches = importlib.import_module("geraos_client.api.dispatches")
    models = importlib.import_module("geraos_client.models")
    _, token = make_grant(
        UserFactory(country="GB", preferred_currency="GBP"),
        scopes=["dispatch:create", "dispatch:read"],
    )
    agent = generated.AuthenticatedClient(base_url=live_server.url, token=token)

    booked = importlib.import_module(f"{dispatches.__name__}.dispatches_create").sync(
        client=agent,
        idempotency_key="generated-client-1",
        body=models.DispatchCreateRequest(
            text="book a plumber in Lagos under £50",
            details=models.DispatchCreateRequestDetails.from_dict(
                {"problem": "The kitchen tap is leaking", "address_area": "Ikoyi"}
            ),
        ),
    )
    listed = importlib.import_module(f"{dispatches.__name__}.dispatches_list").sync(
        client=agent, status=models.DispatchesListStatus.COMPLETED
    )

    assert isinstance(booked, models.DispatchCreated), booked
    assert booked.provider["name"] == "Lagos Plumber A"
    assert [order.id for order in listed] == [booked.id]
