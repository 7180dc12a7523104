"""Authorization and device codes: the grant each was approved with, so the tokens they
are exchanged for are tied to it."""

import hashlib

from allauth.idp.oidc import app_settings
from django.core.cache import cache

from apps.identity.models import AgentGrant


def _key(kind: str, code: str) -> str:
    return f"geraos.oidc.{kind}[{hashlib.sha256(code.encode()).hexdigest()}]"


def remember_grant(*, code: str, grant: AgentGrant) -> None:
    """The grant the person approved with this authorization code."""
    timeout = app_settings.AUTHORIZATION_CODE_EXPIRES_IN
    cache.set(_key("code-grant", code), str(grant.pk), timeout=timeout)


def remember_device_grant(*, device_code: str, grant: AgentGrant) -> None:
    timeout = app_settings.DEVICE_CODE_EXPIRES_IN
    cache.set(_key("device-grant", device_code), str(grant.pk), timeout=timeout)


def device_grant(device_code: str) -> AgentGrant | None:
    return _grant(cache.get(_key("device-grant", device_code)))


def code_grant(code: str) -> AgentGrant | None:
    return _grant(cache.get(_key("code-grant", code))) if code else None


def _grant(grant_id: str | None) -> AgentGrant | None:
    return AgentGrant.objects.filter(pk=grant_id).first() if grant_id else None
