"""Operators register Sign in with Gera's clients in the admin: only what GeraOS offers,
redirect URIs a browser may safely be sent to, no agent skipping the consent page, the
secret shown once, every change in the audit log."""

import pytest
from allauth.idp.oidc.models import Client as OIDCClient
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core import audit
from tests.helpers import audit_trail, staff_with

pytestmark = pytest.mark.django_db

ADD = reverse("admin:allauth_idp_oidc_client_add")
CLIENTS = reverse("admin:allauth_idp_oidc_client_changelist")


@pytest.fixture
def catalogue():
    return staff_with(
        "allauth_idp_oidc.view_client",
        "allauth_idp_oidc.add_client",
        "allauth_idp_oidc.change_client",
    )


def client_form(**fields) -> dict:
    return {
        "id": "gerahome",
        "name": "GeraHome",
        "type": "confidential",
        "scopes": "openid\nemail\nplan",
        "default_scopes": "",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": "https://home.gera.example/callback",
        "post_logout_redirect_uris": "https://home.gera.example/signed-out",
        "cors_origins": "",
        **fields,
    }


def messages_of(response) -> list[str]:
    return [message.message for message in response.context["messages"]]


def test_an_operator_registers_a_product_and_is_shown_its_secret_once(catalogue):
    response = catalogue.post(ADD, client_form(skip_consent="on"), follow=True)

    client = OIDCClient.objects.get(id="gerahome")
    (shown,) = [text for text in messages_of(response) if "client secret" in text]
    secret = shown.split("client secret ")[1].split(" ")[0]
    assert client.check_secret(secret)
    assert client.get_post_logout_redirect_uris() == ["https://home.gera.example/signed-out"]
    assert client.get_response_types() == ["code"]
    (event,) = audit_trail()
    assert event[0] == "allauth_idp_oidc.client.add"
    assert event[2]["secret"] == list(audit.SECRET_CHANGE)
    assert secret not in str(event)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": "openid\ndispatch:create", "skip_consent": "on"}, "skip_consent"),
        ({"scopes": "openid\nadmin"}, "scopes"),
        ({"redirect_uris": "https://*.gera.example/callback"}, "redirect_uris"),
        ({"redirect_uris": "http://home.gera.example/callback"}, "redirect_uris"),
        ({"redirect_uris": "https://home.gera.example/callback#here"}, "redirect_uris"),
        ({"post_logout_redirect_uris": "javascript:alert(1)"}, "post_logout_redirect_uris"),
        ({"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}, "type"),
        ({"grant_types": ["client_credentials"]}, "grant_types"),
    ],
)
def test_a_client_geraos_would_not_serve_safely_is_refused(catalogue, fields, field):
    response = catalogue.post(ADD, client_form(**fields))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not OIDCClient.objects.exists()


def test_a_new_secret_replaces_the_old_one_at_once_and_is_audited(catalogue):
    catalogue.post(ADD, client_form())
    client = OIDCClient.objects.get(id="gerahome")
    old_hash = client.secret

    response = catalogue.post(
        CLIENTS, {"action": "new_secret", ACTION_CHECKBOX_NAME: [client.pk]}, follow=True
    )

    client.refresh_from_db()
    assert client.secret != old_hash
    assert any("client secret" in text for text in messages_of(response))
    assert audit_trail()[-1][:3] == (
        "identity.oidc_client_new_secret",
        "allauth_idp_oidc.client:gerahome",
        {"secret": list(audit.SECRET_CHANGE)},
    )
