from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core import views as core_views
from apps.dispatch.views import agent_card
from apps.identity.webhooks import StripeWebhookView
from apps.payments.webhooks import RailWebhookView
from apps.trust.views import jwks


def _signed_in_staff_go_to_the_admin(request, extra_context=None):
    """What the admin's own login page does for signed-in staff: nothing but send them on.
    Django's login form there would switch accounts without allauth (no second factor,
    no rate limit)."""
    return redirect("admin:index")


# The admin has no login of its own: operators sign in through allauth, so its rate
# limits and MFA apply to them too.
admin.site.login = secure_admin_login(_signed_in_staff_go_to_the_admin)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="identity:me", permanent=False), name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path(".well-known/jwks.json", jwks, name="jwks"),
    path(".well-known/agent-card.json", agent_card, name="agent-card"),
    # Sign in with Gera (OpenID Connect): discovery, and allauth's endpoints under identity/o/.
    path("", include("apps.identity.oidc.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("me/memory/", include("apps.memory.urls")),
    path("me/dispatches/", include("apps.dispatch.urls")),
    path("me/", include("apps.identity.urls")),
    path("webhooks/stripe/", StripeWebhookView.as_view(), name="stripe-webhook"),
    path("webhooks/rails/<slug:rail>/", RailWebhookView.as_view(), name="rail-webhook"),
    path(
        "webhooks/rails/<slug:rail>/<slug:payment_key>/",
        RailWebhookView.as_view(),
        name="rail-webhook-for-payment",
    ),
    path("api/v1/", include("geraos.api")),
    path("api/schema/", core_views.api_read_only(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        core_views.api_read_only(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"^api/", core_views.api_not_found),  # last: whatever the API does not serve
]
