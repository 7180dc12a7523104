"""Every API error has one shape: {"error": {"code", "message", "fields"}}."""

import json

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_400_names_each_invalid_field(user_client, user):
    response = user_client.patch(
        "/api/v1/me",
        {"country": "XX", "preferred_currency": "NOPE"},
        content_type="application/json",
    )

    error = assert_error(response, 400, "validation_error")
    assert error["fields"]["country"][0]["code"] == "invalid_choice"
    assert error["fields"]["preferred_currency"][0]["code"] == "invalid_choice"
    user.refresh_from_db()
    assert user.country.code == "GB"


def test_400_for_malformed_json(user_client):
    response = user_client.patch("/api/v1/me", "{not json", content_type="application/json")

    assert_error(response, 400, "parse_error")


def test_401_for_anonymous_caller_with_the_bearer_challenge(client):
    response = client.get("/api/v1/me")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="geraos"'


def test_404_for_unknown_api_url(user_client):
    assert_error(user_client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_404_for_unknown_api_url_is_json_in_debug_too(client, settings):
    settings.DEBUG = True

    assert_error(client.get("/api/nothing-here"), 404, "not_found")


UNSAFE = ["post", "put", "patch", "delete"]


@pytest.mark.parametrize("method", UNSAFE)
@pytest.mark.parametrize("url", ["/api/", "/api/v1/no-such-thing", "/api/v1/dispatches/"])
def test_unknown_api_urls_answer_json_404_to_every_method(user, method, url):
    """A signed-in browser without a CSRF token was refused by Django's HTML CSRF page."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert_error(getattr(browser, method)(url), 404, "not_found")


@pytest.mark.parametrize("method", [*UNSAFE, "options"])
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_the_docs_answer_json_to_other_methods(user, method, url):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = getattr(browser, method)(url)

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/receipts/verify", {"jws": 0}, "jws"),
        ("/api/v1/quotes", {"amount": 30, "currency": "GBP"}, "amount"),
        ("/api/v1/quotes", {"amount": "30.00", "currency": True}, "currency"),
        ("/api/v1/me", {"name": 7}, "name"),
    ],
)
def test_a_value_of_another_json_type_than_the_schemas_is_a_400(user_client, url, body, field):
    """DRF would read 0 as "0" (and 30 as 30.00): the schema says a string."""
    response = user_client.generic(
        "PATCH" if url == "/api/v1/me" else "POST",
        url,
        json.dumps(body),
        content_type="application/json",
    )

    error = assert_error(response, 400, "validation_error")
    assert error["fields"][field][0]["code"] == "invalid_type"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dispatches?status=",
        "/api/v1/skills?country=",
        "/api/v1/memory?product=gerahome&scope=preferences&purpose=",
    ],
)
def test_an_empty_query_value_is_a_400_not_a_missing_one(catalog, user_client, url):
    """`?status=` filtered nothing (DRF reads an empty value as none): it is a mistake."""
    error = assert_error(user_client.get(url), 400, "validation_error")

    (field,) = error["fields"]
    assert url.endswith(f"{field}=")


def test_405_for_unsupported_method(user_client):
    assert_error(user_client.delete("/api/v1/me"), 405, "method_not_allowed")


def test_415_for_form_encoded_body(user_client):
    assert_error(user_client.patch("/api/v1/me", "name=x"), 415, "unsupported_media_type")


# --- views that exist only to drive the handler through the remaining paths ------------


class BearerOnly(BaseAuthentication):
    def authenticate(self, request):
        return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class NeedsBearer(APIView):
    authentication_classes = [BearerOnly]


class RefusesByRule(APIView):
    permission_classes = []

    def get(self, request):
        raise ApplicationError(
            "GeraHome may not read Health.",
            code="consent_required",
            status=403,
            extra={"product": "gerahome", "scope": "health"},
        )


class Crashes(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("secret internal detail")


class Fine(APIView):
    permission_classes = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/bearer", NeedsBearer.as_view()),
    path("api/v1/rule", RefusesByRule.as_view()),
    path("api/v1/crash", Crashes.as_view()),
    path("api/v1/fine", Fine.as_view()),
]


@override_settings(ROOT_URLCONF=__name__)
def test_401_carries_the_challenge(client):
    response = client.get("/api/v1/bearer")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@override_settings(ROOT_URLCONF=__name__)
def test_application_error_keeps_its_code_and_details(client):
    error = assert_error(client.get("/api/v1/rule"), 403, "consent_required")

    assert error["details"] == {"product": "gerahome", "scope": "health"}


@override_settings(ROOT_URLCONF=__name__)
def test_500_hides_internals(client):
    client.raise_request_exception = False

    error = assert_error(client.get("/api/v1/crash"), 500, "error")

    assert "secret" not in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"jws": NaN}',
        '{"jws": 1e400}',
        '{"jws": ' + "1" * 5000 + "}",
        '{"jws": "\\ud800"}',
    ],
    ids=["nested-too-deep", "nan", "infinite", "too-many-digits", "lone-surrogate"],
)
def test_json_no_one_could_send_back_is_a_400(client, body):
    client.raise_request_exception = False

    response = client.post("/api/v1/receipts/verify", body, content_type="application/json")

    assert_error(response, 400, "parse_error")


def test_a_body_over_the_size_limit_is_a_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.raise_request_exception = False

    response = client.post(
        "/api/v1/receipts/verify", {"jws": "x" * 2000}, content_type="application/json"
    )

    assert_error(response, 413, "request_too_large")
