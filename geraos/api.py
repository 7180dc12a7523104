"""The versioned API: every app's `api/urls.py` is mounted here under /api/v1/."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("apps.identity.api.urls")),
    path("", include("apps.memory.api.urls")),
    path("", include("apps.trust.api.urls")),
    path("", include("apps.payments.api.urls")),
    path("", include("apps.dispatch.api.urls")),
]
