"""Sign in with Gera's endpoints: allauth.idp.oidc's, at allauth's paths, but for the
provider's key set, which is not at /.well-known/jwks.json: that is the trust layer's
receipt keys (docs/DESIGN.md, "Sign in with Gera"). The names are allauth's
(`idp:oidc:<name>`), which its views reverse."""

from allauth.idp.oidc import views as allauth_views
from django.urls import include, path

from apps.identity.oidc import views

app_name = "idp"

endpoints = [
    path(".well-known/openid-configuration", allauth_views.configuration, name="configuration"),
    path("identity/o/jwks.json", allauth_views.jwks, name="jwks"),
    path("identity/o/authorize", views.authorization, name="authorization"),
    path("identity/o/device", views.device_authorization, name="device_authorization"),
    path("identity/o/logout", views.logout, name="logout"),
    path("identity/o/api/token", views.token, name="token"),
    path("identity/o/api/revoke", allauth_views.revoke, name="revoke"),
    path("identity/o/api/device/code", views.device_code, name="device_code"),
    path("identity/o/api/introspect", allauth_views.introspect, name="introspect"),
    path("identity/o/api/userinfo", allauth_views.user_info, name="userinfo"),
]

urlpatterns = [path("", include((endpoints, "oidc")))]
