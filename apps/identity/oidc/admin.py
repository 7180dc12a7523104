"""Sign in with Gera's clients and tokens in the operator admin."""

from allauth.idp.oidc.models import Client, Token
from django.contrib import admin

# allauth registers both on the stock admin. Tokens are seen and ended through the agent
# grants they act under, never one by one.
admin.site.unregister(Client)
admin.site.unregister(Token)
