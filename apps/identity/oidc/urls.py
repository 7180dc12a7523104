"""Sign in with Gera's endpoints: allauth.idp.oidc's, at allauth's paths, but for the
provider's key set, which is not at /.well-known/jwks.json: that is the trust layer's
receipt keys (docs/DESIGN.md, "Sign in with Gera"). The names are allauth's
(`idp:oidc:<name>`), which its views reverse. Every endpoint taking input refuses a NUL
in it (`guards.refuse_nul`)."""

from allauth.idp.oidc import views as allauth_views
from django.urls import include, path

from apps.identity.oidc import views
from apps.identity.oidc.guards import refuse_nul

app_name = "idp"

page, api = refuse_nul(page=True), refuse_nul(page=False)

endpoints = [
    path(".well-known/openid-configuration", allauth_views.configuration, name="configuration"),
    path("identity/o/jwks.json", allauth_views.jwks, name="jwks"),
    path("identity/o/authorize", page(views.authorization), name="authorization"),
    path("identity/o/device", page(views.device_authorization), name="device_authorization"),
    path("identity/o/logout", page(views.logout), name="logout"),
    path("identity/o/api/token", api(views.token), name="token"),
    path("identity/o/api/revoke", api(views.revoke), name="revoke"),
    path("identity/o/api/device/code", api(views.device_code), name="device_code"),
    path("identity/o/api/introspect", api(allauth_views.introspect), name="introspect"),
    path("identity/o/api/userinfo", api(allauth_views.user_info), name="userinfo"),
]

urlpatterns = [path("", include((endpoints, "oidc")))]
