"""/mcp takes the bearer tokens the API takes: an access token the consent page's grant
was issued, as well as a `gera_` token, with the same refusals."""

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import AuthenticationFailed

from apps.identity import services
from apps.identity.models import AgentGrant
from apps.mcp_server.auth import identify
from tests.factories import UserFactory
from tests.identity.oidc_helpers import agent_client
from tests.identity.test_agent_consent import approved_tokens

pytestmark = pytest.mark.django_db


def oauth_access_token(user) -> str:
    return approved_tokens(user, agent_client())["access_token"]


def mcp_request(token: str):
    return RequestFactory().post("/mcp", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_oauth_access_token_calls_tools_under_its_grant():
    user = UserFactory()
    token = oauth_access_token(user)

    caller, grant = identify(mcp_request(token))

    assert caller == user
    assert grant == AgentGrant.objects.get(user=user, oauth_client__isnull=False)


def test_an_oauth_access_token_of_a_revoked_grant_is_refused_as_over_the_api():
    user = UserFactory()
    token = oauth_access_token(user)
    services.agent_grant_revoke(grant=AgentGrant.objects.get(user=user))

    with pytest.raises(AuthenticationFailed) as refused:
        identify(mcp_request(token))

    assert refused.value.get_codes() == "token_revoked"
